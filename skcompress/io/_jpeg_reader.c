/* Quantized DCT coefficients of JPEG files, read with libjpeg: entropy decoding
 * only, no inverse DCT, no colour conversion, no upsampling.
 *
 * header(data, strict, max_scans, max_coefficients)
 *                  -> (width, height, colour space, progressive, components)
 *                  where components = ((id, h_samp, v_samp, rows, cols, table), ...),
 *                  rows x cols the component's blocks.
 * read(data, strict, k, type, dequantize, outputs, grids, tables, max_scans,
 *      max_coefficients)
 *                  writes, per component, a grid of blocks (zero blocks where the
 *                  grid is larger than the file's, the file's cropped where
 *                  smaller), each the first k coefficients in JPEG's zig-zag
 *                  order as int16/int32/float32/float64 (times the quantization
 *                  step with dequantize), and the quantization tables (natural
 *                  order, uint16) when `tables` is not 0. Returns the number of
 *                  problems found (libjpeg's warnings and the checks below; with
 *                  `strict` the first one is an error), the file's own block
 *                  grids, its colour space and its sampling factors.
 *
 * write(inputs, strides, int32, n_images, grids, k, width, height, colour space, factors,
 *       table numbers, tables, n_tables, progressive, reference)
 *                  (-1, [bytes, ...]): JPEG files of a batch of images' coefficients
 *                  (int16 or int32, k a block in zig-zag order, rows x cols blocks per
 *                  component, the grids libjpeg computes from the size and sampling
 *                  factors; each image contiguous, `strides` bytes after the one before),
 *                  written by jpeg_write_coefficients with optimized Huffman tables,
 *                  baseline (or extended sequential with 16-bit tables), or progressive
 *                  with libjpeg's default script; or (i, None) where image i holds a
 *                  coefficient beyond libjpeg's Huffman coder (the caller says which).
 *                  One libjpeg object writes them all, without the GIL. Sequential files
 *                  take one pass: the symbols are counted while the blocks are copied in,
 *                  and the tables built as libjpeg's optimizing pass builds them (the same
 *                  bytes); progressive files, and `reference`, take libjpeg's two passes
 *                  (`reference`: and only libjpeg's own checks).
 *
 * Budgets, checked before libjpeg allocates anything: the scans (SOS markers
 * counted by a walk over the marker segments, and libjpeg's own count in the
 * progress monitor for what the walk cannot see) and the coefficients the file
 * declares (libjpeg's buffers hold 2 bytes each). A file over a budget raises
 * LimitError, a ValueError, whatever `strict`.
 *
 * What `strict` refuses beyond libjpeg's warnings:
 * - Huffman-coded data shorter than one bit a block (every block costs at least
 *   its DC code), before anything is allocated;
 * - arithmetic-coded data that ends early. libjpeg's arithmetic decoder reads
 *   zero bits after a marker without a warning, as T.81 lets an encoder drop the
 *   zero bytes that end a scan: libjpeg's does, and valid files end a scan's data
 *   early wherever the rest is flat or repeats what came before. A scan cut short
 *   and closed by a marker reads the same way, so the check judges what the
 *   padding decodes: more than PADDING_VALUES nonzero AC coefficients (or as many
 *   nonzero DC differences, in one block of four or more) in one restart
 *   interval, in blocks unlike those of the last RECENT_MCUS MCUs read from data,
 *   mean data is missing. A heuristic: a cut that leaves flat blocks passes.
 *   Lenient reading leaves the rest of such a scan zero, as libjpeg's Huffman
 *   decoder does with a scan cut short;
 * - coefficients that no scan sends, or sends only in part (a progressive file
 *   cut at a scan boundary, a component in no scan);
 * - a quantization table with a zero step (T.81 B.2.4.1: steps are 1..65535).
 *
 * Each component's quantization table is the one libjpeg latched when the
 * component's first scan began (a DQT segment may redefine a table later, for
 * later components; the decoded pixels use the latched one).
 *
 * libjpeg's fatal errors long-jump back here and become ValueErrors with its
 * message; nothing it reports ever exits the process. Decoding runs without
 * the GIL, so threads read files in parallel.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#define SKC_MAX_COMPONENTS 4
#define MESSAGE_LENGTH 512
/* Nonzero AC coefficients and DC differences that the zero padding after a marker may
 * decode in one restart interval of an arithmetic-coded scan, in blocks unlike those
 * of the RECENT_MCUS MCUs before the marker, before the data counts as cut short.
 * Valid files written by libjpeg-turbo decode at most 2 so (photographs, flat areas,
 * stripes, checkers and gradients, sequential and progressive); scans cut in half,
 * hundreds. */
#define PADDING_VALUES 64
#define RECENT_MCUS 16

static const int kZigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

enum { T_INT16, T_INT32, T_FLOAT32, T_FLOAT64 };

static PyObject *LimitError; /* a budget exceeded: a ValueError subclass */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int strict;
    int warnings; /* problems found: libjpeg's warnings and our checks */
    int limit;    /* the error is a budget exceeded */
    char message[MESSAGE_LENGTH];
} Errors;

/* The start of libjpeg's private `struct jpeg_entropy_decoder` (jpegint.h): the same
 * two methods first in every libjpeg since 6b (IJG 6b-9f, libjpeg-turbo, mozjpeg). */
typedef struct {
    void (*start_pass)(j_decompress_ptr cinfo);
    boolean (*decode_mcu)(j_decompress_ptr cinfo, JBLOCKROW *MCU_data);
} EntropyMethods;

typedef struct {
    struct jpeg_progress_mgr pub;
    int max_scans;
    /* arithmetic coding: libjpeg's methods, wrapped to watch the zero padding */
    int wrapped;
    void (*start_pass)(j_decompress_ptr cinfo);
    boolean (*decode_mcu)(j_decompress_ptr cinfo, JBLOCKROW *MCU_data);
    unsigned long mcu;  /* MCUs of this scan so far */
    long padded;        /* nonzero AC coefficients decoded from padding, this interval */
    long padded_dc;     /* nonzero DC differences decoded from padding, this interval */
    long padded_blocks; /* blocks of DC scans decoded from padding, this interval */
    int cut_scan;       /* the last scan found cut short */
    /* the blocks of the last MCUs decoded from data only, and their DC differences:
     * pointers into libjpeg's whole-image buffers, which its default memory manager
     * keeps in memory (with a backing store they could see other rows' blocks: the
     * check would be less exact, never out of bounds) */
    JBLOCKROW recent[RECENT_MCUS][D_MAX_BLOCKS_IN_MCU];
    int recent_diff[RECENT_MCUS][D_MAX_BLOCKS_IN_MCU];
    int n_recent, next_recent;
    int last_dc[MAX_COMPS_IN_SCAN]; /* the last DC decoded, each component of the scan */
} Monitor;

