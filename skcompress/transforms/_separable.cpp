// Separable transforms of 2-D blocks: the hot loop of BlockDCT.
//
// For every block R (bh rows x bw columns) of a batch of channels-last images
// (S, H, W, C), the kernel computes Y = A R B^T with two passes over rows:
// T = A R (rows combined, columns kept as SIMD vectors), then Y = T B^T (each
// row of Y a sum of the rows of B^T weighted by one value of T). Neither pass
// transposes anything, and both keep whole rows in SIMD registers.
//
// forward: R = pixels of a block (edge-replicated past the border, converted
//          to float; read in place when no conversion is needed), and
//          out[j] = (Y + offset)[pos[j]] for the k kept coefficients.
// inverse: R = base + the coefficients scattered to pos, and the pixels of Y
//          inside the image are written back.
//
// With `sym`, A's rows are alternately symmetric and antisymmetric (the DCT
// family): forward folds R[y] +- R[bh-1-y] first, inverse (A = M^T) unfolds,
// halving the first pass. Work is split by the caller into ranges of block
// rows; the GIL is released, so Python threads run ranges in parallel. Two
// builds of the same code are dispatched at import: AVX2+FMA and baseline.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define SKC_VECTOR 1
#define SKC_R __restrict__
#define SKC_INLINE static inline __attribute__((always_inline))
#define SKC_METHOD inline __attribute__((always_inline))
#else
#define SKC_METHOD inline
#define SKC_VECTOR 0
#define SKC_R
#define SKC_INLINE static inline
#endif

