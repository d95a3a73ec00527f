/* Baseline JPEG between pixels and quantized DCT coefficients, in one pass over the pixels
 * of each minimum coded unit (MCU) row. Plain C, no libjpeg needed.
 *
 * encode(images, tables, outputs, subsampling, dct, start, stop, parameters)
 *     images (n, H, W) gray or (n, H, W, 3) RGB, uint8 or float64, C-contiguous; tables
 *     int32, the steps of each component in natural order (n_components * 64); outputs a
 *     tuple of one array (n, rows, cols, k) of int16 or int32 per component (contiguous
 *     within an image, any stride between images) for the first k coefficients of each
 *     block in zig-zag order; subsampling 0 "4:4:4", 1 "4:2:2", 2 "4:2:0" (colour only);
 *     dct 0 "islow", 1 "float"; images start..stop-1; parameters None (islow) or float64.
 *
 *     islow is libjpeg-turbo's arithmetic, bit for bit: jccolor.c's fixed point RGB ->
 *     YCbCr, jcsample.c's h2v1 / h2v2 means with their alternating biases, the edge
 *     replication of jcprepct.c and jcsample.c (pixel columns to the MCU, pixel rows to a
 *     row group, then the last downsampled row), jfdctint.c's slow integer DCT and
 *     jcdctmgr.c's rounding division by 8 Q. (libjpeg-turbo computes 8 Q in 16 bits and
 *     so only divides correctly by steps up to 8191; here every step divides.)
 *
 *     float is the arithmetic of skcompress's numpy steps, operation for operation:
 *     parameters are BlockPlan's (transforms/_block_kernel.py) A (8x8), Bt (8x8) and
 *     offset (8x8), ColorTransform's matrix (3x3) and chroma offset. A block R is folded
 *     (R[y] +- R[7 - y]), T = A R, G = T Bt + offset (added with the first product, as
 *     BlockPlan's kernel adds it), then G / Q rounded half away from zero.
 *
 * decode(coefficients, tables, output, subsampling, start, stop)
 *     coefficients a tuple of int16 or int32 arrays (n, rows, cols, k), the first k of each
 *     block in zig-zag order (the others zero), within libjpeg's 16-bit JCOEF; output uint8
 *     (n, H, W) or (n, H, W, 3). libjpeg-turbo's decoder, bit for bit: dequantization,
 *     jidctint.c's islow IDCT and its range limiting, jdsample.c's fancy upsampling (h2v1,
 *     h2v2: triangular, context rows replicated at the image's edges; replication where a
 *     chroma row has at most two samples, as jinit_upsampler chooses), jdcolor.c's YCbCr
 *     -> RGB. Three components to a gray output: the Y plane (JCS_GRAYSCALE); one to RGB:
 *     the gray repeated.
 *
 * Builds: every step is inlined into two builds of the encoder and the decoder, the
 * fastest the processor runs chosen at import, both listed by builds():
 *   "avx2"      x86 with AVX2 and FMA (GCC 12 or clang): vectors of eight 32-bit lanes
 *               for the integer DCTs (a block's rows transposed in registers), and a float
 *               path that fuses a multiply and an add exactly where BlockDCT's kernel
 *               (transforms/_separable.cpp) does in its AVX2 + FMA build and OpenBLAS's
 *               FMA kernels do in ColorTransform's matrix product, so that both round
 *               alike (the file is compiled without implicit contraction);
 *   "portable"  plain C for any compiler and processor (loops the compiler vectorizes),
 *               without fused multiply-adds, as the numpy steps' own baseline build.
 * Integer results are the same in both. use(name) switches builds (tests run each).
 *
 * Both release the GIL: Python threads run ranges of images at once. Every argument is
 * checked here (shapes, formats, strides, steps 1..32767); errors are ValueErrors.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef Py_ssize_t idx;

#if defined(__GNUC__) || defined(__clang__)
#define SKC_INLINE static inline __attribute__((always_inline))
#define SKC_R __restrict__
#else
#define SKC_INLINE static inline
#define SKC_R
#endif
/* The AVX2 build: x86, and vector extensions with __builtin_shufflevector and
 * __builtin_convertvector (GCC 12, clang) */
#if (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)) &&                         \
    (defined(__x86_64__) || defined(__i386__))
#define SKC_VECTOR 1
#define SKC_AVX2 1
#define SKC_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define SKC_VECTOR 0
#define SKC_AVX2 0
#endif
/* c + a * b, fused when `fused` (a constant of each build) */
#define MADD(fused, a, b, c) ((fused) ? fma((a), (b), (c)) : (c) + (a) * (b))

enum { SUB_444 = 0, SUB_422 = 1, SUB_420 = 2 };
enum { DCT_ISLOW = 0, DCT_FLOAT = 1 };
enum { N_PARAMETERS = 64 + 64 + 64 + 9 + 1 };
#define MAX_STEP 32767

/* natural (row-major) position of each zig-zag index */
static const int kZigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

/* ---- Geometry ------------------------------------------------------------------------ */

typedef struct {
    idx n, H, W;
    int ncomp, hmax, vmax;
    idx mcu_rows, mcu_cols;
    idx rows[3], cols[3]; /* block grids, as libjpeg computes them */
    idx hc, wc;           /* chroma samples (downsampled_height, downsampled_width) */
} Geometry;

static void geometry(Geometry *g, idx n, idx H, idx W, int ncomp, int sub) {
    g->n = n;
    g->H = H;
    g->W = W;
    g->ncomp = ncomp;
    g->hmax = (ncomp == 3 && sub != SUB_444) ? 2 : 1;
    g->vmax = (ncomp == 3 && sub == SUB_420) ? 2 : 1;
    g->mcu_rows = (H + 8 * g->vmax - 1) / (8 * g->vmax);
    g->mcu_cols = (W + 8 * g->hmax - 1) / (8 * g->hmax);
    g->rows[0] = (H + 7) / 8;
    g->cols[0] = (W + 7) / 8;
    g->hc = (H + g->vmax - 1) / g->vmax;
    g->wc = (W + g->hmax - 1) / g->hmax;
    for (int c = 1; c < 3; c++) {
        g->rows[c] = g->mcu_rows;
        g->cols[c] = g->mcu_cols;
    }
}

/* ---- Arrays from Python ------------------------------------------------------------- */

typedef struct {
    char *data;
    idx image_stride; /* bytes from one image to the next */
    int itemsize;
    int k; /* coefficients a block: the first k in zig-zag order */
} Plane;

static int format_is(const Py_buffer *v, char code) {
    const char *f = v->format ? v->format : "B";
    if (f[0] == '@' || f[0] == '=') f++;
#if PY_LITTLE_ENDIAN
    if (f[0] == '<') f++;
#else
    if (f[0] == '>') f++;
#endif
    return f[0] == code && f[1] == '\0';
}

/* The format code among `codes` that the buffer has, or 0. */
static char format_of(const Py_buffer *v, const char *codes) {
    for (const char *c = codes; *c; c++)
        if (format_is(v, *c)) return *c;
    return 0;
}

/* Whether the buffer holds signed integers of `size` bytes (numpy's int32 is 'i', or 'l'
 * where C's long has 32 bits). */
static int signed_of_size(const Py_buffer *v, int size) {
    return format_of(v, "bhilq") != 0 && v->itemsize == size;
}