static void on_error(j_common_ptr cinfo) {
    Errors *e = (Errors *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    Errors *e = (Errors *)cinfo->err;
    if (level >= 0) return; /* trace messages */
    e->warnings++;
    if (e->strict) {
        (*cinfo->err->format_message)(cinfo, e->message);
        longjmp(e->jump, 1);
    }
}

/* A problem strict refuses and lenient counts (a warning of our own). */
static void problem(j_common_ptr cinfo, const char *format, ...) {
    Errors *e = (Errors *)cinfo->err;
    e->warnings++;
    if (e->strict) {
        va_list args;
        va_start(args, format);
        vsnprintf(e->message, sizeof e->message, format, args);
        va_end(args);
        longjmp(e->jump, 1);
    }
}

/* A budget exceeded: an error in both modes. */
static void over_limit(j_common_ptr cinfo, const char *format, ...) {
    Errors *e = (Errors *)cinfo->err;
    va_list args;
    va_start(args, format);
    vsnprintf(e->message, sizeof e->message, format, args);
    va_end(args);
    e->limit = 1;
    longjmp(e->jump, 1);
}

static void silent(j_common_ptr cinfo) { (void)cinfo; }

static struct jpeg_error_mgr *errors(Errors *err, int strict) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error;
    err->pub.emit_message = on_message;
    err->pub.output_message = silent;
    err->strict = strict;
    err->warnings = 0;
    err->limit = 0;
    err->message[0] = 0;
    return &err->pub;
}

static void setup(struct jpeg_decompress_struct *cinfo, Errors *err, int strict) {
    cinfo->err = errors(err, strict);
}

/* SOS markers of a file, counted by walking its marker segments and skipping each
 * scan's entropy-coded data; the walk stops at anything unexpected (libjpeg may skip
 * it with a warning), so the count is a lower bound of the scans libjpeg reads. */
static long count_scans(const unsigned char *p, size_t n) {
    long scans = 0;
    size_t i = 2;
    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return 0;
    while (i + 4 <= n && p[i] == 0xFF) {
        const unsigned char code = p[i + 1];
        if (code == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (code == 0xD9 || code == 0xD8 || code == 0x00 || code == 0x01 ||
            (code >= 0xD0 && code <= 0xD7))
            break;
        const size_t length = (size_t)p[i + 2] << 8 | p[i + 3];
        if (length < 2) break;
        i += 2 + length;
        if (code != 0xDA) continue;
        scans++;
        while (i < n) { /* entropy-coded data ends at a marker other than RSTn */
            const unsigned char *ff = memchr(p + i, 0xFF, n - i);
            if (!ff || ff + 1 >= p + n) return scans;
            i = (size_t)(ff - p);
            const unsigned char next = p[i + 1];
            if (next == 0x00 || (next >= 0xD0 && next <= 0xD7))
                i += 2;
            else if (next == 0xFF)
                i += 1;
            else
                break;
        }
    }
    return scans;
}

/* Coefficients libjpeg allocates for the file (its buffers, whole MCUs). */
static long long declared_coefficients(struct jpeg_decompress_struct *cinfo) {
    long long total = 0;
    for (int c = 0; c < cinfo->num_components; c++) {
        const jpeg_component_info *comp = cinfo->comp_info + c;
        const long long rows = ((long long)comp->height_in_blocks + comp->v_samp_factor - 1) /
                               comp->v_samp_factor * comp->v_samp_factor;
        const long long cols = ((long long)comp->width_in_blocks + comp->h_samp_factor - 1) /
                               comp->h_samp_factor * comp->h_samp_factor;
        total += rows * cols * 64;
    }
    return total;
}

/* Checks that need no decoding; a message in `why` when the header is refused. The
 * budget and the size check long-jump (LimitError, or a problem). */
static int check_header(struct jpeg_decompress_struct *cinfo, char *why, size_t size,
                        long long max_coefficients, size_t data_length) {
    if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
        snprintf(why, size, "CMYK and YCCK JPEGs are not supported (4 components of ink)");
        return 0;
    }
    if (cinfo->num_components != 1 && cinfo->num_components != 3) {
        snprintf(why, size, "JPEGs with %d components are not supported (1 or 3)",
                 cinfo->num_components);
        return 0;
    }
    const long long coefficients = declared_coefficients(cinfo);
    if (coefficients > max_coefficients)
        over_limit((j_common_ptr)cinfo,
                   "the file declares %lld coefficients, more than max_coefficients=%lld "
                   "(%u x %u pixels, %d component%s); raise max_coefficients to read it",
                   coefficients, max_coefficients, cinfo->image_width, cinfo->image_height,
                   cinfo->num_components, cinfo->num_components > 1 ? "s" : "");
    if (!cinfo->arith_code) {
        long long blocks = 0;
        for (int c = 0; c < cinfo->num_components; c++)
            blocks += (long long)cinfo->comp_info[c].width_in_blocks *
                      cinfo->comp_info[c].height_in_blocks;
        if (blocks > 8 * (long long)data_length)
            problem((j_common_ptr)cinfo,
                    "the file declares %lld blocks but has %zu bytes: Huffman-coded data "
                    "takes at least one bit a block, so at least %lld bytes (a truncated file?)",
                    blocks, data_length, (blocks + 7) / 8);
    }
    return 1;
}

/* Refuses a file of more than max_scans scans before reading it. */
static void check_scan_count(j_common_ptr cinfo, const Py_buffer *data, int max_scans) {
    const long scans = count_scans((const unsigned char *)data->buf, (size_t)data->len);
    if (scans > max_scans)
        over_limit(cinfo,
                   "the file has %ld scans, more than max_scans=%d (libjpeg's progressive "
                   "files have 10); raise max_scans to read it",
                   scans, max_scans);
}

static PyObject *header(PyObject *self, PyObject *args) {
    Py_buffer data;
    int strict, max_scans;
    long long max_coefficients;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*piL", &data, &strict, &max_scans, &max_coefficients))
        return NULL;
    struct jpeg_decompress_struct cinfo;
    Errors err;
    char why[MESSAGE_LENGTH] = "";
    setup(&cinfo, &err, strict);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        PyBuffer_Release(&data);
        PyErr_Format(err.limit ? LimitError : PyExc_ValueError, "%s", err.message);
        return NULL;
    }
    jpeg_create_decompress(&cinfo);
    check_scan_count((j_common_ptr)&cinfo, &data, max_scans);
    jpeg_mem_src(&cinfo, (const unsigned char *)data.buf, (unsigned long)data.len);
    jpeg_read_header(&cinfo, TRUE);
    PyObject *result = NULL;
    if (check_header(&cinfo, why, sizeof why, max_coefficients, (size_t)data.len)) {
        PyObject *components = PyTuple_New(cinfo.num_components);
        for (int c = 0; components && c < cinfo.num_components; c++) {
            jpeg_component_info *comp = cinfo.comp_info + c;
            PyTuple_SET_ITEM(components, c,
                             Py_BuildValue("(iiiiii)", comp->component_id, comp->h_samp_factor,
                                           comp->v_samp_factor, (int)comp->height_in_blocks,
                                           (int)comp->width_in_blocks, comp->quant_tbl_no));
        }
        if (components)
            result = Py_BuildValue("(IIiiN)", cinfo.image_width, cinfo.image_height,
                                   (int)cinfo.jpeg_color_space, (int)cinfo.progressive_mode,
                                   components);
    } else {
        PyErr_Format(PyExc_ValueError, "%s", why);
    }
    jpeg_destroy_decompress(&cinfo);
    PyBuffer_Release(&data);
    return result;
}

