/* Quantized DCT coefficients of JPEG files, read with libjpeg: entropy decoding
 * only, no inverse DCT, no colour conversion, no upsampling.
 *
 * header(data)  -> (width, height, colour space, progressive, components)
 *                  where components = ((id, h_samp, v_samp, rows, cols, table), ...),
 *                  rows x cols the component's blocks.
 * read(data, strict, k, type, dequantize, outputs, grids, tables)
 *                  writes, per component, a grid of blocks (zero blocks where the
 *                  grid is larger than the file's, the file's cropped where
 *                  smaller), each the first k coefficients in JPEG's zig-zag
 *                  order as int16/int32/float32/float64 (times the quantization
 *                  step with dequantize), and the quantization tables (natural
 *                  order, uint16) when `tables` is not 0. Returns the number of
 *                  libjpeg warnings (corrupt data that libjpeg recovers from;
 *                  with `strict` the first warning is an error) and the file's
 *                  own block grids.
 *
 * libjpeg's fatal errors long-jump back here and become ValueErrors with its
 * message; nothing it reports ever exits the process. Decoding runs without
 * the GIL, so threads read files in parallel.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#define SKC_MAX_COMPONENTS 4
/* Largest image accepted, in pixels: beyond it a corrupt or hostile header
 * could ask for gigabytes of coefficient memory (Pillow stops at 2**28/2). */
#define MAX_PIXELS (1LL << 28)

static const int kZigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

enum { T_INT16, T_INT32, T_FLOAT32, T_FLOAT64 };

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int strict;
    int warnings;
    char message[JMSG_LENGTH_MAX];
} Errors;

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

static void silent(j_common_ptr cinfo) { (void)cinfo; }

static void setup(struct jpeg_decompress_struct *cinfo, Errors *err, int strict) {
    cinfo->err = jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error;
    err->pub.emit_message = on_message;
    err->pub.output_message = silent;
    err->strict = strict;
    err->warnings = 0;
    err->message[0] = 0;
}

/* Checks that need no decoding; a message in `why` when the header is refused. */
static int check_header(struct jpeg_decompress_struct *cinfo, char *why, size_t size) {
    if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
        snprintf(why, size, "CMYK and YCCK JPEGs are not supported (4 components of ink)");
        return 0;
    }
    if (cinfo->num_components != 1 && cinfo->num_components != 3) {
        snprintf(why, size, "JPEGs with %d components are not supported (1 or 3)",
                 cinfo->num_components);
        return 0;
    }
    if ((long long)cinfo->image_width * cinfo->image_height > MAX_PIXELS) {
        snprintf(why, size, "image of %u x %u pixels is larger than the %lld pixels allowed",
                 cinfo->image_width, cinfo->image_height, MAX_PIXELS);
        return 0;
    }
    return 1;
}

static PyObject *header(PyObject *self, PyObject *args) {
    Py_buffer data;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*", &data)) return NULL;
    struct jpeg_decompress_struct cinfo;
    Errors err;
    char why[JMSG_LENGTH_MAX] = "";
    setup(&cinfo, &err, 1);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        PyBuffer_Release(&data);
        PyErr_Format(PyExc_ValueError, "%s", err.message);
        return NULL;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (const unsigned char *)data.buf, (unsigned long)data.len);
    jpeg_read_header(&cinfo, TRUE);
    PyObject *result = NULL;
    if (check_header(&cinfo, why, sizeof why)) {
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

static PyObject *read_coefficients(PyObject *self, PyObject *args) {
    Py_buffer data;
    int strict, k, type, dequantize;
    PyObject *outputs, *grids;
    Py_ssize_t tables;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*iiipO!O!n", &data, &strict, &k, &type, &dequantize,
                          &PyTuple_Type, &outputs, &PyTuple_Type, &grids, &tables))
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
    char why[JMSG_LENGTH_MAX] = "";
    volatile int ok = 0;
    Py_ssize_t file_rows[SKC_MAX_COMPONENTS] = {0}, file_cols[SKC_MAX_COMPONENTS] = {0};
    setup(&cinfo, &err, strict);
    PyThreadState *thread = PyEval_SaveThread();
    if (setjmp(err.jump) == 0) {
        jpeg_create_decompress(&cinfo);
        jpeg_mem_src(&cinfo, (const unsigned char *)data.buf, (unsigned long)data.len);
        jpeg_read_header(&cinfo, TRUE);
        if (!check_header(&cinfo, why, sizeof why)) {
            /* refused below */
        } else if (cinfo.num_components != n_targets) {
            snprintf(why, sizeof why, "the file has %d components, %d were asked for",
                     cinfo.num_components, (int)n_targets);
        } else {
            jvirt_barray_ptr *arrays = jpeg_read_coefficients(&cinfo);
            for (int c = 0; c < cinfo.num_components; c++) {
                jpeg_component_info *comp = cinfo.comp_info + c;
                file_rows[c] = (Py_ssize_t)comp->height_in_blocks;
                file_cols[c] = (Py_ssize_t)comp->width_in_blocks;
                JQUANT_TBL *table = cinfo.quant_tbl_ptrs[comp->quant_tbl_no];
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
    jpeg_destroy_decompress(&cinfo);
    PyEval_RestoreThread(thread);
    PyBuffer_Release(&data);
    if (!ok) {
        PyErr_Format(PyExc_ValueError, "%s", why[0] ? why : err.message);
        return NULL;
    }
    PyObject *grid_list = PyTuple_New(n_targets);
    for (Py_ssize_t c = 0; grid_list && c < n_targets; c++)
        PyTuple_SET_ITEM(grid_list, c, Py_BuildValue("(nn)", file_rows[c], file_cols[c]));
    return grid_list ? Py_BuildValue("(iN)", err.warnings, grid_list) : NULL;
}

static PyMethodDef methods[] = {
    {"header", header, METH_VARARGS, "header(data): image size, colour space and components."},
    {"read", read_coefficients, METH_VARARGS,
     "read(data, strict, k, type, dequantize, outputs, grids, tables): coefficients into "
     "the buffers at the addresses `outputs`; returns (warnings, the file's block grids)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jpeg_reader",
                                    "Quantized DCT coefficients of JPEG files (libjpeg).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__jpeg_reader(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "LIBJPEG_VERSION", JPEG_LIB_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