/* Whether axes 1.. of the buffer are C-contiguous (axis 0 may have any stride). */
static int inner_contiguous(const Py_buffer *v) {
    idx expected = v->itemsize;
    for (int k = v->ndim - 1; k >= 1; k--) {
        if (v->shape[k] > 1 && v->strides[k] != expected) return 0;
        expected *= v->shape[k];
    }
    return 1;
}

static int get_view(PyObject *obj, Py_buffer *view, int writable, const char *what) {
    int flags = PyBUF_RECORDS_RO | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s must be a%s array (buffer); got %.100s", what,
                     writable ? " writable" : "n", Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

/* Steps of `ncomp` tables: int32, 64 * ncomp of them, each 1..MAX_STEP. */
static int read_tables(PyObject *obj, int ncomp, int32_t steps[3][64]) {
    Py_buffer v;
    if (get_view(obj, &v, 0, "tables") < 0) return -1;
    int ok = signed_of_size(&v, 4) && PyBuffer_IsContiguous(&v, 'C') &&
             v.len == (idx)(64 * 4 * ncomp);
    if (!ok) {
        PyErr_Format(PyExc_ValueError,
                     "tables must be %d contiguous int32 steps (%d tables of 64, natural "
                     "order)",
                     64 * ncomp, ncomp);
        PyBuffer_Release(&v);
        return -1;
    }
    const int32_t *t = (const int32_t *)v.buf;
    for (int c = 0; c < ncomp; c++)
        for (int k = 0; k < 64; k++) {
            int32_t s = t[64 * c + k];
            if (s < 1 || s > MAX_STEP) {
                PyErr_Format(PyExc_ValueError,
                             "tables[%d] has the step %d at row %d, column %d; steps must be "
                             "integers from 1 to %d",
                             c, (int)s, k / 8, k % 8, MAX_STEP);
                PyBuffer_Release(&v);
                return -1;
            }
            steps[c][k] = s;
        }
    PyBuffer_Release(&v);
    return 0;
}

/* One (n, rows, cols, k) int16/int32 array per component, as `planes`: k from 1 to 64,
 * the same for every component. */
static int read_planes(PyObject *tuple, const Geometry *g, int writable, const char *what,
                       Py_buffer views[3], Plane planes[3], int *n_views) {
    *n_views = 0;
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != g->ncomp) {
        PyErr_Format(PyExc_ValueError, "%s must be a tuple of %d arrays, one per component",
                     what, g->ncomp);
        return -1;
    }
    int itemsize = 0;
    idx k = 0;
    for (int c = 0; c < g->ncomp; c++) {
        Py_buffer *v = views + c;
        if (get_view(PyTuple_GET_ITEM(tuple, c), v, writable, what) < 0) return -1;
        (*n_views)++;
        if (!signed_of_size(v, 2) && !signed_of_size(v, 4)) {
            PyErr_Format(PyExc_ValueError, "%s[%d] must hold int16 or int32 values", what, c);
            return -1;
        }
        if (itemsize && v->itemsize != itemsize) {
            PyErr_Format(PyExc_ValueError, "%s: every component must have the same dtype",
                         what);
            return -1;
        }
        itemsize = (int)v->itemsize;
        if (v->ndim != 4 || v->shape[0] != g->n || v->shape[1] != g->rows[c] ||
            v->shape[2] != g->cols[c] || v->shape[3] < 1 || v->shape[3] > 64 ||
            (k && v->shape[3] != k)) {
            PyErr_Format(PyExc_ValueError,
                         "%s[%d] must have shape (%zd, %zd, %zd, k) (images, block rows, "
                         "block columns, the first k coefficients, 1 <= k <= 64, the same k "
                         "for every component)",
                         what, c, g->n, g->rows[c], g->cols[c]);
            return -1;
        }
        k = v->shape[3];
        if (!inner_contiguous(v)) {
            PyErr_Format(PyExc_ValueError,
                         "%s[%d] must be contiguous within each image (any stride between "
                         "images)",
                         what, c);
            return -1;
        }
        planes[c].data = (char *)v->buf;
        planes[c].image_stride = v->strides[0];
        planes[c].itemsize = itemsize;
        planes[c].k = (int)k;
    }
    return 0;
}

static void release_all(Py_buffer *views, int n) {
    for (int k = 0; k < n; k++) PyBuffer_Release(views + k);
}

/* ---- Forward: libjpeg's integer path ------------------------------------------------- */

#define CONST_BITS 13
#define PASS1_BITS 2
#define FIX_0_298631336 2446
#define FIX_0_390180644 3196
#define FIX_0_541196100 4433
#define FIX_0_765366865 6270
#define FIX_0_899976223 7373
#define FIX_1_175875602 9633
#define FIX_1_501321110 12299
#define FIX_1_847759065 15137
#define FIX_1_961570560 16069
#define FIX_2_053119869 16819
#define FIX_2_562915447 20995
#define FIX_3_072711026 25172
#define DESCALE(x, n) (((x) + ((int32_t)1 << ((n)-1))) >> (n))

/* The 1-D transform of jfdctint.c on d[0], d[s], ..., d[7 s], in place (for 8-bit samples
 * every intermediate fits in 32 bits); T is int32_t (the portable build) or a vector of
 * them (the AVX2 build, eight lines at once). */
#define FDCT_1D(T, d, s, first)                                                               \
    do {                                                                                      \
        T tmp0 = d[0] + d[7 * (s)], tmp7 = d[0] - d[7 * (s)];                                 \
        T tmp1 = d[s] + d[6 * (s)], tmp6 = d[s] - d[6 * (s)];                                 \
        T tmp2 = d[2 * (s)] + d[5 * (s)], tmp5 = d[2 * (s)] - d[5 * (s)];                     \
        T tmp3 = d[3 * (s)] + d[4 * (s)], tmp4 = d[3 * (s)] - d[4 * (s)];                     \
        T tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2; \
        const int b = (first) ? CONST_BITS - PASS1_BITS : CONST_BITS + PASS1_BITS;            \
        if (first) {                                                                          \
            d[0] = (tmp10 + tmp11) * (1 << PASS1_BITS);                                       \
            d[4 * (s)] = (tmp10 - tmp11) * (1 << PASS1_BITS);                                 \
        } else {                                                                              \
            d[0] = DESCALE(tmp10 + tmp11, PASS1_BITS);                                        \
            d[4 * (s)] = DESCALE(tmp10 - tmp11, PASS1_BITS);                                  \
        }                                                                                     \
        T z1 = (tmp12 + tmp13) * FIX_0_541196100;                                             \
        d[2 * (s)] = DESCALE(z1 + tmp13 * FIX_0_765366865, b);                                \
        d[6 * (s)] = DESCALE(z1 - tmp12 * FIX_1_847759065, b);                                \
        z1 = tmp4 + tmp7;                                                                     \
        T z2 = tmp5 + tmp6, z3 = tmp4 + tmp6, z4 = tmp5 + tmp7;                               \
        T z5 = (z3 + z4) * FIX_1_175875602;                                                   \
        tmp4 *= FIX_0_298631336;                                                              \
        tmp5 *= FIX_2_053119869;                                                              \
        tmp6 *= FIX_3_072711026;                                                              \
        tmp7 *= FIX_1_501321110;                                                              \
        z1 *= -FIX_0_899976223;                                                               \
        z2 *= -FIX_2_562915447;                                                               \
        z3 = z3 * -FIX_1_961570560 + z5;                                                      \
        z4 = z4 * -FIX_0_390180644 + z5;                                                      \
        d[7 * (s)] = DESCALE(tmp4 + z1 + z3, b);                                              \
        d[5 * (s)] = DESCALE(tmp5 + z2 + z4, b);                                              \
        d[3 * (s)] = DESCALE(tmp6 + z2 + z3, b);                                              \
        d[s] = DESCALE(tmp7 + z1 + z4, b);                                                    \
    } while (0)