typedef struct {
    char *out;       /* k values per block, rows x cols blocks */
    Py_ssize_t rows, cols;
} Target;

/* The first k coefficients of every block of a row, in zig-zag order. */
#define SKC_WRITE_ROW(TYPE, STEP)                                                          \
    {                                                                                      \
        TYPE *d = (TYPE *)dst;                                                             \
        for (Py_ssize_t b = 0; b < cols; b++, d += k) {                                    \
            const JCOEF *block = row[b];                                                   \
            if (k == 64) /* constant offsets */                                            \
                for (int j = 0; j < 64; j++) d[j] = (TYPE)block[kZigzag[j]] STEP;         \
            else                                                                           \
                for (int j = 0; j < k; j++) d[j] = (TYPE)block[kZigzag[j]] STEP;          \
        }                                                                                  \
    }

static void write_row(JBLOCKROW row, Py_ssize_t cols, char *dst, int k, int type,
                      const UINT16 *q) {
    switch (type) {
    case T_INT16: SKC_WRITE_ROW(int16_t, ) break;
    case T_INT32: SKC_WRITE_ROW(int32_t, ) break;
    case T_FLOAT32:
        if (q)
            SKC_WRITE_ROW(float, *(float)q[kZigzag[j]])
        else
            SKC_WRITE_ROW(float, )
        break;
    default:
        if (q)
            SKC_WRITE_ROW(double, *(double)q[kZigzag[j]])
        else
            SKC_WRITE_ROW(double, )
    }
}

/* Whether a block's coefficients first..last (zig-zag) are those of the block at the
 * same place in a recent MCU. */
static int seen_recently(const Monitor *m, int b, const JCOEF *block, int first, int last) {
    for (int q = 0; q < m->n_recent; q++) {
        const JCOEF *other = m->recent[q][b][0];
        int j = first;
        while (j <= last && other[kZigzag[j]] == block[kZigzag[j]]) j++;
        if (j > last) return 1;
    }
    return 0;
}

static int diff_seen_recently(const Monitor *m, int b, int diff) {
    for (int q = 0; q < m->n_recent; q++)
        if (m->recent_diff[q][b] == diff) return 1;
    return 0;
}

/* Arithmetic coding: libjpeg's decode_mcu, counting what the zero padding decodes. An
 * MCU decoded while `unread_marker` is set (the data met a marker) and not at the
 * start of a restart interval (where libjpeg reads the RSTn marker first) comes from
 * padding, except for the bits libjpeg held when it met the marker. Counted: nonzero
 * DC differences (sequential and first DC scans) and nonzero AC coefficients, in
 * blocks unlike the blocks at their place in the last MCUs decoded from data. DC
 * refinement scans are not watched (their padding changes the lowest DC bit). */
static boolean watch_padding(j_decompress_ptr cinfo, JBLOCKROW *MCU_data) {
    Monitor *m = (Monitor *)cinfo->progress;
    const unsigned long index = m->mcu++;
    const int restart = cinfo->restart_interval && index % cinfo->restart_interval == 0;
    const int progressive = cinfo->progressive_mode;
    const int dc = !progressive || cinfo->Ss == 0, ac = !progressive || cinfo->Ss != 0;
    const int refine = progressive && cinfo->Ah != 0; /* AC: one block per MCU */
    if (!MCU_data || (dc && refine)) return (*m->decode_mcu)(cinfo, MCU_data);
    if (restart) { /* libjpeg resets its DC predictions */
        m->padded = m->padded_dc = m->padded_blocks = 0;
        memset(m->last_dc, 0, sizeof m->last_dc);
    }
    const int padded = cinfo->unread_marker && !restart;
    /* lenient: the rest of a scan cut short stays zero (as libjpeg's Huffman decoder
     * leaves it), not what zero bits decode to; skipping an MCU would upset libjpeg's
     * restart count, so only without restart intervals */
    if (padded && m->cut_scan == cinfo->input_scan_number && !cinfo->restart_interval)
        return TRUE;
    const int first = progressive ? cinfo->Ss : 1, last = progressive ? cinfo->Se : 63;
    JCOEF before[64];
    if (padded && ac && refine) memcpy(before, MCU_data[0][0], sizeof before);
    const boolean done = (*m->decode_mcu)(cinfo, MCU_data);
    const int from_data = !padded && !cinfo->unread_marker;
    for (int b = 0; b < cinfo->blocks_in_MCU; b++) {
        const JCOEF *block = MCU_data[b][0];
        int diff = 0;
        if (dc) {
            const int c = cinfo->MCU_membership[b];
            diff = block[0] - m->last_dc[c];
            m->last_dc[c] = block[0];
        }
        if (from_data) {
            m->recent[m->next_recent][b] = MCU_data[b];
            m->recent_diff[m->next_recent][b] = diff;
        } else if (padded) {
            m->padded_blocks += dc;
            /* DC: after RECENT_MCUS MCUs from data (a valid scan can leave the rest of
             * a pattern it set up in a few MCUs to the padding), or none at all */
            m->padded_dc += diff && (m->n_recent == RECENT_MCUS || m->n_recent == 0) &&
                            !diff_seen_recently(m, b, diff);
            if (ac) {
                long made = 0;
                for (int j = first; j <= last; j++)
                    made += block[kZigzag[j]] != 0 && !(refine && before[kZigzag[j]] != 0);
                if (made && !seen_recently(m, b, block, first, last)) m->padded += made;
            }
        }
    }
    if (from_data) {
        m->next_recent = (m->next_recent + 1) % RECENT_MCUS;
        if (m->n_recent < RECENT_MCUS) m->n_recent++;
    }
    /* DC differences count where they are dense: one a block row (a pattern repeating
     * down the image, wider than the recent MCUs) is not padding */
    const int cut = m->padded > PADDING_VALUES ||
                    (m->padded_dc > PADDING_VALUES && 4 * m->padded_dc > m->padded_blocks);
    if (cut && m->cut_scan != cinfo->input_scan_number) {
        m->cut_scan = cinfo->input_scan_number;
        problem((j_common_ptr)cinfo,
                "premature end of arithmetic-coded data in scan %d: its data ends at a marker, "
                "and the zero bits libjpeg decodes after it gave more than %d nonzero "
                "coefficients unlike the blocks before",
                cinfo->input_scan_number, PADDING_VALUES);
    }
    return done;
}

static void watch_scan(j_decompress_ptr cinfo) {
    Monitor *m = (Monitor *)cinfo->progress;
    EntropyMethods *entropy = (EntropyMethods *)cinfo->entropy;
    (*m->start_pass)(cinfo);
    if (entropy->decode_mcu != watch_padding) m->decode_mcu = entropy->decode_mcu;
    entropy->decode_mcu = watch_padding;
    m->mcu = 0;
    m->padded = m->padded_dc = m->padded_blocks = 0;
    m->n_recent = m->next_recent = 0;
    memset(m->last_dc, 0, sizeof m->last_dc);
}