namespace {

typedef Py_ssize_t idx;

template <typename T, int NL> struct Vec {
#if SKC_VECTOR
    typedef T type __attribute__((vector_size(NL * sizeof(T))));
#endif
};
template <typename T> struct Vec<T, 1> {
    typedef T type;
};

struct Geometry {
    idx H, W, C, bh, bw, h, w;
};

template <typename T, int NL> struct Rows {
    typedef typename Vec<T, NL>::type V;

    static SKC_METHOD V load(const T *p) {
        V v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    static SKC_METHOD void store(T *p, const V &v) { memcpy(p, &v, sizeof v); }

    // out = A R for R of n rows of bw values, row y at R[y].
    // sym: 0 none, 1 fold R first (forward), 2 unfold the result (inverse).
    static SKC_METHOD void combine(const T *SKC_R A, const T *const *R, T *SKC_R out, int sym,
                                   T *SKC_R fold, const int n, const int bw) {
        const int half = n / 2;
        for (int j = 0; j < bw; j += NL) {
            T *o = out + j;
            if (sym == 1) {
                T *p = fold + j, *q = fold + half * bw + j;
                for (int y = 0; y < half; y++) {
                    V a = load(R[y] + j), b = load(R[n - 1 - y] + j);
                    store(p + y * bw, a + b);
                    store(q + y * bw, a - b);
                }
                for (int u = 0; u < n; u++) {
                    const T *src = (u & 1) ? q : p;
                    V acc = A[u * n] * load(src);
                    for (int y = 1; y < half; y++) acc += A[u * n + y] * load(src + y * bw);
                    store(o + u * bw, acc);
                }
            } else if (sym == 2) {
                for (int y = 0; y < half; y++) {
                    V even = A[y * n] * load(R[0] + j), odd = A[y * n + 1] * load(R[1] + j);
                    for (int u = 2; u < n; u += 2) {
                        even += A[y * n + u] * load(R[u] + j);
                        odd += A[y * n + u + 1] * load(R[u + 1] + j);
                    }
                    store(o + y * bw, even + odd);
                    store(o + (n - 1 - y) * bw, even - odd);
                }
            } else {
                for (int u = 0; u < n; u++) {
                    V acc = A[u * n] * load(R[0] + j);
                    for (int y = 1; y < n; y++) acc += A[u * n + y] * load(R[y] + j);
                    store(o + u * bw, acc);
                }
            }
        }
    }

    // Y = Tm B^T (+ offset), rows ys values apart in Y: row u of Y is the sum
    // over x of Tm[u, x] * Bt[x, :].
    static SKC_METHOD void mix(const T *SKC_R Bt, const T *SKC_R Tm, const T *SKC_R offset,
                               T *SKC_R Y, const idx ys, const int n, const int bw) {
        for (int u = 0; u < n; u++) {
            const T *t = Tm + u * bw;
            for (int j = 0; j < bw; j += NL) {
                V acc = t[0] * load(Bt + j);
                if (offset) acc += load(offset + u * bw + j);
                for (int x = 1; x < bw; x++) acc += t[x] * load(Bt + x * bw + j);
                store(Y + u * ys + j, acc);
            }
        }
    }
};

template <typename T> struct Scratch {
    T *R, *Tm, *Y, *fold;
    idx *rows;        // offsets of the rows of a block row in the images, bh of them
    const T **ptrs;   // rows of the block being transformed, bh of them
};

// JPEG's zig-zag scan of an 8x8 block (raster positions), so that the
// common case is written with constant offsets.
const int32_t kZigzag8[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

enum Order { GENERAL, NATURAL, ZIGZAG8 };

Order order_of(const int32_t *pos, int k, idx bh, idx bw) {
    bool natural = k == bh * bw, zigzag = bh == 8 && bw == 8 && k == 64;
    for (int j = 0; j < k; j++) {
        natural = natural && pos[j] == j;
        zigzag = zigzag && pos[j] == kZigzag8[j];
    }
    return natural ? NATURAL : zigzag ? ZIGZAG8 : GENERAL;
}

template <typename A, typename B> struct Same {
    enum { value = 0 };
};
template <typename A> struct Same<A, A> {
    enum { value = 1 };
};

template <typename S, typename T, int NL, int BH, int BW>
SKC_INLINE void forward_rows(const S *src, T *out, idx r0, idx r1, const Geometry &g,
                             const T *A, const T *Bt, int sym, int k, const int32_t *pos,
                             const T *offset, Scratch<T> m) {
    const int bh = BH ? BH : (int)g.bh, bw = BW ? BW : (int)g.bw;
    alignas(32) T local[4 * (BH * BW ? BH * BW : 1)];
    idx local_rows[BH ? BH : 1];
    const T *local_ptrs[BH ? BH : 1];
    if (BH && BW)
        m = Scratch<T>{local,      local + BH * BW, local + 2 * BH * BW, local + 3 * BH * BW,
                       local_rows, local_ptrs};
    const idx row_stride = g.W * g.C;
    const Order order = order_of(pos, k, bh, bw);
    for (idx r = r0; r < r1; r++) {
        const idx s = r / g.h, bi = r % g.h;
        for (int y = 0; y < bh; y++) {
            idx row = bi * bh + y;
            if (row >= g.H) row = g.H - 1;  // edge replication, as libjpeg pads
            m.rows[y] = (s * g.H + row) * row_stride;
        }
        for (idx bj = 0; bj < g.w; bj++) {
            const bool inside = (bj + 1) * bw <= g.W;
            for (idx c = 0; c < g.C; c++) {
                if (Same<S, T>::value && inside && g.C == 1) {
                    for (int y = 0; y < bh; y++)  // read in place
                        m.ptrs[y] = (const T *)(src + m.rows[y] + bj * bw);
                } else {
                    const idx cols = inside ? bw : g.W - bj * bw;
                    for (int y = 0; y < bh; y++) {
                        const S *p = src + m.rows[y] + bj * bw * g.C + c;
                        T *d = m.R + y * bw;
                        if (g.C == 1 && inside) {
                            for (int x = 0; x < bw; x++) d[x] = (T)p[x];
                        } else {
                            for (idx x = 0; x < cols; x++) d[x] = (T)p[x * g.C];
                            for (idx x = cols; x < bw; x++) d[x] = d[cols - 1];
                        }
                        m.ptrs[y] = d;
                    }
                }
                Rows<T, NL>::combine(A, m.ptrs, m.Tm, sym, m.fold, bh, bw);
                Rows<T, NL>::mix(Bt, m.Tm, offset, m.Y, bw, bh, bw);
                T *SKC_R o = out + (((s * g.h + bi) * g.w + bj) * g.C + c) * k;
                if (order == NATURAL) {
                    memcpy(o, m.Y, sizeof(T) * bh * bw);
                } else if (BH == 8 && BW == 8 && order == ZIGZAG8) {
                    for (int j = 0; j < 64; j++) o[j] = m.Y[kZigzag8[j]];
                } else {
                    for (int j = 0; j < k; j++) o[j] = m.Y[pos[j]];
                }
            }
        }
    }
}

template <typename T, int NL, int BH, int BW>
SKC_INLINE void inverse_rows(const T *coef, T *dst, idx r0, idx r1, const Geometry &g,
                             const T *A, const T *Bt, int sym, int k, const int32_t *pos,
                             const T *base, Scratch<T> m) {
    const int bh = BH ? BH : (int)g.bh, bw = BW ? BW : (int)g.bw;
    alignas(32) T local[4 * (BH * BW ? BH * BW : 1)];
    const T *local_ptrs[BH ? BH : 1];
    if (BH && BW)
        m = Scratch<T>{local, local + BH * BW, local + 2 * BH * BW, local + 3 * BH * BW, 0,
                       local_ptrs};
    for (int y = 0; y < bh; y++) m.ptrs[y] = m.R + y * bw;
    const Order order = order_of(pos, k, bh, bw);
    for (idx r = r0; r < r1; r++) {
        const idx s = r / g.h, bi = r % g.h;
        const idx rows = (bi + 1) * bh <= g.H ? bh : g.H - bi * bh;  // crop the padding
        for (idx bj = 0; bj < g.w; bj++) {
            const idx cols = (bj + 1) * bw <= g.W ? bw : g.W - bj * bw;
            for (idx c = 0; c < g.C; c++) {
                const T *in = coef + (((s * g.h + bi) * g.w + bj) * g.C + c) * k;
                if (order == NATURAL) {
                    for (int j = 0; j < bh * bw; j++) m.R[j] = base[j] + in[j];
                } else if (BH == 8 && BW == 8 && order == ZIGZAG8) {
                    for (int j = 0; j < 64; j++) m.R[kZigzag8[j]] = base[kZigzag8[j]] + in[j];
                } else {
                    memcpy(m.R, base, sizeof(T) * bh * bw);
                    for (int j = 0; j < k; j++) m.R[pos[j]] += in[j];
                }
                Rows<T, NL>::combine(A, m.ptrs, m.Tm, sym, m.fold, bh, bw);
                T *d = dst + ((s * g.H + bi * bh) * g.W + bj * bw) * g.C + c;
                if (rows == bh && cols == bw && g.C == 1) {
                    Rows<T, NL>::mix(Bt, m.Tm, (const T *)0, d, g.W, bh, bw);  // in place
                    continue;
                }
                Rows<T, NL>::mix(Bt, m.Tm, (const T *)0, m.Y, bw, bh, bw);
                for (idx y = 0; y < rows; y++, d += g.W * g.C) {
                    const T *v = m.Y + y * bw;
                    for (idx x = 0; x < cols; x++) d[x * g.C] = v[x];
                }
            }
        }
    }
}

// The widest vector (up to 32 bytes) whose lanes divide the block width.
template <typename T> int lanes_for(idx bw) {
#if SKC_VECTOR
    const int wide = 32 / (int)sizeof(T);
    for (int nl = wide; nl > 1; nl /= 2)
        if (bw % nl == 0) return nl;
#endif
    (void)bw;
    return 1;
}

template <typename S, typename T>
SKC_INLINE void forward_dispatch(const void *src, void *out, idx r0, idx r1, const Geometry &g,
                                 const void *A, const void *Bt, int sym, int k,
                                 const int32_t *pos, const void *offset,
                                 Scratch<T> m) {
#define SKC_FWD(NL, BH, BW)                                                                  \
    forward_rows<S, T, NL, BH, BW>((const S *)src, (T *)out, r0, r1, g, (const T *)A,       \
                                   (const T *)Bt, sym, k, pos, (const T *)offset, m)
    const int nl = lanes_for<T>(g.bw);
#if SKC_VECTOR
    const int wide = 32 / (int)sizeof(T);
    if (g.bh == 8 && g.bw == 8 && nl == (wide < 8 ? wide : 8)) {
        SKC_FWD((32 / sizeof(T) < 8 ? 32 / sizeof(T) : 8), 8, 8);
        return;
    }
    if (nl == wide) {
        SKC_FWD(32 / sizeof(T), 0, 0);
        return;
    }
    if (nl == wide / 2) {
        SKC_FWD(16 / sizeof(T), 0, 0);
        return;
    }
#endif
    (void)nl;
    SKC_FWD(1, 0, 0);
#undef SKC_FWD
}

template <typename T>
SKC_INLINE void inverse_dispatch(const void *coef, void *dst, idx r0, idx r1, const Geometry &g,
                                 const void *A, const void *Bt, int sym, int k,
                                 const int32_t *pos, const void *base,
                                 Scratch<T> m) {
#define SKC_INV(NL, BH, BW)                                                                  \
    inverse_rows<T, NL, BH, BW>((const T *)coef, (T *)dst, r0, r1, g, (const T *)A,         \
                                (const T *)Bt, sym, k, pos, (const T *)base, m)
    const int nl = lanes_for<T>(g.bw);
#if SKC_VECTOR
    const int wide = 32 / (int)sizeof(T);
    if (g.bh == 8 && g.bw == 8 && nl == (wide < 8 ? wide : 8)) {
        SKC_INV((32 / sizeof(T) < 8 ? 32 / sizeof(T) : 8), 8, 8);
        return;
    }
    if (nl == wide) {
        SKC_INV(32 / sizeof(T), 0, 0);
        return;
    }
    if (nl == wide / 2) {
        SKC_INV(16 / sizeof(T), 0, 0);
        return;
    }
#endif
    (void)nl;
    SKC_INV(1, 0, 0);
#undef SKC_INV
}

// Element types, numbered as the Python side numbers them.
enum { U8, I8, U16, I16, U32, I32, F32, F64 };

struct Call {
    const void *src;
    void *dst;
    int src_type, dst_type;
    idx r0, r1;
    Geometry g;
    const void *A, *Bt;
    int sym, k;
    const int32_t *pos;
    const void *extra;  // offset (forward, may be null) or base (inverse)
    void *scratch;
};

template <typename T> Scratch<T> scratch_of(const Call &c) {
    T *m = (T *)c.scratch;
    const idx n = c.g.bh * c.g.bw;
    idx *rows = (idx *)(m + 4 * n);
    return Scratch<T>{m, m + n, m + 2 * n, m + 3 * n, rows, (const T **)(rows + c.g.bh)};
}

template <typename T> SKC_INLINE void run_forward_t(const Call &c) {
    const Scratch<T> m = scratch_of<T>(c);
#define SKC_CASE(CODE, S)                                                                    \
    case CODE:                                                                               \
        forward_dispatch<S, T>(c.src, c.dst, c.r0, c.r1, c.g, c.A, c.Bt, c.sym, c.k, c.pos,  \
                               c.extra, m);                                         \
        break;
    switch (c.src_type) {
        SKC_CASE(U8, uint8_t)
        SKC_CASE(I8, int8_t)
        SKC_CASE(U16, uint16_t)
        SKC_CASE(I16, int16_t)
        SKC_CASE(U32, uint32_t)
        SKC_CASE(I32, int32_t)
        SKC_CASE(F32, float)
        SKC_CASE(F64, double)
    }
#undef SKC_CASE
}

SKC_INLINE void run(const Call &c, bool forward) {
    if (forward) {
        if (c.dst_type == F32)
            run_forward_t<float>(c);
        else
            run_forward_t<double>(c);
    } else if (c.dst_type == F32) {
        inverse_dispatch<float>(c.src, c.dst, c.r0, c.r1, c.g, c.A, c.Bt, c.sym, c.k, c.pos,
                                c.extra, scratch_of<float>(c));
    } else {
        inverse_dispatch<double>(c.src, c.dst, c.r0, c.r1, c.g, c.A, c.Bt, c.sym, c.k, c.pos,
                                 c.extra, scratch_of<double>(c));
    }
}

void run_baseline(const Call &c, bool forward) { run(c, forward); }

#if SKC_VECTOR && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("avx2,fma"))) void run_avx2(const Call &c, bool forward) {
    run(c, forward);
}
bool has_avx2() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
void run_avx2(const Call &c, bool forward) { run(c, forward); }
bool has_avx2() { return false; }
#endif

void (*kernel)(const Call &, bool) = nullptr;

PyObject *call(PyObject *args, bool forward) {
    Call c;
    Py_ssize_t src, dst, A, Bt, pos, extra;
    int src_type, dst_type, sym, k;
    if (!PyArg_ParseTuple(args, "nnii" "nnnnnnnnnnn" "ii" "nn", &src, &dst, &src_type, &dst_type, &c.r0,
                          &c.r1, &c.g.H, &c.g.W, &c.g.C, &c.g.bh, &c.g.bw, &c.g.h, &c.g.w, &A,
                          &Bt, &sym, &k, &pos, &extra))
        return NULL;
    const bool types_ok = (dst_type == F32 || dst_type == F64) &&
                          (forward ? (src_type >= U8 && src_type <= F64) : src_type == dst_type);
    const bool sizes_ok = c.g.bh >= 1 && c.g.bw >= 1 && c.g.H >= 1 && c.g.W >= 1 &&
                          c.g.C >= 1 && k >= 1 && k <= c.g.bh * c.g.bw && c.r0 >= 0 &&
                          c.r0 <= c.r1 && (sym == 0 || (sym <= 2 && c.g.bh % 2 == 0));
    if (!types_ok || !sizes_ok) {
        PyErr_SetString(PyExc_ValueError, "_separable: inconsistent arguments");
        return NULL;
    }
    c.src = (const void *)src;
    c.dst = (void *)dst;
    c.src_type = src_type;
    c.dst_type = dst_type;
    c.A = (const void *)A;
    c.Bt = (const void *)Bt;
    c.sym = sym;
    c.k = k;
    c.pos = (const int32_t *)pos;
    c.extra = (const void *)extra;
    const size_t item = dst_type == F32 ? sizeof(float) : sizeof(double);
    c.scratch = PyMem_RawMalloc(4 * item * (size_t)(c.g.bh * c.g.bw) +
                                (sizeof(idx) + sizeof(void *)) * (size_t)c.g.bh);
    if (!c.scratch) return PyErr_NoMemory();
    Py_BEGIN_ALLOW_THREADS kernel(c, forward);
    Py_END_ALLOW_THREADS PyMem_RawFree(c.scratch);
    Py_RETURN_NONE;
}

PyObject *forward(PyObject *, PyObject *args) { return call(args, true); }
PyObject *inverse(PyObject *, PyObject *args) { return call(args, false); }

PyObject *instruction_set(PyObject *, PyObject *) {
    return PyUnicode_FromString(kernel == run_avx2 ? "avx2" : "baseline");
}

PyMethodDef methods[] = {
    {"forward", forward, METH_VARARGS,
     "forward(src, dst, src_type, dst_type, r0, r1, H, W, C, bh, bw, h, w, A, Bt, sym, k, "
     "pos, offset): transform block rows [r0, r1) (addresses as integers, offset may be 0)."},
    {"inverse", inverse, METH_VARARGS,
     "inverse(coef, dst, type, type, r0, r1, H, W, C, bh, bw, h, w, A, Bt, sym, k, pos, "
     "base): synthesize block rows [r0, r1)."},
    {"instruction_set", instruction_set, METH_NOARGS, "SIMD code path in use."},
    {NULL, NULL, 0, NULL}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_separable",
                      "Separable 2-D block transforms (private kernel of BlockDCT).", -1,
                      methods};

}  // namespace

PyMODINIT_FUNC PyInit__separable(void) {
    kernel = has_avx2() ? run_avx2 : run_baseline;
    return PyModule_Create(&module);
}