/* jpeg_fdct_islow in place on a block of samples minus 128, natural order. */
SKC_INLINE void fdct_islow(int32_t *d) {
    for (int y = 0; y < 8; y++) {
        int32_t *p = d + 8 * y;
        FDCT_1D(int32_t, p, 1, 1);
    }
    for (int x = 0; x < 8; x++) {
        int32_t *p = d + x;
        FDCT_1D(int32_t, p, 8, 0);
    }
}

/* jcdctmgr.c's quantization: sign(t) floor((|t| + 4 Q) / (8 Q)), by a float reciprocal
 * corrected to the exact quotient (|t| + 4 Q < 2^18: the float estimate is within one). */
typedef struct {
    int32_t divisor[64], half[64];
    float reciprocal[64];
} Divisors;

static void islow_divisors(const int32_t *steps, Divisors *d) {
    for (int k = 0; k < 64; k++) {
        d->divisor[k] = 8 * steps[k];
        d->half[k] = 4 * steps[k];
        d->reciprocal[k] = 1.0f / (float)d->divisor[k];
    }
}

SKC_INLINE void quantize_islow(const int32_t *SKC_R t, const Divisors *SKC_R d,
                               int32_t *SKC_R q) {
    for (int k = 0; k < 64; k++) {
        const int32_t x = t[k], a = (x < 0 ? -x : x) + d->half[k];
        int32_t e = (int32_t)((float)a * d->reciprocal[k]);
        const int32_t r = a - e * d->divisor[k];
        e += (r >= d->divisor[k]) - (r < 0);
        q[k] = x < 0 ? -e : e;
    }
}

SKC_INLINE void store_zigzag(const int32_t *SKC_R q, char *SKC_R out, int itemsize, int kept) {
    if (itemsize == 2) {
        int16_t *o = (int16_t *)out;
        for (int k = 0; k < kept; k++) o[k] = (int16_t)q[kZigzag[k]];
    } else {
        int32_t *o = (int32_t *)out;
        for (int k = 0; k < kept; k++) o[k] = q[kZigzag[k]];
    }
}

#if SKC_VECTOR
/* Eight int32 lanes: a row (or column) of a block. */
typedef int32_t v8si __attribute__((vector_size(32)));
typedef float v8sf __attribute__((vector_size(32)));
typedef uint8_t v8qu __attribute__((vector_size(8)));
typedef int16_t v8hi __attribute__((vector_size(16)));
#define SKC_SHUFFLE __builtin_shufflevector