/* Called by jpeg_read_coefficients before each step (an iMCU row, or markers). */
static void monitor(j_common_ptr common) {
    j_decompress_ptr cinfo = (j_decompress_ptr)common;
    Monitor *m = (Monitor *)cinfo->progress;
    if (cinfo->input_scan_number > m->max_scans)
        over_limit(common, "the file has more than max_scans=%d scans; raise max_scans to read it",
                   m->max_scans);
    if (!m->wrapped && cinfo->arith_code && cinfo->entropy) {
        /* the first scan's start_pass has run: wrap its decode_mcu, then every scan's */
        EntropyMethods *entropy = (EntropyMethods *)cinfo->entropy;
        m->start_pass = entropy->start_pass;
        m->decode_mcu = entropy->decode_mcu;
        entropy->start_pass = watch_scan;
        entropy->decode_mcu = watch_padding;
        m->wrapped = 1;
    }
}

/* After decoding: coefficients no scan sent in full, and zero quantization steps. */
static void check_coverage(j_decompress_ptr cinfo) {
    for (int c = 0; c < cinfo->num_components; c++) {
        const jpeg_component_info *comp = cinfo->comp_info + c;
        if (!comp->quant_table) { /* latched at the component's first scan */
            problem((j_common_ptr)cinfo,
                    "not every coefficient is in the file: component %d is in no scan", c);
            continue;
        }
        if (!cinfo->progressive_mode || !cinfo->coef_bits) continue;
        for (int j = 0; j < 64; j++) {
            const int bit = cinfo->coef_bits[c][j];
            if (bit < 0)
                problem((j_common_ptr)cinfo,
                        "not every coefficient is in the file: no scan sends coefficient %d "
                        "(zig-zag) of component %d (a progressive file cut short?)",
                        j, c);
            else if (bit > 0)
                problem((j_common_ptr)cinfo,
                        "not every coefficient is in the file: coefficient %d (zig-zag) of "
                        "component %d is sent down to bit %d only (a progressive file cut "
                        "short?)",
                        j, c, bit);
            if (bit != 0) break; /* one problem a component */
        }
    }
    for (int c = 0; c < cinfo->num_components; c++) {
        const jpeg_component_info *comp = cinfo->comp_info + c;
        const JQUANT_TBL *table = comp->quant_table ? comp->quant_table
                                                    : cinfo->quant_tbl_ptrs[comp->quant_tbl_no];
        for (int i = 0; table && i < 64; i++)
            if (table->quantval[i] == 0) {
                problem((j_common_ptr)cinfo,
                        "quantization table %d has a zero step (row %d, column %d); T.81 "
                        "requires steps of at least 1",
                        comp->quant_tbl_no, i / 8, i % 8);
                break;
            }
    }
}

static PyObject *read_coefficients(PyObject *self, PyObject *args) {
    Py_buffer data;
    int strict, k, type, dequantize, max_scans;
    long long max_coefficients;
    PyObject *outputs, *grids;
    Py_ssize_t tables;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*iiipO!O!niL", &data, &strict, &k, &type, &dequantize,
                          &PyTuple_Type, &outputs, &PyTuple_Type, &grids, &tables, &max_scans,
                          &max_coefficients))
        return NULL;
    Target targets[SKC_MAX_COMPONENTS];
    const Py_ssize_t n_targets = PyTuple_GET_SIZE(outputs);
    if (k < 1 || k > 64 || type < T_INT16 || type > T_FLOAT64 || n_targets > SKC_MAX_COMPONENTS ||
        PyTuple_GET_SIZE(grids) != n_targets || (dequantize && type < T_FLOAT32)) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "_jpeg_reader.read: inconsistent arguments");
        return NULL;
    }
    for (Py_ssize_t c = 0; c < n_targets; c++) {
        targets[c].out = (char *)PyLong_AsVoidPtr(PyTuple_GET_ITEM(outputs, c));
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(grids, c), "nn", &targets[c].rows,
                              &targets[c].cols)) {
            PyBuffer_Release(&data);
            return NULL;
        }
    }
    if (PyErr_Occurred()) {
        PyBuffer_Release(&data);
        return NULL;
    }
    const size_t item = type == T_INT16 ? 2 : type == T_FLOAT64 ? 8 : 4;

    struct jpeg_decompress_struct cinfo;
    Errors err;
    Monitor progress;
    char why[MESSAGE_LENGTH] = "";
    volatile int ok = 0;
    Py_ssize_t file_rows[SKC_MAX_COMPONENTS] = {0}, file_cols[SKC_MAX_COMPONENTS] = {0};
    int sampling[SKC_MAX_COMPONENTS][2] = {{0}};
    memset(&progress, 0, sizeof progress);
    progress.pub.progress_monitor = monitor;
    progress.max_scans = max_scans;
    setup(&cinfo, &err, strict);
    PyThreadState *thread = PyEval_SaveThread();
    if (setjmp(err.jump) == 0) {
        jpeg_create_decompress(&cinfo);
        check_scan_count((j_common_ptr)&cinfo, &data, max_scans);
        jpeg_mem_src(&cinfo, (const unsigned char *)data.buf, (unsigned long)data.len);
        jpeg_read_header(&cinfo, TRUE);
        if (!check_header(&cinfo, why, sizeof why, max_coefficients, (size_t)data.len)) {
            /* refused below */
        } else if (cinfo.num_components != n_targets) {
            snprintf(why, sizeof why, "the file has %d components, %d were asked for",
                     cinfo.num_components, (int)n_targets);
        } else {
            cinfo.progress = &progress.pub;
            jvirt_barray_ptr *arrays = jpeg_read_coefficients(&cinfo);
            check_coverage(&cinfo);
            for (int c = 0; c < cinfo.num_components; c++) {
                jpeg_component_info *comp = cinfo.comp_info + c;
                file_rows[c] = (Py_ssize_t)comp->height_in_blocks;
                file_cols[c] = (Py_ssize_t)comp->width_in_blocks;
                sampling[c][0] = comp->h_samp_factor;
                sampling[c][1] = comp->v_samp_factor;
                /* the table latched at the component's first scan; the current one for a
                 * component in no scan (lenient) */
                JQUANT_TBL *table = comp->quant_table ? comp->quant_table
                                                      : cinfo.quant_tbl_ptrs[comp->quant_tbl_no];
                if (!table) ERREXIT1(&cinfo, JERR_NO_QUANT_TABLE, comp->quant_tbl_no);
                const UINT16 *step = dequantize ? table->quantval : NULL;
                if (tables) memcpy((UINT16 *)tables + 64 * c, table->quantval, 64 * sizeof(UINT16));
                const Target *t = targets + c;
                const Py_ssize_t rows = t->rows < (Py_ssize_t)comp->height_in_blocks
                                            ? t->rows
                                            : (Py_ssize_t)comp->height_in_blocks;
                const Py_ssize_t cols = t->cols < (Py_ssize_t)comp->width_in_blocks
                                            ? t->cols
                                            : (Py_ssize_t)comp->width_in_blocks;
                const size_t block_bytes = (size_t)k * item;
                if (rows < t->rows || cols < t->cols) /* zero blocks pad the file's grid */
                    memset(t->out, 0, block_bytes * (size_t)(t->rows * t->cols));
                for (Py_ssize_t r = 0; r < rows; r++) {
                    JBLOCKARRAY row = (*cinfo.mem->access_virt_barray)(
                        (j_common_ptr)&cinfo, arrays[c], (JDIMENSION)r, 1, FALSE);
                    write_row(row[0], cols, t->out + (size_t)(r * t->cols) * block_bytes, k, type,
                              step);
                }
            }
            jpeg_finish_decompress(&cinfo);
            ok = 1;
        }
    }
    const int color_space = (int)cinfo.jpeg_color_space;
    jpeg_destroy_decompress(&cinfo);
    PyEval_RestoreThread(thread);
    PyBuffer_Release(&data);
    if (!ok) {
        PyErr_Format(err.limit ? LimitError : PyExc_ValueError, "%s",
                     why[0] ? why : err.message);
        return NULL;
    }
    PyObject *grid_list = PyTuple_New(n_targets), *factors = PyTuple_New(n_targets);
    for (Py_ssize_t c = 0; grid_list && factors && c < n_targets; c++) {
        PyTuple_SET_ITEM(grid_list, c, Py_BuildValue("(nn)", file_rows[c], file_cols[c]));
        PyTuple_SET_ITEM(factors, c, Py_BuildValue("(ii)", sampling[c][0], sampling[c][1]));
    }
    if (!grid_list || !factors) {
        Py_XDECREF(grid_list);
        Py_XDECREF(factors);
        return NULL;
    }
    return Py_BuildValue("(iNiN)", err.warnings, grid_list, color_space, factors);
}

/* ---- Writing: quantized coefficients to JPEG files -------------------------------- */

/* jchuff.c with 8-bit samples: an AC coefficient has at most 10 bits of magnitude, a DC
 * difference 11; JCOEF holds +-32767 */
#define MAX_AC_BITS 10
#define MAX_DC_BITS 11
#define MAX_DC 32767
#define MAX_CODE_LENGTH 32 /* of the Huffman tree, before limiting codes to 16 bits */

/* Where each coefficient of a block in natural order is in zig-zag order. */
static const int kNaturalToZigzag[64] = {
    0,  1,  5,  6,  14, 15, 27, 28, 2,  4,  7,  13, 16, 26, 29, 42, 3,  8,  12, 17, 25, 30,
    41, 43, 9,  11, 18, 24, 31, 40, 44, 53, 10, 19, 23, 32, 39, 45, 52, 54, 20, 22, 33, 38,
    46, 51, 55, 60, 21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63};

#if defined(__GNUC__) && !defined(__clang__)
#define SKC_UNROLL _Pragma("GCC unroll 64")
#elif defined(__clang__)
#define SKC_UNROLL _Pragma("unroll")
#else
#define SKC_UNROLL
#endif

#if defined(_MSC_VER)
#include <intrin.h>
static int lowest_bit(uint64_t x) {
    unsigned long i;
    _BitScanForward64(&i, x);
    return (int)i;
}
static int bit_length(uint32_t x) {
    unsigned long i;
    return _BitScanReverse(&i, x) ? (int)i + 1 : 0;
}
#else
#define lowest_bit(x) __builtin_ctzll(x)
#define bit_length(x) ((x) ? 32 - __builtin_clz(x) : 0)
#endif

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
/* Bit j set where the j-th of 64 coefficients is not zero. */
static uint64_t nonzero_int16(const int16_t *p) {
    const __m128i zero = _mm_setzero_si128();
    uint64_t zeros = 0;
    for (int i = 0; i < 4; i++) {
        const __m128i a = _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(p + 16 * i)), zero);
        const __m128i b =
            _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(p + 16 * i + 8)), zero);
        zeros |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_packs_epi16(a, b)) << (16 * i);
    }
    return ~zeros;
}
static uint64_t nonzero_int32(const int32_t *p) {
    const __m128i zero = _mm_setzero_si128();
    uint64_t zeros = 0;
    for (int i = 0; i < 4; i++) {
        const int32_t *q = p + 16 * i;
        const __m128i a = _mm_packs_epi32(
            _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)q), zero),
            _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(q + 4)), zero));
        const __m128i b = _mm_packs_epi32(
            _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(q + 8)), zero),
            _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(q + 12)), zero));
        zeros |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_packs_epi16(a, b)) << (16 * i);
    }
    return ~zeros;
}
#define NONZERO_64(TYPE, p) (sizeof(TYPE) == 2 ? nonzero_int16((const int16_t *)(p)) \
                                               : nonzero_int32((const int32_t *)(p)))
#else
#define NONZERO_64(TYPE, p) nonzero_scalar_##TYPE(p, 64)
#endif

#define SKC_NONZERO_SCALAR(TYPE)                                                            \
    static uint64_t nonzero_scalar_##TYPE(const TYPE *p, int k) {                           \
        uint64_t mask = 0;                                                                  \
        for (int j = 0; j < k; j++) mask |= (uint64_t)(p[j] != 0) << j;                     \
        return mask;                                                                        \
    }
SKC_NONZERO_SCALAR(int16_t)
SKC_NONZERO_SCALAR(int32_t)

/* What the files are: the same for every image of a batch. */
typedef struct {
    int n; /* components */
    int k; /* coefficients a block given, in zig-zag order; the rest are zero */
    int int32; /* the inputs' type: int32_t, else int16_t */
    const char *inputs[SKC_MAX_COMPONENTS]; /* the first image's blocks of each component */
    Py_ssize_t strides[SKC_MAX_COMPONENTS]; /* bytes from one image to the next */
    Py_ssize_t rows[SKC_MAX_COMPONENTS], cols[SKC_MAX_COMPONENTS];
    int h[SKC_MAX_COMPONENTS], v[SKC_MAX_COMPONENTS], table_no[SKC_MAX_COMPONENTS];
    unsigned int width, height;
    int space, n_tables, progressive;
    const UINT16 *tables;
    /* libjpeg's own optimized Huffman tables and coefficient checks (two passes),
     * instead of ours (one pass) */
    int reference;
} Files;

/* Symbol frequencies of each Huffman table slot, as libjpeg's optimizing pass counts
 * them (jchuff.c's htest_one_block); index 256 is left for the pseudo-symbol. */
typedef struct {
    long dc[NUM_HUFF_TBLS][257], ac[NUM_HUFF_TBLS][257];
} Counts;

/* A row of blocks into libjpeg's array (natural order, zeros after the first k), the
 * AC symbols of each counted into `ac` (NULL: not counted). Returns 0 where a
 * coefficient is beyond what libjpeg's Huffman coder holds, or a DC beyond JCOEF. */