/* r[i][j] <- r[j][i] */
SKC_INLINE void transpose8(v8si *r) {
    v8si t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = SKC_SHUFFLE(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = SKC_SHUFFLE(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
        for (int h = 0; h < 2; h++) {
            u[i + h] = SKC_SHUFFLE(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + h + 2] = SKC_SHUFFLE(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    /* u[0], u[2], u[1], u[3]: columns 0 | 4, 1 | 5, 2 | 6, 3 | 7 of rows 0-3 (low | high
     * half); u[4..7] the same of rows 4-7 */
    for (int i = 0; i < 4; i++) {
        const int c = i == 0 ? 0 : i == 1 ? 2 : i == 2 ? 1 : 3;
        r[i] = SKC_SHUFFLE(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = SKC_SHUFFLE(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

typedef struct {
    v8si divisor[8], half[8];
    v8sf reciprocal[8];
} VDivisors;

static void vector_divisors(const Divisors *d, VDivisors *v) {
    for (int u = 0; u < 8; u++)
        for (int j = 0; j < 8; j++) {
            v->divisor[u][j] = d->divisor[8 * u + j];
            v->half[u][j] = d->half[8 * u + j];
            v->reciprocal[u][j] = d->reciprocal[8 * u + j];
        }
}

/* The islow DCT and quantization of one block of 8-bit samples, rows `stride` apart:
 * rows as vectors, transposed so that each pass runs over the eight lines at once. */
SKC_INLINE void block_islow_vector(const uint8_t *src, idx stride, const VDivisors *dv,
                                   int32_t *q) {
    v8si r[8];
    for (int y = 0; y < 8; y++) {
        v8qu bytes;
        memcpy(&bytes, src + y * stride, sizeof bytes);
        /* through 16 bits: GCC widens that in two instructions, bytes to 32 bits in many */
        r[y] = __builtin_convertvector(__builtin_convertvector(bytes, v8hi), v8si) - 128;
    }
    transpose8(r); /* r[x]: column x, lanes the rows */
    FDCT_1D(v8si, r, 1, 1);
    transpose8(r); /* r[y]: row y of the row pass, lanes the frequencies v */
    FDCT_1D(v8si, r, 1, 0);
    for (int u = 0; u < 8; u++) {
        const v8si x = r[u], sign = x >> 31, a = ((x ^ sign) - sign) + dv->half[u];
        v8si e = __builtin_convertvector(__builtin_convertvector(a, v8sf) * dv->reciprocal[u],
                                         v8si);
        const v8si rest = a - e * dv->divisor[u];
        e += (rest < 0) - (rest >= dv->divisor[u]); /* comparisons give -1 */
        e = (e ^ sign) - sign;
        memcpy(q + 8 * u, &e, sizeof e);
    }
}
#endif

/* jccolor.c: FIX(x) in 16 bits; Cb and Cr round with ONE_HALF - 1 */
#define CSCALE 16
#define CFIX(x) ((int32_t)((x) * (1L << CSCALE) + 0.5))
#define C_HALF ((int32_t)1 << (CSCALE - 1))
#define CBCR_OFFSET ((int32_t)128 << CSCALE)

/* Work buffers of one call: the converted rows of one MCU row, and the chroma. */
typedef struct {
    idx Wp, Wc; /* padded widths: full resolution, chroma */
    int mcu_h;  /* pixel rows of an MCU row */
    void *full; /* ncomp planes of mcu_h x Wp samples */
    void *down; /* 2 planes of 8 x Wc chroma samples */
} Work;

static int work_alloc(Work *w, const Geometry *g, size_t item) {
    w->Wp = g->mcu_cols * 8 * g->hmax;
    w->Wc = g->mcu_cols * 8;
    w->mcu_h = 8 * g->vmax;
    w->full = malloc(item * (size_t)g->ncomp * (size_t)w->mcu_h * (size_t)w->Wp);
    w->down = malloc(item * 2 * 8 * (size_t)w->Wc);
    if (!w->full || !w->down) {
        free(w->full);
        free(w->down);
        return -1;
    }
    return 0;
}

static void work_free(Work *w) {
    free(w->full);
    free(w->down);
}

/* The source row of MCU-row line k: rows past the image repeat its last one. */
SKC_INLINE idx source_row(const Geometry *g, idx mr, int k) {
    const idx y = mr * 8 * g->vmax + k;
    return y < g->H ? y : g->H - 1;
}

/* The first converted line that chroma line j of MCU row mr averages: downsampled rows
 * past hc repeat row hc - 1 (jcprepct.c). */
SKC_INLINE int chroma_line(const Geometry *g, idx mr, int j) {
    idx c = mr * 8 + j;
    if (c > g->hc - 1) c = g->hc - 1;
    return (int)(c * g->vmax - mr * 8 * g->vmax);
}

/* islow: colour conversion, downsampling and edge replication of MCU row mr. */
SKC_INLINE void prepare_islow(const Geometry *g, const Work *w, const uint8_t *SKC_R image,
                              idx mr, int sub) {
    uint8_t *full = (uint8_t *)w->full;
    const idx Wp = w->Wp, W = g->W, plane = (idx)w->mcu_h * Wp;
    for (int k = 0; k < w->mcu_h; k++) {
        const idx y = source_row(g, mr, k);
        uint8_t *SKC_R Y = full + k * Wp;
        if (k > 0 && y == source_row(g, mr, k - 1)) { /* past the bottom: a copy */
            for (int c = 0; c < g->ncomp; c++)
                memcpy(Y + c * plane, Y + c * plane - Wp, (size_t)Wp);
            continue;
        }
        if (g->ncomp == 1) {
            memcpy(Y, image + y * W, (size_t)W);
        } else {
            const uint8_t *SKC_R p = image + y * W * 3;
            uint8_t *SKC_R Cb = Y + plane, *SKC_R Cr = Y + 2 * plane;
            for (idx x = 0; x < W; x++) {
                const int32_t r = p[3 * x], gg = p[3 * x + 1], b = p[3 * x + 2];
                Y[x] = (uint8_t)((CFIX(0.29900) * r + CFIX(0.58700) * gg + CFIX(0.11400) * b +
                                  C_HALF) >>
                                 CSCALE);
                Cb[x] = (uint8_t)((-CFIX(0.16874) * r - CFIX(0.33126) * gg +
                                   CFIX(0.50000) * b + CBCR_OFFSET + C_HALF - 1) >>
                                  CSCALE);
                Cr[x] = (uint8_t)((CFIX(0.50000) * r - CFIX(0.41869) * gg -
                                   CFIX(0.08131) * b + CBCR_OFFSET + C_HALF - 1) >>
                                  CSCALE);
            }
        }
        for (int c = 0; c < g->ncomp; c++) {
            uint8_t *row = Y + c * plane;
            memset(row + W, row[W - 1], (size_t)(Wp - W));
        }
    }
    if (g->ncomp == 1 || sub == SUB_444) return;
    for (int c = 1; c < 3; c++) {
        const uint8_t *src = full + c * plane;
        uint8_t *dst = (uint8_t *)w->down + (c - 1) * 8 * w->Wc;
        for (int j = 0; j < 8; j++) {
            const uint8_t *SKC_R r0 = src + chroma_line(g, mr, j) * Wp;
            uint8_t *SKC_R o = dst + j * w->Wc;
            if (sub == SUB_422) {
                for (idx x = 0; x < w->Wc; x++)
                    o[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + (int)(x & 1)) >> 1);
            } else {
                const uint8_t *SKC_R r1 = r0 + Wp;
                for (idx x = 0; x < w->Wc; x++)
                    o[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] +
                                      1 + (int)(x & 1)) >>
                                     2);
            }
        }
    }
}

/* `count` blocks side by side, rows `stride` apart: DCT, quantization, zig-zag. */
SKC_INLINE void blocks_islow(const uint8_t *src, idx stride, idx count, const Divisors *d,
                             const void *dv, char *out, int itemsize, int kept,
                             const int vector) {
    int32_t t[64], q[64];
    for (idx b = 0; b < count; b++, src += 8, out += kept * itemsize) {
#if SKC_VECTOR
        if (vector) {
            block_islow_vector(src, stride, (const VDivisors *)dv, q);
            store_zigzag(q, out, itemsize, kept);
            continue;
        }
#endif
        (void)dv;
        (void)vector;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) t[8 * y + x] = (int32_t)src[y * stride + x] - 128;
        fdct_islow(t);
        quantize_islow(t, d, q);
        store_zigzag(q, out, itemsize, kept);
    }
}

/* ---- Forward: floating point -------------------------------------------------------- */

typedef struct {
    double A[64], Bt[64], offset[64], color[9], chroma_offset;
    double steps[3][64];
} FloatParameters;

/* BlockPlan's forward transform of one block, rows `stride` apart: the loops vectorize
 * over the eight columns. */
SKC_INLINE void fdct_float(const double *SKC_R src, idx stride, const FloatParameters *SKC_R f,
                           double *SKC_R G, const int fused) {
    double p[4][8], m[4][8], T[8][8];
    for (int y = 0; y < 4; y++) {
        const double *a = src + y * stride, *b = src + (7 - y) * stride;
        for (int j = 0; j < 8; j++) {
            p[y][j] = a[j] + b[j];
            m[y][j] = a[j] - b[j];
        }
    }
    for (int u = 0; u < 8; u++) {
        double(*s)[8] = (u & 1) ? m : p;
        const double *A = f->A + 8 * u;
        for (int j = 0; j < 8; j++) {
            /* GCC fuses the first product of BlockPlan's `acc = a0 x0; acc += a1 x1` */
            double acc = MADD(fused, A[0], s[0][j], A[1] * s[1][j]);
            acc = MADD(fused, A[2], s[2][j], acc);
            T[u][j] = MADD(fused, A[3], s[3][j], acc);
        }
    }
    for (int u = 0; u < 8; u++)
        for (int j = 0; j < 8; j++) {
            double acc = MADD(fused, T[u][0], f->Bt[j], f->offset[8 * u + j]);
            for (int x = 1; x < 8; x++) acc = MADD(fused, T[u][x], f->Bt[8 * x + j], acc);
            G[8 * u + j] = acc;
        }
}

/* G / Q rounded half away from zero, as PerceptualQuantizer rounds; 0 when a kept symbol
 * is not finite or beyond `limit`. */
SKC_INLINE int quantize_float(const double *SKC_R G, const double *SKC_R steps, double limit,
                              char *SKC_R out, int itemsize, int kept) {
    int32_t q[64], bad[64], any = 0;
    for (int k = 0; k < 64; k++) {
        const double x = G[k] / steps[k], a = fabs(x), whole = floor(a);
        const double v = copysign(whole + ((a - whole) >= 0.5 ? 1.0 : 0.0), x);
        const int fits = fabs(v) <= limit; /* false for NaN */
        bad[k] = !fits;
        q[k] = (int32_t)(fits ? v : 0.0);
    }
    if (kept == 64)
        for (int k = 0; k < 64; k++) any |= bad[k];
    else
        for (int k = 0; k < kept; k++) any |= bad[kZigzag[k]];
    store_zigzag(q, out, itemsize, kept);
    return !any;
}

/* ColorTransform's product with the JFIF matrix, rounded as OpenBLAS's FMA kernels round
 * it (b m2 + (g m1 + r m0)), then the chroma offset. */
#define YCC_FLOAT(r, gg, b, M, offset, fused, Y, Cb, Cr)                                      \
    do {                                                                                      \
        Y = MADD(fused, b, M[2], MADD(fused, gg, M[1], (r) * M[0]));                          \
        Cb = MADD(fused, b, M[5], MADD(fused, gg, M[4], (r) * M[3])) + (offset);              \
        Cr = MADD(fused, b, M[8], MADD(fused, gg, M[7], (r) * M[6])) + (offset);              \
    } while (0)

/* float: colour conversion, chroma means (vertical sums first, as ChromaSubsampler adds
 * them) and edge replication of MCU row mr. */
SKC_INLINE void prepare_float(const Geometry *g, const Work *w, const void *image,
                              int is_double, idx mr, int sub, const FloatParameters *f,
                              const int fused) {
    double *full = (double *)w->full;
    const idx Wp = w->Wp, W = g->W, plane = (idx)w->mcu_h * Wp;
    const int C = g->ncomp;
    const double *M = f->color, offset = f->chroma_offset;
    for (int k = 0; k < w->mcu_h; k++) {
        const idx y = source_row(g, mr, k);
        double *SKC_R Y = full + k * Wp;
        if (k > 0 && y == source_row(g, mr, k - 1)) {
            for (int c = 0; c < C; c++)
                memcpy(Y + c * plane, Y + c * plane - Wp, sizeof(double) * (size_t)Wp);
            continue;
        }
        const idx at = y * W * C;
        if (C == 1 && is_double) {
            memcpy(Y, (const double *)image + at, sizeof(double) * (size_t)W);
        } else if (C == 1) {
            const uint8_t *SKC_R p = (const uint8_t *)image + at;
            for (idx x = 0; x < W; x++) Y[x] = p[x];
        } else {
            double *SKC_R Cb = Y + plane, *SKC_R Cr = Y + 2 * plane;
            if (is_double) {
                const double *SKC_R p = (const double *)image + at;
                for (idx x = 0; x < W; x++)
                    YCC_FLOAT(p[3 * x], p[3 * x + 1], p[3 * x + 2], M, offset, fused, Y[x],
                              Cb[x], Cr[x]);
            } else {
                const uint8_t *SKC_R p = (const uint8_t *)image + at;
                for (idx x = 0; x < W; x++) {
                    const double r = p[3 * x], gg = p[3 * x + 1], b = p[3 * x + 2];
                    YCC_FLOAT(r, gg, b, M, offset, fused, Y[x], Cb[x], Cr[x]);
                }
            }
        }
        for (int c = 0; c < C; c++) {
            double *row = Y + c * plane;
            for (idx x = W; x < Wp; x++) row[x] = row[W - 1];
        }
    }
    if (C == 1 || sub == SUB_444) return;
    for (int c = 1; c < 3; c++) {
        const double *src = full + c * plane;
        double *dst = (double *)w->down + (c - 1) * 8 * w->Wc;
        for (int j = 0; j < 8; j++) {
            const double *SKC_R r0 = src + chroma_line(g, mr, j) * Wp;
            double *SKC_R o = dst + j * w->Wc;
            if (sub == SUB_422) {
                for (idx x = 0; x < w->Wc; x++) o[x] = (r0[2 * x] + r0[2 * x + 1]) * 0.5;
            } else {
                const double *SKC_R r1 = r0 + Wp;
                for (idx x = 0; x < w->Wc; x++)
                    o[x] = ((r0[2 * x] + r1[2 * x]) + (r0[2 * x + 1] + r1[2 * x + 1])) * 0.25;
            }
        }
    }
}

/* ---- The encoder ---------------------------------------------------------------------- */

typedef struct {
    idx image;
    int component;
    idx row, col;
} Failure;

#define ENCODE_ARGS                                                                          \
    const Geometry *g, const void *images, int is_double, int sub, int dct,                  \
        const int32_t steps[3][64], const FloatParameters *f, const Plane *planes, idx start, \
        idx stop, Failure *failure
#define ENCODE_PASS g, images, is_double, sub, dct, steps, f, planes, start, stop, failure

SKC_INLINE int encode_body(ENCODE_ARGS, const int fused, const int vector) {
    Work w;
    const size_t item = dct == DCT_ISLOW ? 1 : sizeof(double);
    if (work_alloc(&w, g, item) < 0) return -1;
    Divisors d[3];
#if SKC_VECTOR
    VDivisors dv[3];
#else
    int dv[3];
#endif
    for (int c = 0; c < g->ncomp; c++) {
        islow_divisors(steps[c], d + c);
#if SKC_VECTOR
        vector_divisors(d + c, dv + c);
#endif
    }
    const idx pixels = g->H * g->W * g->ncomp, plane = (idx)w.mcu_h * w.Wp;
    const int itemsize = planes[0].itemsize, kept = planes[0].k;
    const double limit = itemsize == 2 ? 32767.0 : 2147483647.0;
    double G[64];
    for (idx i = start; i < stop; i++) {
        const void *image = is_double ? (const void *)((const double *)images + i * pixels)
                                      : (const void *)((const uint8_t *)images + i * pixels);
        for (idx mr = 0; mr < g->mcu_rows; mr++) {
            if (dct == DCT_ISLOW)
                prepare_islow(g, &w, (const uint8_t *)image, mr, sub);
            else
                prepare_float(g, &w, image, is_double, mr, sub, f, fused);
            for (int c = 0; c < g->ncomp; c++) {
                const int full = c == 0 || sub == SUB_444;
                const idx stride = full ? w.Wp : w.Wc;
                const int block_rows = c == 0 ? g->vmax : 1;
                for (int by = 0; by < block_rows; by++) {
                    const idx br = mr * block_rows + by;
                    if (br >= g->rows[c]) break;
                    char *out = planes[c].data + i * planes[c].image_stride +
                                (idx)itemsize * kept * br * g->cols[c];
                    const idx first = (idx)by * 8 * stride;
                    if (dct == DCT_ISLOW) {
                        const uint8_t *src = full ? (const uint8_t *)w.full + c * plane
                                                  : (const uint8_t *)w.down + (c - 1) * 8 * w.Wc;
                        blocks_islow(src + first, stride, g->cols[c], d + c, dv + c, out,
                                     itemsize, kept, vector);
                        continue;
                    }
                    const double *src = full ? (const double *)w.full + c * plane
                                             : (const double *)w.down + (c - 1) * 8 * w.Wc;
                    for (idx bx = 0; bx < g->cols[c]; bx++, out += kept * itemsize) {
                        fdct_float(src + first + 8 * bx, stride, f, G, fused);
                        if (!quantize_float(G, f->steps[c], limit, out, itemsize, kept)) {
                            failure->image = i;
                            failure->component = c;
                            failure->row = br;
                            failure->col = bx;
                            work_free(&w);
                            return -2;
                        }
                    }
                }
            }
        }
    }
    work_free(&w);
    return 0;
}

static int encode_portable(ENCODE_ARGS) { return encode_body(ENCODE_PASS, 0, 0); }
#if SKC_AVX2
SKC_TARGET_AVX2 static int encode_avx2(ENCODE_ARGS) { return encode_body(ENCODE_PASS, 1, 1); }
#endif

/* ---- The decoder: libjpeg-turbo's jidctint.c, jdsample.c, jdcolor.c ------------------ */

/* IDCT_range_limit[x & RANGE_MASK] (jdmaster.c's table: x + 128 clamped to 0..255 for x in
 * -512..511, and x taken modulo 1024 beyond), as arithmetic */
#define RANGE_LIMIT(x) (((((x) + 512) & 1023) - 512) + 128)
SKC_INLINE uint8_t clamp8(int32_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* The 1-D transform of jidctint.c on d[0], d[s], ..., d[7 s], in place, the outputs
 * DESCALEd by `shift` (JLONG arithmetic when T is int64_t). */
#define IDCT_1D(T, d, s, shift)                                                               \
    do {                                                                                      \
        T z2 = d[2 * (s)], z3 = d[6 * (s)];                                                   \
        T z1 = (z2 + z3) * FIX_0_541196100;                                                   \
        T tmp2 = z1 + z3 * -FIX_1_847759065, tmp3 = z1 + z2 * FIX_0_765366865;                \
        T tmp0 = (d[0] + d[4 * (s)]) * (1 << CONST_BITS);                                     \
        T tmp1 = (d[0] - d[4 * (s)]) * (1 << CONST_BITS);                                     \
        T tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2; \
        tmp0 = d[7 * (s)];                                                                    \
        tmp1 = d[5 * (s)];                                                                    \
        tmp2 = d[3 * (s)];                                                                    \
        tmp3 = d[s];                                                                          \
        z1 = tmp0 + tmp3;                                                                     \
        z2 = tmp1 + tmp2;                                                                     \
        z3 = tmp0 + tmp2;                                                                     \
        T z4 = tmp1 + tmp3, z5 = (z3 + z4) * FIX_1_175875602;                                 \
        tmp0 *= FIX_0_298631336;                                                              \
        tmp1 *= FIX_2_053119869;                                                              \
        tmp2 *= FIX_3_072711026;                                                              \
        tmp3 *= FIX_1_501321110;                                                              \
        z1 *= -FIX_0_899976223;                                                               \
        z2 *= -FIX_2_562915447;                                                               \
        z3 = z3 * -FIX_1_961570560 + z5;                                                      \
        z4 = z4 * -FIX_0_390180644 + z5;                                                      \
        tmp0 += z1 + z3;                                                                      \
        tmp1 += z2 + z4;                                                                      \
        tmp2 += z2 + z3;                                                                      \
        tmp3 += z1 + z4;                                                                      \
        d[0] = (tmp10 + tmp3 + (1 << ((shift)-1))) >> (shift);                             \
        d[7 * (s)] = (tmp10 - tmp3 + (1 << ((shift)-1))) >> (shift);                       \
        d[s] = (tmp11 + tmp2 + (1 << ((shift)-1))) >> (shift);                             \
        d[6 * (s)] = (tmp11 - tmp2 + (1 << ((shift)-1))) >> (shift);                       \
        d[2 * (s)] = (tmp12 + tmp1 + (1 << ((shift)-1))) >> (shift);                       \
        d[5 * (s)] = (tmp12 - tmp1 + (1 << ((shift)-1))) >> (shift);                       \
        d[3 * (s)] = (tmp13 + tmp0 + (1 << ((shift)-1))) >> (shift);                       \
        d[4 * (s)] = (tmp13 - tmp0 + (1 << ((shift)-1))) >> (shift);                       \
    } while (0)

/* jpeg_idct_islow of a dequantized block (natural order, each value within 32 bits), in
 * JLONG (64-bit) arithmetic as on LP64 platforms, the workspace in ints; 8 rows of 8
 * samples written `stride` apart. (libjpeg's shortcuts for columns and rows without AC
 * coefficients give the same values as the full computation.) */
SKC_INLINE void idct_islow(const int32_t *in, uint8_t *out, idx stride) {
    int64_t d[64];
    for (int k = 0; k < 64; k++) d[k] = in[k];
    for (int c = 0; c < 8; c++) {
        int64_t *p = d + c;
        IDCT_1D(int64_t, p, 8, CONST_BITS - PASS1_BITS);
        for (int k = 0; k < 8; k++) p[8 * k] = (int32_t)p[8 * k]; /* the int workspace */
    }
    for (int r = 0; r < 8; r++, out += stride) {
        int64_t *p = d + 8 * r;
        IDCT_1D(int64_t, p, 1, CONST_BITS + PASS1_BITS + 3);
        for (int x = 0; x < 8; x++) out[x] = clamp8((int32_t)RANGE_LIMIT(p[x]));
    }
}

#if SKC_VECTOR
/* The same in 32-bit lanes, columns then rows at once, for blocks whose values keep every
 * intermediate within 32 bits: |input| and |workspace| <= IDCT_SAFE (the largest sum of
 * products is 178219 times that, plus the rounding). Returns 0 when a block is outside. */
#define IDCT_SAFE 12000
SKC_INLINE int idct_islow_vector(const int32_t *in, uint8_t *out, idx stride) {
    v8si r[8], bad = {0};
    for (int k = 0; k < 8; k++) {
        memcpy(r + k, in + 8 * k, sizeof(v8si));
        bad |= (r[k] > IDCT_SAFE) | (r[k] < -IDCT_SAFE);
    }
    IDCT_1D(v8si, r, 1, CONST_BITS - PASS1_BITS); /* the columns, lanes the columns */
    for (int k = 0; k < 8; k++) bad |= (r[k] > IDCT_SAFE) | (r[k] < -IDCT_SAFE);
    int any = 0;
    for (int l = 0; l < 8; l++) any |= bad[l];
    if (any) return 0;
    transpose8(r); /* r[k]: column k of the workspace, lanes the rows */
    IDCT_1D(v8si, r, 1, CONST_BITS + PASS1_BITS + 3);
    transpose8(r); /* r[y]: row y of the samples */
    for (int y = 0; y < 8; y++) {
        v8si v = RANGE_LIMIT(r[y]);
        v = (v & (v >= 0)) | (v > 255);        /* clamp: negative to 0, over 255 to -1 */
        v8qu bytes = __builtin_convertvector(__builtin_convertvector(v, v8hi), v8qu);
        memcpy(out + y * stride, &bytes, sizeof bytes);
    }
    return 1;
}
#endif

/* The samples of component c of one image: (rows * 8) x (cols * 8), row stride cols * 8.
 * Returns 0, or -1 with `failure` set when a coefficient is outside libjpeg's JCOEF. */
SKC_INLINE int decode_plane(const Plane *plane, idx image, idx rows, idx cols,
                            const int32_t *steps, uint8_t *samples, Failure *failure, int c,
                            const int vector) {
    const char *base = plane->data + image * plane->image_stride;
    const idx stride = cols * 8;
    const int kept = plane->k;
    int32_t block[64];
    memset(block, 0, sizeof block);
    for (idx r = 0; r < rows; r++)
        for (idx b = 0; b < cols; b++) {
            const idx at = (r * cols + b) * kept;
            if (plane->itemsize == 2) {
                const int16_t *s = (const int16_t *)base + at;
                for (int k = 0; k < kept; k++) block[kZigzag[k]] = s[k] * steps[kZigzag[k]];
            } else {
                const int32_t *s = (const int32_t *)base + at;
                int32_t bad = 0;
                for (int k = 0; k < kept; k++) {
                    bad |= (s[k] < -32768) | (s[k] > 32767);
                    block[kZigzag[k]] = bad ? 0 : s[k] * steps[kZigzag[k]];
                }
                if (bad) {
                    failure->image = image;
                    failure->component = c;
                    failure->row = r;
                    failure->col = b;
                    return -1;
                }
            }
            uint8_t *out = samples + r * 8 * stride + b * 8;
#if SKC_VECTOR
            if (vector && idct_islow_vector(block, out, stride)) continue;
#endif
            (void)vector;
            idct_islow(block, out, stride);
        }
    return 0;
}

/* Chroma row y (W samples) upsampled as jdsample.c does, from a plane of hc x wc real
 * samples, rows `stride` apart. `sums` holds wc + 2 values: the samples (h2v1) or the
 * column sums 3 near + far (h2v2), with the first and last repeated at both ends, so
 * that the triangle filter has no special cases. Returns the row (in the plane for
 * 4:4:4, else `out`). */
SKC_INLINE const uint8_t *upsample_row(const uint8_t *plane, idx stride, const Geometry *g,
                                       int sub, idx y, int32_t *SKC_R sums,
                                       uint8_t *SKC_R out) {
    const idx wc = g->wc, W = g->W;
    if (sub == SUB_444) return plane + y * stride;
    const idx c = sub == SUB_420 ? y >> 1 : y;
    const uint8_t *SKC_R near = plane + c * stride;
    if (wc <= 2) { /* h2v1_upsample, h2v2_upsample: replication */
        for (idx x = 0; x < W; x++) out[x] = near[x >> 1];
        return out;
    }
    const idx pairs = (W + 1) >> 1;
    if (sub == SUB_422) { /* h2v1_fancy_upsample */
        for (idx s = 0; s < wc; s++) sums[s + 1] = near[s];
        sums[0] = sums[1];
        sums[wc + 1] = sums[wc];
        for (idx s = 0; s < pairs; s++) {
            out[2 * s] = (uint8_t)((3 * sums[s + 1] + sums[s] + 1) >> 2);
            out[2 * s + 1] = (uint8_t)((3 * sums[s + 1] + sums[s + 2] + 2) >> 2);
        }
        return out;
    }
    /* h2v2_fancy_upsample: the row above (even y) or below (odd y), replicated at the
     * image's first and last chroma rows (jdmainct.c's context rows) */
    idx other = (y & 1) ? c + 1 : c - 1;
    if (other < 0) other = 0;
    if (other > g->hc - 1) other = g->hc - 1;
    const uint8_t *SKC_R far = plane + other * stride;
    for (idx s = 0; s < wc; s++) sums[s + 1] = 3 * near[s] + far[s];
    sums[0] = sums[1];
    sums[wc + 1] = sums[wc];
    for (idx s = 0; s < pairs; s++) {
        out[2 * s] = (uint8_t)((3 * sums[s + 1] + sums[s] + 8) >> 4);
        out[2 * s + 1] = (uint8_t)((3 * sums[s + 1] + sums[s + 2] + 7) >> 4);
    }
    return out;
}

/* jdcolor.c's ycc_rgb_convert of one row: its tables' values as arithmetic */
SKC_INLINE void ycc_rgb_row(const uint8_t *SKC_R Y, const uint8_t *SKC_R Cb,
                            const uint8_t *SKC_R Cr, uint8_t *SKC_R out, idx W) {
    for (idx x = 0; x < W; x++) {
        const int32_t y = Y[x], cb = (int32_t)Cb[x] - 128, cr = (int32_t)Cr[x] - 128;
        out[3 * x] = clamp8(y + ((CFIX(1.40200) * cr + C_HALF) >> CSCALE));
        out[3 * x + 1] =
            clamp8(y + ((-CFIX(0.34414) * cb + C_HALF - CFIX(0.71414) * cr) >> CSCALE));
        out[3 * x + 2] = clamp8(y + ((CFIX(1.77200) * cb + C_HALF) >> CSCALE));
    }
}

#define DECODE_ARGS                                                                          \
    const Geometry *g, const Plane *planes, const int32_t steps[3][64], int sub,             \
        uint8_t *output, int out_channels, idx start, idx stop, Failure *failure
#define DECODE_PASS g, planes, steps, sub, output, out_channels, start, stop, failure

SKC_INLINE int decode_body(DECODE_ARGS, const int vector) {
    size_t total = 0;
    idx offsets[3];
    for (int c = 0; c < g->ncomp; c++) {
        offsets[c] = (idx)total;
        total += (size_t)(g->rows[c] * 8) * (size_t)(g->cols[c] * 8);
    }
    const idx row_bytes = 2 * g->wc + 2; /* an upsampled row, with room for odd W */
    uint8_t *samples = (uint8_t *)malloc(total + 2 * (size_t)row_bytes);
    int32_t *sums = (int32_t *)malloc(sizeof(int32_t) * ((size_t)g->wc + 2));
    if (!samples || !sums) {
        free(samples);
        free(sums);
        return -1;
    }
    uint8_t *cb_row = samples + total, *cr_row = cb_row + row_bytes;
    const int convert = g->ncomp == 3 && out_channels == 3;
    const int used = convert ? 3 : 1; /* a gray output reads the Y plane only */
    const idx H = g->H, W = g->W, ys = g->cols[0] * 8, cs = g->cols[1] * 8;
    int status = 0;
    for (idx i = start; i < stop && status == 0; i++) {
        for (int c = 0; c < used && status == 0; c++)
            if (decode_plane(planes + c, i, g->rows[c], g->cols[c], steps[c],
                             samples + offsets[c], failure, c, vector) < 0)
                status = -2;
        if (status) break;
        uint8_t *out = output + i * H * W * out_channels;
        for (idx y = 0; y < H; y++, out += W * out_channels) {
            const uint8_t *yrow = samples + y * ys;
            if (convert) {
                const uint8_t *cb = upsample_row(samples + offsets[1], cs, g, sub, y, sums, cb_row);
                const uint8_t *cr = upsample_row(samples + offsets[2], cs, g, sub, y, sums, cr_row);
                ycc_rgb_row(yrow, cb, cr, out, W);
            } else if (out_channels == 1) {
                memcpy(out, yrow, (size_t)W);
            } else {
                for (idx x = 0; x < W; x++) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = yrow[x];
            }
        }
    }
    free(samples);
    free(sums);
    return status;
}

static int decode_portable(DECODE_ARGS) { return decode_body(DECODE_PASS, 0); }
#if SKC_AVX2
SKC_TARGET_AVX2 static int decode_avx2(DECODE_ARGS) { return decode_body(DECODE_PASS, 1); }
#endif

/* ---- Builds ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int (*encode)(ENCODE_ARGS);
    int (*decode)(DECODE_ARGS);
} Build;

static Build builds[2];
static int n_builds = 0;
static const Build *build = NULL;

static PyObject *encode(PyObject *self, PyObject *args) {
    PyObject *images_obj, *tables_obj, *outputs, *parameters_obj;
    int sub, dct;
    idx start, stop;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOiinnO", &images_obj, &tables_obj, &outputs, &sub, &dct,
                          &start, &stop, &parameters_obj))
        return NULL;
    if (sub < SUB_444 || sub > SUB_420 || (dct != DCT_ISLOW && dct != DCT_FLOAT)) {
        PyErr_SetString(PyExc_ValueError, "encode: unknown subsampling or dct");
        return NULL;
    }
    Py_buffer images, views[3];
    int n_views = 0;
    if (get_view(images_obj, &images, 0, "images") < 0) return NULL;
    char code = format_of(&images, "Bd");
    const int colour = images.ndim == 4;
    PyObject *result = NULL;
    if (!code || images.itemsize != (code == 'B' ? 1 : 8) ||
        !PyBuffer_IsContiguous(&images, 'C') || (images.ndim != 3 && images.ndim != 4) ||
        (colour && images.shape[3] != 3)) {
        PyErr_SetString(PyExc_ValueError,
                        "images must be a C-contiguous uint8 or float64 array (n, H, W) or "
                        "(n, H, W, 3)");
        goto done;
    }
    if (code == 'd' && dct == DCT_ISLOW) {
        PyErr_SetString(PyExc_ValueError, "images: dct='islow' takes uint8 samples");
        goto done;
    }
    if (images.shape[1] < 1 || images.shape[2] < 1) {
        PyErr_SetString(PyExc_ValueError, "images must be at least 1 x 1 pixels");
        goto done;
    }
    Geometry g;
    if (!colour) sub = SUB_444;
    geometry(&g, images.shape[0], images.shape[1], images.shape[2], colour ? 3 : 1, sub);
    if (start < 0 || stop > g.n || start > stop) {
        PyErr_SetString(PyExc_ValueError, "encode: image range out of bounds");
        goto done;
    }
    int32_t steps[3][64];
    if (read_tables(tables_obj, g.ncomp, steps) < 0) goto done;
    Plane planes[3];
    if (read_planes(outputs, &g, 1, "outputs", views, planes, &n_views) < 0) goto done;
    FloatParameters f;
    memset(&f, 0, sizeof f);
    if (dct == DCT_FLOAT) {
        Py_buffer p;
        if (get_view(parameters_obj, &p, 0, "parameters") < 0) goto done;
        int ok = format_is(&p, 'd') && PyBuffer_IsContiguous(&p, 'C') &&
                 p.len == (idx)(N_PARAMETERS * sizeof(double));
        if (ok) {
            const double *v = (const double *)p.buf;
            memcpy(f.A, v, sizeof f.A);
            memcpy(f.Bt, v + 64, sizeof f.Bt);
            memcpy(f.offset, v + 128, sizeof f.offset);
            memcpy(f.color, v + 192, sizeof f.color);
            f.chroma_offset = v[201];
        }
        PyBuffer_Release(&p);
        if (!ok) {
            PyErr_Format(PyExc_ValueError, "parameters must be %d contiguous float64 values",
                         (int)N_PARAMETERS);
            goto done;
        }
        for (int c = 0; c < g.ncomp; c++)
            for (int k = 0; k < 64; k++) f.steps[c][k] = (double)steps[c][k];
    }
    Failure failure;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = build->encode(&g, images.buf, code == 'd', sub, dct, steps, &f, planes, start,
                           stop, &failure);
    Py_END_ALLOW_THREADS
    if (status == -1) {
        PyErr_NoMemory();
    } else if (status == -2) {
        PyErr_Format(PyExc_ValueError,
                     "images: image %zd gives a symbol that is not finite or beyond %s in "
                     "component %d, block (%zd, %zd); rescale the samples or use larger steps",
                     failure.image, planes[0].itemsize == 2 ? "int16" : "int32",
                     failure.component, failure.row, failure.col);
    } else {
        result = Py_None;
        Py_INCREF(result);
    }
done:
    release_all(views, n_views);
    PyBuffer_Release(&images);
    return result;
}

static PyObject *decode(PyObject *self, PyObject *args) {
    PyObject *coefficients, *tables_obj, *output_obj;
    int sub;
    idx start, stop;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOinn", &coefficients, &tables_obj, &output_obj, &sub,
                          &start, &stop))
        return NULL;
    if (!PyTuple_Check(coefficients) ||
        (PyTuple_GET_SIZE(coefficients) != 1 && PyTuple_GET_SIZE(coefficients) != 3)) {
        PyErr_SetString(PyExc_ValueError,
                        "coefficients must be a tuple of 1 (gray) or 3 (YCbCr) arrays");
        return NULL;
    }
    if (sub < SUB_444 || sub > SUB_420) {
        PyErr_SetString(PyExc_ValueError, "decode: unknown subsampling");
        return NULL;
    }
    const int ncomp = (int)PyTuple_GET_SIZE(coefficients);
    Py_buffer output, views[3];
    int n_views = 0;
    PyObject *result = NULL;
    if (get_view(output_obj, &output, 1, "output") < 0) return NULL;
    const int channels = output.ndim == 4 ? (int)output.shape[3] : 1;
    if (!format_is(&output, 'B') || output.itemsize != 1 ||
        !PyBuffer_IsContiguous(&output, 'C') || (output.ndim != 3 && output.ndim != 4) ||
        (output.ndim == 4 && channels != 3) || output.shape[1] < 1 || output.shape[2] < 1) {
        PyErr_SetString(PyExc_ValueError,
                        "output must be a writable C-contiguous uint8 array (n, H, W) or "
                        "(n, H, W, 3)");
        goto done;
    }
    Geometry g;
    geometry(&g, output.shape[0], output.shape[1], output.shape[2], ncomp,
             ncomp == 3 ? sub : SUB_444);
    if (start < 0 || stop > g.n || start > stop) {
        PyErr_SetString(PyExc_ValueError, "decode: image range out of bounds");
        goto done;
    }
    int32_t steps[3][64];
    if (read_tables(tables_obj, ncomp, steps) < 0) goto done;
    Plane planes[3];
    if (read_planes(coefficients, &g, 0, "coefficients", views, planes, &n_views) < 0)
        goto done;
    Failure failure;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = build->decode(&g, planes, steps, ncomp == 3 ? sub : SUB_444,
                           (uint8_t *)output.buf, channels, start, stop, &failure);
    Py_END_ALLOW_THREADS
    if (status == -1) {
        PyErr_NoMemory();
    } else if (status == -2) {
        PyErr_Format(PyExc_ValueError,
                     "coefficients[%d]: block (%zd, %zd) of image %zd holds a coefficient "
                     "outside -32768..32767 (libjpeg's 16-bit coefficients)",
                     failure.component, failure.row, failure.col, failure.image);
    } else {
        result = Py_None;
        Py_INCREF(result);
    }
done:
    release_all(views, n_views);
    PyBuffer_Release(&output);
    return result;
}

/* ---- The module ----------------------------------------------------------------------- */

static PyObject *py_builds(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyObject *names = PyTuple_New(n_builds);
    for (int i = 0; names && i < n_builds; i++)
        PyTuple_SET_ITEM(names, i, PyUnicode_FromString(builds[i].name));
    return names;
}

static PyObject *py_build(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyUnicode_FromString(build->name);
}

static PyObject *py_use(PyObject *self, PyObject *args) {
    const char *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    for (int i = 0; i < n_builds; i++)
        if (strcmp(builds[i].name, name) == 0) {
            build = builds + i;
            Py_RETURN_NONE;
        }
    PyErr_Format(PyExc_ValueError, "no build %s here", name);
    return NULL;
}

static PyMethodDef methods[] = {
    {"encode", encode, METH_VARARGS,
     "encode(images, tables, outputs, subsampling, dct, start, stop, parameters): quantized "
     "coefficients of images start..stop-1 into `outputs` (one array per component)."},
    {"decode", decode, METH_VARARGS,
     "decode(coefficients, tables, output, subsampling, start, stop): libjpeg's pixels of "
     "images start..stop-1 into `output`."},
    {"builds", py_builds, METH_NOARGS, "The builds this processor runs, slowest first."},
    {"build", py_build, METH_NOARGS, "The build in use."},
    {"use", py_use, METH_VARARGS, "use(name): switch to another build (for tests)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jpeg_kernel",
                                    "Baseline JPEG between pixels and quantized coefficients.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__jpeg_kernel(void) {
    builds[n_builds++] = (Build){"portable", encode_portable, decode_portable};
#if SKC_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        builds[n_builds++] = (Build){"avx2", encode_avx2, decode_avx2};
#endif
    build = builds + n_builds - 1;
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "N_PARAMETERS", N_PARAMETERS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