#define SKC_FILL_ROW(TYPE)                                                                  \
    static int fill_row_##TYPE(JBLOCKROW row, const TYPE *src, Py_ssize_t cols, int k,      \
                               long *ac) {                                                  \
        for (Py_ssize_t b = 0; b < cols; b++, src += k) {                                   \
            JCOEF *dst = row[b];                                                            \
            if (k == 64) {                                                                  \
                SKC_UNROLL                                                                  \
                for (int i = 0; i < 64; i++) dst[i] = (JCOEF)src[kNaturalToZigzag[i]];      \
            } else {                                                                        \
                memset(dst, 0, sizeof(JBLOCK));                                             \
                for (int j = 0; j < k; j++) dst[kZigzag[j]] = (JCOEF)src[j];                \
            }                                                                               \
            if (!ac) continue;                                                              \
            if (src[0] > MAX_DC || src[0] < -MAX_DC) return 0;                              \
            uint64_t nonzero =                                                              \
                (k == 64 ? NONZERO_64(TYPE, src) : nonzero_scalar_##TYPE(src, k)) & ~1ull;  \
            int last = 0;                                                                   \
            while (nonzero) {                                                               \
                const int j = lowest_bit(nonzero);                                          \
                nonzero &= nonzero - 1;                                                     \
                const int32_t x = src[j];                                                   \
                const int bits = bit_length(x < 0 ? -(uint32_t)x : (uint32_t)x);            \
                if (bits > MAX_AC_BITS) return 0;                                           \
                int run = j - last - 1;                                                     \
                for (; run > 15; run -= 16) ac[0xF0]++;                                     \
                ac[(run << 4) + bits]++;                                                    \
                last = j;                                                                   \
            }                                                                               \
            if (last < 63) ac[0]++; /* end of block */                                      \
        }                                                                                   \
        return 1;                                                                           \
    }
SKC_FILL_ROW(int16_t)
SKC_FILL_ROW(int32_t)

/* One component of one image into libjpeg's array, whole MCUs (the padding zero). */
static int fill(j_compress_ptr cinfo, jvirt_barray_ptr array, const Files *f, int c,
                Py_ssize_t image, long *ac) {
    const char *src = f->inputs[c] + image * f->strides[c];
    const Py_ssize_t rows = f->rows[c], cols = f->cols[c], k = f->k;
    const Py_ssize_t all_rows = (rows + f->v[c] - 1) / f->v[c] * f->v[c],
                     all_cols = (cols + f->h[c] - 1) / f->h[c] * f->h[c];
    const size_t row_bytes = (size_t)(cols * k) * (f->int32 ? 4 : 2);
    for (Py_ssize_t r = 0; r < all_rows; r++) {
        JBLOCKROW row = (*cinfo->mem->access_virt_barray)((j_common_ptr)cinfo, array,
                                                          (JDIMENSION)r, 1, TRUE)[0];
        if (r >= rows) {
            memset(row, 0, (size_t)all_cols * sizeof(JBLOCK));
            continue;
        }
        const char *line = src + (size_t)r * row_bytes;
        if (!(f->int32 ? fill_row_int32_t(row, (const int32_t *)line, cols, (int)k, ac)
                       : fill_row_int16_t(row, (const int16_t *)line, cols, (int)k, ac)))
            return 0;
        if (all_cols > cols) memset(row + cols, 0, (size_t)(all_cols - cols) * sizeof(JBLOCK));
    }
    return 1;
}

/* The DC differences of one component of one image, in the order libjpeg codes its
 * blocks (one component: raster order; three: MCUs in raster order, the component's
 * v x h blocks of each in raster order, the blocks padding the last MCUs repeating the
 * DC before them), counted into `dc` (and the padding's end of block into `ac`).
 * Returns 0 where a difference is beyond 11 bits. */
static int count_dc(const Files *f, int c, Py_ssize_t image, long *dc, long *ac) {
    const char *src = f->inputs[c] + image * f->strides[c];
    const Py_ssize_t rows = f->rows[c], cols = f->cols[c], k = f->k;
    Py_ssize_t mcu_rows = rows, mcu_cols = cols;
    int v = 1, h = 1;
    if (f->n > 1) {
        int v_max = 1, h_max = 1;
        for (int i = 0; i < f->n; i++) {
            if (f->v[i] > v_max) v_max = f->v[i];
            if (f->h[i] > h_max) h_max = f->h[i];
        }
        v = f->v[c];
        h = f->h[c];
        mcu_rows = ((Py_ssize_t)f->height + 8 * v_max - 1) / (8 * v_max);
        mcu_cols = ((Py_ssize_t)f->width + 8 * h_max - 1) / (8 * h_max);
    }
    int64_t last = 0;
    for (Py_ssize_t mr = 0; mr < mcu_rows; mr++)
        for (Py_ssize_t mc = 0; mc < mcu_cols; mc++)
            for (int y = 0; y < v; y++)
                for (int x = 0; x < h; x++) {
                    const Py_ssize_t r = mr * v + y, col = mc * h + x;
                    if (r >= rows || col >= cols) { /* padding: no difference, no AC */
                        dc[0]++;
                        ac[0]++;
                        continue;
                    }
                    const Py_ssize_t at = (r * cols + col) * k;
                    const int64_t value = f->int32 ? ((const int32_t *)src)[at]
                                                   : ((const int16_t *)src)[at];
                    const int64_t difference = value - last;
                    last = value;
                    const uint64_t size = difference < 0 ? -(uint64_t)difference
                                                         : (uint64_t)difference;
                    if (size >> MAX_DC_BITS) return 0;
                    dc[bit_length((uint32_t)size)]++;
                }
    return 1;
}

/* An optimal Huffman table of the frequencies `counts` (which it keeps), as libjpeg's
 * jpeg_gen_optimal_table builds it (T.81 K.2: the two least frequent symbols merged
 * first, of equal frequencies the higher symbol, a pseudo-symbol 256 so that no code
 * is all ones, codes longer than 16 bits folded back), the same table for the same
 * counts. Returns 0 where a code would exceed MAX_CODE_LENGTH bits. */
typedef struct {
    long freq;
    int symbol;
} Node;
static int node_before(Node a, Node b) { /* merged first */
    return a.freq < b.freq || (a.freq == b.freq && a.symbol > b.symbol);
}
static int optimal_table(const long *counts, JHUFF_TBL *table) {
    Node queue[257]; /* sorted, the next to merge first */
    int present[257], codesize[257], others[257], n = 0;
    UINT8 bits[MAX_CODE_LENGTH + 1];
    memset(bits, 0, sizeof bits);
    for (int i = 0; i <= 256; i++) {
        const Node node = {i < 256 ? counts[i] : 1, i};
        if (!node.freq) continue;
        present[n] = i; /* ascending */
        codesize[i] = 0;
        others[i] = -1;
        int at = n++;
        for (; at > 0 && node_before(node, queue[at - 1]); at--) queue[at] = queue[at - 1];
        queue[at] = node;
    }
    for (int first = 0; n - first > 1;) {
        Node c1 = queue[first], c2 = queue[first + 1];
        c1.freq += c2.freq;
        int a = c1.symbol, b = c2.symbol;
        codesize[a]++;
        while (others[a] >= 0) codesize[a = others[a]]++;
        others[a] = b;
        codesize[b]++;
        while (others[b] >= 0) codesize[b = others[b]]++;
        /* c1 back into the queue, in order, c2 out */
        int at = ++first;
        for (; at + 1 < n && node_before(queue[at + 1], c1); at++) queue[at] = queue[at + 1];
        queue[at] = c1;
    }
    for (int i = 0; i < n; i++) {
        const int size = codesize[present[i]];
        if (size > MAX_CODE_LENGTH) return 0;
        bits[size]++;
    }
    int i = MAX_CODE_LENGTH;
    for (; i > 16; i--)
        while (bits[i] > 0) {
            int j = i - 2;
            while (bits[j] == 0) j--;
            bits[i] -= 2;
            bits[i - 1]++;
            bits[j + 1] += 2;
            bits[j]--;
        }
    while (bits[i] == 0) i--;
    bits[i]--; /* the pseudo-symbol's code */
    memcpy(table->bits, bits, sizeof table->bits);
    /* symbols by code length (before the folding), then value; 256 last */
    int start[MAX_CODE_LENGTH + 2] = {0};
    for (int j = 0; j < n - 1; j++) start[codesize[present[j]] + 1]++;
    for (int l = 1; l <= MAX_CODE_LENGTH; l++) start[l + 1] += start[l];
    for (int j = 0; j < n - 1; j++) table->huffval[start[codesize[present[j]]]++] = (UINT8)present[j];
    table->sent_table = FALSE;
    return 1;
}

/* The files accumulate in one malloc'ed buffer of our own, so that an error anywhere
 * frees everything (libjpeg's jpeg_mem_dest may leave a buffer it reallocated). */
typedef struct {
    struct jpeg_destination_mgr pub;
    JOCTET *buffer;
    size_t size; /* bytes allocated */
    size_t used; /* bytes of the files finished */
} Destination;

static void enlarge(j_compress_ptr cinfo) {
    Destination *d = (Destination *)cinfo->dest;
    JOCTET *bigger = (JOCTET *)realloc(d->buffer, 2 * d->size);
    if (!bigger) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 10);
    d->buffer = bigger;
    d->size *= 2;
}

static void start_destination(j_compress_ptr cinfo) {
    Destination *d = (Destination *)cinfo->dest;
    if (d->size - d->used < 4096) enlarge(cinfo);
    d->pub.next_output_byte = d->buffer + d->used;
    d->pub.free_in_buffer = d->size - d->used;
}

/* Called with the buffer full (next_output_byte may be stale). */
static boolean grow_destination(j_compress_ptr cinfo) {
    Destination *d = (Destination *)cinfo->dest;
    const size_t full = d->size;
    enlarge(cinfo);
    d->pub.next_output_byte = d->buffer + full;
    d->pub.free_in_buffer = d->size - full;
    return TRUE;
}

static void end_destination(j_compress_ptr cinfo) {
    Destination *d = (Destination *)cinfo->dest;
    d->used = (size_t)(d->pub.next_output_byte - d->buffer);
}

/* The settings every file of a batch shares (kept by libjpeg between files). */
static void configure(j_compress_ptr cinfo, const Files *f) {
    cinfo->image_width = f->width;
    cinfo->image_height = f->height;
    cinfo->input_components = f->n;
    cinfo->in_color_space = (J_COLOR_SPACE)f->space;
    jpeg_set_defaults(cinfo);
    jpeg_set_colorspace(cinfo, (J_COLOR_SPACE)f->space); /* component ids, Huffman slots */
    for (int t = 0; t < f->n_tables; t++) {
        if (!cinfo->quant_tbl_ptrs[t])
            cinfo->quant_tbl_ptrs[t] = jpeg_alloc_quant_table((j_common_ptr)cinfo);
        memcpy(cinfo->quant_tbl_ptrs[t]->quantval, f->tables + 64 * t, 64 * sizeof(UINT16));
        cinfo->quant_tbl_ptrs[t]->sent_table = FALSE;
    }
    for (int c = 0; c < f->n; c++) {
        jpeg_component_info *comp = cinfo->comp_info + c;
        comp->h_samp_factor = f->h[c];
        comp->v_samp_factor = f->v[c];
        comp->quant_tbl_no = f->table_no[c];
    }
    /* libjpeg's two passes where it optimizes the tables; ours counts while copying */
    cinfo->optimize_coding = f->reference || f->progressive;
    if (f->progressive) jpeg_simple_progression(cinfo);
}

/* One file, appended to the destination. Returns 0, having written nothing, where a
 * coefficient is beyond libjpeg's Huffman coder (unless f->reference). */
static int write_file(j_compress_ptr cinfo, const Files *f, Py_ssize_t image, Counts *counts) {
    jvirt_barray_ptr arrays[SKC_MAX_COMPONENTS];
    for (int c = 0; c < f->n; c++)
        /* whole MCUs: libjpeg's coefficient controller reads iMCU rows */
        arrays[c] = (*cinfo->mem->request_virt_barray)(
            (j_common_ptr)cinfo, JPOOL_IMAGE, FALSE,
            (JDIMENSION)((f->cols[c] + f->h[c] - 1) / f->h[c] * f->h[c]),
            (JDIMENSION)((f->rows[c] + f->v[c] - 1) / f->v[c] * f->v[c]), (JDIMENSION)f->v[c]);
    jpeg_write_coefficients(cinfo, arrays); /* realizes the arrays */
    int used_dc[NUM_HUFF_TBLS] = {0}, used_ac[NUM_HUFF_TBLS] = {0};
    for (int c = 0; c < f->n; c++) {
        used_dc[cinfo->comp_info[c].dc_tbl_no] = 1;
        used_ac[cinfo->comp_info[c].ac_tbl_no] = 1;
    }
    for (int t = 0; t < NUM_HUFF_TBLS && !f->reference; t++) {
        if (used_dc[t]) memset(counts->dc[t], 0, sizeof counts->dc[t]);
        if (used_ac[t]) memset(counts->ac[t], 0, sizeof counts->ac[t]);
    }
    for (int c = 0; c < f->n; c++) {
        const jpeg_component_info *comp = cinfo->comp_info + c;
        long *ac = f->reference ? NULL : counts->ac[comp->ac_tbl_no];
        if (!fill(cinfo, arrays[c], f, c, image, ac) ||
            (ac && !count_dc(f, c, image, counts->dc[comp->dc_tbl_no], ac))) {
            jpeg_abort_compress(cinfo);
            return 0;
        }
    }
    if (!f->reference && !f->progressive) {
        for (int t = 0; t < NUM_HUFF_TBLS; t++) {
            JHUFF_TBL **dc = cinfo->dc_huff_tbl_ptrs + t, **ac = cinfo->ac_huff_tbl_ptrs + t;
            if (used_dc[t] && !*dc) *dc = jpeg_alloc_huff_table((j_common_ptr)cinfo);
            if (used_ac[t] && !*ac) *ac = jpeg_alloc_huff_table((j_common_ptr)cinfo);
            if ((used_dc[t] && !optimal_table(counts->dc[t], *dc)) ||
                (used_ac[t] && !optimal_table(counts->ac[t], *ac)))
                ERREXIT(cinfo, JERR_HUFF_CLEN_OVERFLOW);
        }
    }
    jpeg_finish_compress(cinfo);
    return 1;
}

static PyObject *write_coefficients(PyObject *self, PyObject *args) {
    PyObject *inputs, *strides, *grids, *factors, *table_numbers;
    Py_ssize_t n_images, tables_address;
    Files f;
    (void)self;
    memset(&f, 0, sizeof f);
    if (!PyArg_ParseTuple(args, "O!O!pnO!iIIiO!O!nipp", &PyTuple_Type, &inputs, &PyTuple_Type,
                          &strides, &f.int32, &n_images, &PyTuple_Type, &grids, &f.k, &f.width,
                          &f.height, &f.space, &PyTuple_Type, &factors, &PyTuple_Type,
                          &table_numbers, &tables_address, &f.n_tables, &f.progressive,
                          &f.reference))
        return NULL;
    const Py_ssize_t n = PyTuple_GET_SIZE(inputs);
    const int known_space = f.space == JCS_GRAYSCALE || f.space == JCS_YCbCr || f.space == JCS_RGB;
    if (n < 1 || n > SKC_MAX_COMPONENTS || PyTuple_GET_SIZE(strides) != n ||
        PyTuple_GET_SIZE(grids) != n || PyTuple_GET_SIZE(factors) != n ||
        PyTuple_GET_SIZE(table_numbers) != n || f.k < 1 || f.k > 64 || n_images < 0 ||
        f.n_tables < 1 || f.n_tables > NUM_QUANT_TBLS || !known_space ||
        (f.space == JCS_GRAYSCALE) != (n == 1)) {
        PyErr_SetString(PyExc_ValueError, "_jpeg_reader.write: inconsistent arguments");
        return NULL;
    }
    f.n = (int)n;
    int max_h = 1, max_v = 1;
    for (Py_ssize_t c = 0; c < n; c++) {
        f.inputs[c] = (const char *)PyLong_AsVoidPtr(PyTuple_GET_ITEM(inputs, c));
        f.strides[c] = PyLong_AsSsize_t(PyTuple_GET_ITEM(strides, c));
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(grids, c), "nn", f.rows + c, f.cols + c) ||
            !PyArg_ParseTuple(PyTuple_GET_ITEM(factors, c), "ii", f.h + c, f.v + c))
            return NULL;
        f.table_no[c] = (int)PyLong_AsLong(PyTuple_GET_ITEM(table_numbers, c));
        if (f.h[c] < 1 || f.h[c] > MAX_SAMP_FACTOR || f.v[c] < 1 || f.v[c] > MAX_SAMP_FACTOR ||
            f.table_no[c] < 0 || f.table_no[c] >= f.n_tables) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "_jpeg_reader.write: inconsistent arguments");
            return NULL;
        }
        if (f.h[c] > max_h) max_h = f.h[c];
        if (f.v[c] > max_v) max_v = f.v[c];
    }
    if (PyErr_Occurred()) return NULL;
    /* the block grids libjpeg computes (jcmaster.c's initial_setup) must be the inputs' */
    for (Py_ssize_t c = 0; c < n; c++) {
        const unsigned long long r = ((unsigned long long)f.height * f.v[c] + 8ull * max_v - 1) /
                                     (8ull * max_v),
                                 w = ((unsigned long long)f.width * f.h[c] + 8ull * max_h - 1) /
                                     (8ull * max_h);
        if ((Py_ssize_t)r != f.rows[c] || (Py_ssize_t)w != f.cols[c]) {
            PyErr_Format(PyExc_ValueError,
                         "_jpeg_reader.write: component %zd has %zd x %zd blocks, libjpeg "
                         "computes %llu x %llu",
                         c, f.rows[c], f.cols[c], r, w);
            return NULL;
        }
    }
    f.tables = (const UINT16 *)tables_address;

    struct jpeg_compress_struct cinfo;
    Errors err;
    Destination dest;
    Counts *counts = (Counts *)malloc(sizeof(Counts));
    size_t *ends = (size_t *)malloc(sizeof(size_t) * (size_t)(n_images + 1));
    volatile Py_ssize_t image = 0;
    volatile int ok = 0;
    memset(&dest, 0, sizeof dest);
    dest.size = 65536;
    dest.buffer = (JOCTET *)malloc(dest.size);
    if (!dest.buffer || !counts || !ends) {
        free(dest.buffer);
        free(counts);
        free(ends);
        return PyErr_NoMemory();
    }
    dest.pub.init_destination = start_destination;
    dest.pub.empty_output_buffer = grow_destination;
    dest.pub.term_destination = end_destination;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = errors(&err, 1); /* a warning while writing is an error */
    PyThreadState *thread = PyEval_SaveThread();
    if (setjmp(err.jump) == 0) {
        jpeg_create_compress(&cinfo);
        cinfo.dest = &dest.pub;
        configure(&cinfo, &f);
        for (; image < n_images; image++) {
            if (!write_file(&cinfo, &f, image, counts)) break;
            ends[image] = dest.used;
        }
        ok = 1;
    }
    jpeg_destroy_compress(&cinfo);
    PyEval_RestoreThread(thread);
    free(counts);
    PyObject *result = NULL;
    if (!ok) {
        PyObject *why = Py_BuildValue("(sn)", err.message, (Py_ssize_t)image);
        if (why) {
            PyErr_SetObject(PyExc_ValueError, why); /* args: libjpeg's message, the image */
            Py_DECREF(why);
        }
    } else if (image < n_images) { /* a coefficient out of range: the caller says where */
        result = Py_BuildValue("(nO)", (Py_ssize_t)image, Py_None);
    } else {
        PyObject *files = PyList_New(n_images);
        for (Py_ssize_t i = 0; files && i < n_images; i++) {
            const size_t start = i ? ends[i - 1] : 0;
            PyObject *data = PyBytes_FromStringAndSize((const char *)dest.buffer + start,
                                                       (Py_ssize_t)(ends[i] - start));
            if (!data) Py_CLEAR(files);
            else PyList_SET_ITEM(files, i, data);
        }
        if (files) result = Py_BuildValue("(nN)", (Py_ssize_t)-1, files);
    }
    free(ends);
    free(dest.buffer);
    return result;
}

static PyMethodDef methods[] = {
    {"header", header, METH_VARARGS,
     "header(data, strict, max_scans, max_coefficients): image size, colour space and "
     "components."},
    {"read", read_coefficients, METH_VARARGS,
     "read(data, strict, k, type, dequantize, outputs, grids, tables, max_scans, "
     "max_coefficients): coefficients into the buffers at the addresses `outputs`; returns "
     "(problems, the file's block grids, colour space, sampling factors (h, v))."},
    {"write", write_coefficients, METH_VARARGS,
     "write(inputs, strides, int32, n_images, grids, k, width, height, colour space, factors, "
     "table numbers, tables, n_tables, progressive, reference): JPEG files of the "
     "coefficients at the addresses `inputs` (int16 or int32, k a block in zig-zag order, "
     "`strides` bytes from one image to the next); returns (-1, [bytes, ...]), or "
     "(image, None) where a coefficient of that image is beyond libjpeg's Huffman coder."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jpeg_reader",
                                    "Quantized DCT coefficients of JPEG files (libjpeg).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__jpeg_reader(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    LimitError = PyErr_NewExceptionWithDoc(
        "skcompress.io._jpeg_reader.LimitError",
        "A file over the reader's budget (max_scans, max_coefficients).", PyExc_ValueError,
        NULL);
    if (!LimitError || PyModule_AddObjectRef(m, "LimitError", LimitError) < 0 ||
        PyModule_AddIntConstant(m, "LIBJPEG_VERSION", JPEG_LIB_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
