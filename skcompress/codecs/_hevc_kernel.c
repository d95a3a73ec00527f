/* HEVC intra coding of 8-bit pictures (ITU-T H.265 main profile: luma, 4:2:0 chroma), plain C.
 *
 * What follows the standard exactly: intra prediction (8.4.4.2: reference sample availability
 * by z-scan order, substitution, [1 2 1] and strong smoothing, planar, DC with its edge filter,
 * the 33 angular modes with the vertical/horizontal edge filters), the most probable modes
 * (8.4.2), the chroma modes (8.4.3) and chroma QP table, the scaling (dequantization, 8.6.2-
 * 8.6.3) with scaling factors, the inverse DCT/DST (8.6.4), sign data hiding, and the quad-trees
 * of coding and transform blocks (7.3.8) with their inferred splits and chroma cbfs.
 * The encoder follows HM: forward transform, quantization with rounding offset 171/512 (1/3)
 * or RDOQ, sign data hiding, lambda, rough SATD mode pre-selection and full rate-distortion
 * choices of coding, prediction and transform blocks, luma and chroma modes.
 *
 * What is not CABAC: the bins of HEVC's binarizations (split flags, part mode, MPM flag and
 * index, remaining mode, split_transform_flag, cbf, last position, coded sub-block flags,
 * significance, greater-1/greater-2 flags, signs, Golomb-Rice remainders) are coded by an
 * adaptive binary range coder of our own (LZMA's carry-less range coder; two-rate probability
 * estimates as in VVC, all contexts starting at 1/2), with HEVC's context selection rules.
 *
 * One picture is parsed into symbol maps (cu / pu / tu log2 sizes, intra luma and chroma modes
 * per 4x4 luma unit, the coefficient planes); reconstruction from those maps is a separate
 * pass, shared by the decoder and inverse_transform. The syntax is written by one function
 * per syntax structure that writes, reads or counts (the encoder's rate estimates), so the
 * three cannot disagree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ tables */

static int32_t T4[16], T8[64], T16[256], T32[1024], DST[16];
static int32_t T4_T[16], T8_T[64], T16_T[256], T32_T[1024], DST_T[16]; /* transposed */
static int matrices_set = 0;

static const int ANGLE[35] = {0,   0,   32,  26,  21,  17,  13,  9,  5,  2,  0,  -2,
                              -5,  -9,  -13, -17, -21, -26, -32, -26, -21, -17, -13, -9,
                              -5,  -2,  0,   2,   5,   9,   13,  17,  21,  26,  32};
static const int INV_ANGLE[35] = {0,    0,    0,    0,    0,    0,    0,    0,    0,
                                  0,    0,    -4096, -1638, -910, -630, -482, -390, -315,
                                  -256, -315, -390, -482, -630, -910, -1638, -4096, 0,
                                  0,    0,    0,    0,    0,    0,    0,    0};
static const int QUANT_SCALE[6] = {26214, 23302, 20560, 18396, 16384, 14564};
static const int LEVEL_SCALE[6] = {40, 45, 51, 57, 64, 72};
static const uint8_t GROUP_IDX[32] = {0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7,
                                      8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9};
static const uint8_t MIN_IN_GROUP[10] = {0, 1, 2, 3, 4, 6, 8, 12, 16, 24};
static const uint8_t CTX_IDX_MAP[16] = {0, 1, 4, 5, 2, 3, 4, 5, 6, 6, 8, 8, 7, 7, 8, 8};

/* scans[log2 blk size 0..3][scanIdx 0 diag, 1 hor, 2 ver][i] = (x, y) packed x | y << 4 */
static uint8_t SCAN[4][3][64];

static void init_scans(void) {
    for (int l = 0; l < 4; l++) {
        int n = 1 << l, i = 0, x = 0, y = 0;
        while (i < n * n) { /* up-right diagonal, 6.5.3 */
            while (y >= 0) {
                if (x < n && y < n) SCAN[l][0][i++] = (uint8_t)(x | y << 4);
                y--;
                x++;
            }
            y = x;
            x = 0;
        }
        for (i = 0; i < n * n; i++) {
            SCAN[l][1][i] = (uint8_t)((i % n) | (i / n) << 4); /* horizontal */
            SCAN[l][2][i] = (uint8_t)((i / n) | (i % n) << 4); /* vertical */
        }
    }
}

/* -------------------------------------------------------- binary range coder */

#define PROB_BITS 15
#define PROB_ONE (1 << PROB_BITS)
typedef struct {
    uint16_t a, b; /* P(bin = 0), fast and slow estimates */
} Ctx;

enum { M_WRITE, M_READ, M_EST };

/* context offsets */
#define C_SPLIT 0
#define C_PART 3
#define C_PREV 4
#define C_STF 5
#define C_CBF 8
#define C_LASTX 10
#define C_LASTY 50
#define C_CSBF 90
#define C_SIG 92
#define C_GT1 119
#define C_GT2 135
/* chroma (4:2:0): its own sets, as HEVC keeps them apart */
#define C_CMODE 139
#define C_CBF_C 140
#define C_LASTX_C 145
#define C_LASTY_C 185
#define C_CSBF_C 225
#define C_SIG_C 227
#define C_GT1_C 243
#define C_GT2_C 251
#define N_CTX 253

static float COST[PROB_ONE >> 5]; /* bits of a bin whose probability is (i + .5) / 1024 */

typedef struct {
    int mode;
    Ctx ctx[N_CTX];
    /* writer */
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t cache_size;
    uint8_t *buf;
    size_t n, cap;
    int first;
    /* reader */
    const uint8_t *in;
    size_t in_len, pos, over;
    uint32_t code;
    /* estimator */
    double bits;
    int err;
} Cab;

static void ctx_init(Cab *c) {
    for (int i = 0; i < N_CTX; i++) c->ctx[i].a = c->ctx[i].b = PROB_ONE / 2;
}

static inline int prob0(const Ctx *x) {
    int q = (x->a + x->b) >> 1;
    if (q < 64) q = 64;
    if (q > PROB_ONE - 64) q = PROB_ONE - 64;
    return q;
}

static inline void ctx_update(Ctx *x, int bin) {
    if (bin) {
        x->a -= x->a >> 4;
        x->b -= x->b >> 7;
    } else {
        x->a += (PROB_ONE - x->a) >> 4;
        x->b += (PROB_ONE - x->b) >> 7;
    }
}

static void put_byte(Cab *c, uint8_t v) {
    if (c->first) { /* the coder's first byte is always 0: not stored */
        c->first = 0;
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4096;
        uint8_t *b = (uint8_t *)realloc(c->buf, cap);
        if (!b) {
            c->err = 2;
            return;
        }
        c->buf = b;
        c->cap = cap;
    }
    c->buf[c->n++] = v;
}

static void shift_low(Cab *c) {
    if ((uint32_t)c->low < 0xFF000000u || (c->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(c->low >> 32), t = c->cache;
        do {
            put_byte(c, (uint8_t)(t + carry));
            t = 0xFF;
        } while (--c->cache_size != 0);
        c->cache = (uint8_t)(c->low >> 24);
    }
    c->cache_size++;
    c->low = (c->low & 0x00FFFFFFu) << 8;
}

static inline uint8_t next_byte(Cab *c) {
    if (c->pos < c->in_len) return c->in[c->pos++];
    c->over++;
    return 0;
}

static void writer_init(Cab *c) {
    memset(c, 0, sizeof(*c));
    ctx_init(c);
    c->mode = M_WRITE;
    c->range = 0xFFFFFFFFu;
    c->cache_size = 1;
    c->first = 1;
}

static void writer_finish(Cab *c) {
    for (int i = 0; i < 5; i++) shift_low(c);
}

static void reader_init(Cab *c, const uint8_t *in, size_t len) {
    memset(c, 0, sizeof(*c));
    ctx_init(c);
    c->mode = M_READ;
    c->in = in;
    c->in_len = len;
    c->range = 0xFFFFFFFFu;
    for (int i = 0; i < 4; i++) c->code = (c->code << 8) | next_byte(c);
}

/* One context-coded bin: written, read or counted; returns the bin. */
static inline int bin(Cab *c, int ci, int b) {
    Ctx *x = &c->ctx[ci];
    uint32_t q = (uint32_t)prob0(x);
    if (c->mode == M_EST) {
        c->bits += COST[(b ? PROB_ONE - q : q) >> 5];
    } else {
        uint32_t bound = (c->range >> PROB_BITS) * q;
        if (c->mode == M_WRITE) {
            if (!b) {
                c->range = bound;
            } else {
                c->low += bound;
                c->range -= bound;
            }
            while (c->range < (1u << 24)) {
                c->range <<= 8;
                shift_low(c);
            }
        } else {
            if (c->code < bound) {
                c->range = bound;
                b = 0;
            } else {
                c->code -= bound;
                c->range -= bound;
                b = 1;
            }
            while (c->range < (1u << 24)) {
                c->range <<= 8;
                c->code = (c->code << 8) | next_byte(c);
            }
        }
    }
    ctx_update(x, b);
    return b;
}

/* Equiprobable bins, most significant first. */
static inline uint32_t bypass(Cab *c, uint32_t v, int n) {
    if (c->mode == M_EST) {
        c->bits += n;
        return v;
    }
    uint32_t out = 0;
    for (int i = n - 1; i >= 0; i--) {
        int b = (int)((v >> i) & 1);
        c->range >>= 1;
        if (c->mode == M_WRITE) {
            if (b) c->low += c->range;
        } else {
            b = c->code >= c->range;
            if (b) c->code -= c->range;
        }
        out = out << 1 | (uint32_t)b;
        while (c->range < (1u << 24)) {
            c->range <<= 8;
            if (c->mode == M_WRITE)
                shift_low(c);
            else
                c->code = (c->code << 8) | next_byte(c);
        }
    }
    return out;
}

/* -------------------------------------------------------------- the state */

#define MAX_TRAFO_DEPTH 2 /* max_transform_hierarchy_depth_intra, as HM's default (3 - 1) */
#define N_BUFS 24

#define N_MAPS 5
typedef struct {
    uint8_t rec[64 * 64];
    int32_t coef[64 * 64];
    uint8_t recc[2][32 * 32];
    int32_t coefc[2][32 * 32];
    uint8_t maps[N_MAPS][16 * 16];
} Buf;

typedef struct {
    int W, H, w4, h4, ctu_log2;
    const uint8_t *org;
    uint8_t *rec;
    int32_t *coef;
    uint8_t *cu, *pu, *mode, *tu; /* per 4x4 unit */
    uint8_t *cmode;               /* intra_chroma_pred_mode (0..4) per 4x4 luma unit */
    int chroma, Wc, Hc, qpc;      /* 4:2:0 chroma planes of Wc x Hc, chroma QP */
    const uint8_t *orgc[2];
    uint8_t *recc[2];
    int32_t *coefc[2];
    int32_t qcoefc[4][1024];
    double wchroma; /* chroma distortion weight, as HM: 2 ** ((QP - QPc) / 3) */
    int32_t *zs;                  /* z-scan order of every 4x4 unit */
    int qp, rdoq;
    const int32_t *scale[4]; /* scaling factors m[y][x], sizes 4..32 */
    int32_t qcoef[4][1024];  /* (quant scale << 4) / m */
    double lambda, sqrt_lambda;
    Cab cab;
    Cab est;
    Buf *bufs;
} St;

static int build_zscan(St *s) {
    s->zs = (int32_t *)malloc(sizeof(int32_t) * (size_t)s->w4 * s->h4);
    if (!s->zs) return -1;
    int ctu4 = 1 << (s->ctu_log2 - 2), ctus_w = (s->w4 + ctu4 - 1) / ctu4;
    for (int y = 0; y < s->h4; y++)
        for (int x = 0; x < s->w4; x++) {
            int cx = x / ctu4, cy = y / ctu4, lx = x % ctu4, ly = y % ctu4, m = 0;
            for (int b = 0; b < 5; b++) m |= ((lx >> b) & 1) << (2 * b) | ((ly >> b) & 1) << (2 * b + 1);
            s->zs[y * s->w4 + x] = (cy * ctus_w + cx) * ctu4 * ctu4 + m;
        }
    return 0;
}

static inline void fill_map(St *s, uint8_t *map, int x0, int y0, int size, int v) {
    int n = size >> 2, x4 = x0 >> 2, y4 = y0 >> 2;
    for (int y = 0; y < n; y++) memset(map + (size_t)(y4 + y) * s->w4 + x4, v, (size_t)n);
}

static void save(St *s, Buf *b, int x0, int y0, int size) {
    for (int y = 0; y < size; y++) {
        memcpy(b->rec + y * size, s->rec + (size_t)(y0 + y) * s->W + x0, (size_t)size);
        memcpy(b->coef + y * size, s->coef + (size_t)(y0 + y) * s->W + x0, sizeof(int32_t) * size);
    }
    uint8_t *maps[N_MAPS] = {s->cu, s->pu, s->mode, s->tu, s->cmode};
    int n = size >> 2;
    for (int k = 0; k < N_MAPS; k++)
        for (int y = 0; y < n; y++)
            memcpy(b->maps[k] + y * n, maps[k] + (size_t)((y0 >> 2) + y) * s->w4 + (x0 >> 2), (size_t)n);
    if (s->chroma) {
        const int h = size >> 1, xc = x0 >> 1, yc = y0 >> 1;
        for (int k = 0; k < 2; k++)
            for (int y = 0; y < h; y++) {
                memcpy(b->recc[k] + y * h, s->recc[k] + (size_t)(yc + y) * s->Wc + xc, (size_t)h);
                memcpy(b->coefc[k] + y * h, s->coefc[k] + (size_t)(yc + y) * s->Wc + xc,
                       sizeof(int32_t) * h);
            }
    }
}

static void restore(St *s, const Buf *b, int x0, int y0, int size) {
    for (int y = 0; y < size; y++) {
        memcpy(s->rec + (size_t)(y0 + y) * s->W + x0, b->rec + y * size, (size_t)size);
        memcpy(s->coef + (size_t)(y0 + y) * s->W + x0, b->coef + y * size, sizeof(int32_t) * size);
    }
    uint8_t *maps[N_MAPS] = {s->cu, s->pu, s->mode, s->tu, s->cmode};
    int n = size >> 2;
    for (int k = 0; k < N_MAPS; k++)
        for (int y = 0; y < n; y++)
            memcpy(maps[k] + (size_t)((y0 >> 2) + y) * s->w4 + (x0 >> 2), b->maps[k] + y * n, (size_t)n);
    if (s->chroma) {
        const int h = size >> 1, xc = x0 >> 1, yc = y0 >> 1;
        for (int k = 0; k < 2; k++)
            for (int y = 0; y < h; y++) {
                memcpy(s->recc[k] + (size_t)(yc + y) * s->Wc + xc, b->recc[k] + y * h, (size_t)h);
                memcpy(s->coefc[k] + (size_t)(yc + y) * s->Wc + xc, b->coefc[k] + y * h,
                       sizeof(int32_t) * h);
            }
    }
}

/* ------------------------------------------------------------ prediction */

static inline int clip8(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

typedef struct {
    int r[4 * 64 + 1], f[4 * 64 + 1]; /* substituted, and [1 2 1] or strongly filtered */
    int n, log2, luma;
} Refs;

/* Reference samples (8.4.4.2.2, and 8.4.4.2.3's filtered ones for luma). */
static void build_refs(const St *s, const uint8_t *plane, int pw, int ph, int sh, int x0, int y0,
                       int log2, Refs *R) {
    const int n = 1 << log2, n2 = 2 * n, luma = sh == 0;
    int *r = R->r, *f = R->f, av[4 * 64 + 1];
    R->n = n;
    R->log2 = log2;
    R->luma = luma;
    /* r[0] = p[-1][2n-1] ... r[2n-1] = p[-1][0], r[2n] = p[-1][-1], r[2n+1+x] = p[x][-1] */
    const int cur = s->zs[((y0 << sh) >> 2) * s->w4 + ((x0 << sh) >> 2)];
    int any = 0;
    for (int i = 0; i < 4 * n + 1; i++) {
        int x, y;
        if (i < n2) {
            x = x0 - 1;
            y = y0 + n2 - 1 - i;
        } else if (i == n2) {
            x = x0 - 1;
            y = y0 - 1;
        } else {
            x = x0 + i - n2 - 1;
            y = y0 - 1;
        }
        int a = x >= 0 && y >= 0 && x < pw && y < ph &&
                s->zs[((y << sh) >> 2) * s->w4 + ((x << sh) >> 2)] < cur;
        av[i] = a;
        r[i] = a ? plane[(size_t)y * pw + x] : 0;
        any |= a;
    }
    if (!any) {
        for (int i = 0; i < 4 * n + 1; i++) r[i] = 128;
    } else {
        if (!av[0]) {
            int k = 1;
            while (!av[k]) k++;
            r[0] = r[k];
        }
        for (int i = 1; i < 4 * n + 1; i++)
            if (!av[i]) r[i] = r[i - 1];
    }
    /* filtering of neighbouring samples, 8.4.4.2.3 */
    if (luma && n != 4) {
        const int corner = r[n2], bottom = r[0], right = r[4 * n];
        if (n == 32 && abs(corner + right - 2 * r[n2 + n]) < 8 &&
            abs(corner + bottom - 2 * r[n2 - n]) < 8) { /* strong intra smoothing */
            f[n2] = corner;
            for (int i = 0; i < n2 - 1; i++) { /* y = i: p[-1][y] = r[n2 - 1 - y] */
                f[n2 - 1 - i] = ((63 - i) * corner + (i + 1) * bottom + 32) >> 6;
                f[n2 + 1 + i] = ((63 - i) * corner + (i + 1) * right + 32) >> 6;
            }
            f[0] = bottom;
            f[4 * n] = right;
        } else {
            f[0] = r[0];
            f[4 * n] = r[4 * n];
            for (int i = 1; i < 4 * n; i++) f[i] = (r[i - 1] + 2 * r[i] + r[i + 1] + 2) >> 2;
        }
    }
}

/* Intra prediction (8.4.4.2.4-8.4.4.2.6) of mode from the reference samples. */
static void predict_refs(const Refs *R, int mode, uint8_t *out) {
    const int n = R->n, n2 = 2 * n, log2 = R->log2, luma = R->luma;
    int filter = 0;
    if (luma && mode != 1 && n != 4) {
        int d = abs(mode - 26) < abs(mode - 10) ? abs(mode - 26) : abs(mode - 10);
        int thres = n == 8 ? 7 : n == 16 ? 1 : 0;
        filter = d > thres;
    }
    const int *p = filter ? R->f : R->r;
    /* L[k] = p[-1][k-1], T[k] = p[k-1][-1], k = 0..2n */
    int L[129], T[129];
    for (int k = 0; k <= n2; k++) {
        L[k] = p[n2 - k];
        T[k] = p[n2 + k];
    }
    if (mode == 0) { /* planar */
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                out[y * n + x] = (uint8_t)(((n - 1 - x) * L[1 + y] + (x + 1) * T[1 + n] +
                                            (n - 1 - y) * T[1 + x] + (y + 1) * L[1 + n] + n) >>
                                           (log2 + 1));
        return;
    }
    if (mode == 1) { /* DC */
        int sum = n;
        for (int k = 1; k <= n; k++) sum += L[k] + T[k];
        int dc = sum >> (log2 + 1);
        memset(out, dc, (size_t)n * n);
        if (luma && n < 32) {
            out[0] = (uint8_t)((L[1] + 2 * dc + T[1] + 2) >> 2);
            for (int x = 1; x < n; x++) out[x] = (uint8_t)((T[1 + x] + 3 * dc + 2) >> 2);
            for (int y = 1; y < n; y++) out[y * n] = (uint8_t)((L[1 + y] + 3 * dc + 2) >> 2);
        }
        return;
    }
    const int angle = ANGLE[mode], inv = INV_ANGLE[mode];
    int refbuf[3 * 64 + 2], *ref = refbuf + n; /* ref[-n .. 2n] */
    const int *main_ = mode >= 18 ? T : L, *side = mode >= 18 ? L : T;
    for (int x = 0; x <= n2; x++) ref[x] = main_[x];
    if (angle < 0 && ((n * angle) >> 5) < -1)
        for (int x = (n * angle) >> 5; x <= -1; x++) ref[x] = side[(x * inv + 128) >> 8];
    for (int j = 0; j < n; j++) { /* j: distance from the main reference (y or x) */
        int idx = ((j + 1) * angle) >> 5, fact = ((j + 1) * angle) & 31;
        for (int i = 0; i < n; i++) {
            int v = fact ? ((32 - fact) * ref[i + idx + 1] + fact * ref[i + idx + 2] + 16) >> 5
                         : ref[i + idx + 1];
            if (mode >= 18)
                out[j * n + i] = (uint8_t)v;
            else
                out[i * n + j] = (uint8_t)v;
        }
    }
    if (luma && mode == 26 && n < 32)
        for (int y = 0; y < n; y++) out[y * n] = (uint8_t)clip8(T[1] + ((L[1 + y] - L[0]) >> 1));
    if (luma && mode == 10 && n < 32)
        for (int x = 0; x < n; x++) out[x] = (uint8_t)clip8(L[1] + ((T[1 + x] - T[0]) >> 1));
}

/* Intra prediction of the n x n block at (x0, y0) of `plane` (pw x ph samples; sh = 1 for
 * 4:2:0 chroma, whose sample (x, y) sits at luma (2x, 2y)) (n = 4..64; 64 only for the
 * encoder's rough search), availability by z-scan order of luma locations (6.4.1); the
 * reference filtering and the edge filters for luma only. out: n * n, row-major. */
static void predict_plane(const St *s, const uint8_t *plane, int pw, int ph, int sh, int x0,
                          int y0, int log2, int mode, uint8_t *out) {
    Refs R;
    build_refs(s, plane, pw, ph, sh, x0, y0, log2, &R);
    predict_refs(&R, mode, out);
}

static inline void predict(const St *s, int x0, int y0, int log2, int mode, uint8_t *out) {
    predict_plane(s, s->rec, s->W, s->H, 0, x0, y0, log2, mode, out);
}

/* The chroma mode of intra_chroma_pred_mode v (8.4.3) given the luma mode. */
static inline int chroma_mode(int v, int luma) {
    if (v >= 4) return luma;
    const int m = v == 0 ? 0 : v == 1 ? 26 : v == 2 ? 10 : 1;
    return m == luma ? 34 : m;
}

/* 4:2:0 chroma QP of luma QP (Table 8-10, no offsets). */
static int chroma_qp(int qp) {
    static const int table[14] = {29, 30, 31, 32, 33, 33, 34, 34, 35, 35, 36, 36, 37, 37};
    return qp < 30 ? qp : qp > 43 ? qp - 6 : table[qp - 30];
}

/* ------------------------------------------------------------- transforms */

static const int32_t *matrix(int log2, int dst) {
    if (dst) return DST;
    return log2 == 2 ? T4 : log2 == 3 ? T8 : log2 == 4 ? T16 : T32;
}

/* HM's forward: rows (shift log2 + bitDepth - 9), then columns (shift log2 + 6). Loops ordered
 * so that the innermost runs along contiguous memory (vectorized); sums fit 32 bits. */
static void forward(const int32_t *res, int32_t *out, int log2, int dst) {
    const int n = 1 << log2, s1 = log2 - 1, s2 = log2 + 6;
    const int32_t *M = dst ? DST_T : log2 == 2 ? T4_T : log2 == 3 ? T8_T : log2 == 4 ? T16_T : T32_T;
    const int32_t *Mr = matrix(log2, dst);
    int32_t tmp[1024], acc[32];
    for (int r = 0; r < n; r++) { /* tmp[r][k] = sum_j res[r][j] M[k][j] = sum_j res M^T[j][k] */
        for (int k = 0; k < n; k++) acc[k] = 0;
        for (int j = 0; j < n; j++) {
            const int32_t v = res[r * n + j], *row = M + j * n;
            for (int k = 0; k < n; k++) acc[k] += v * row[k];
        }
        for (int k = 0; k < n; k++) tmp[r * n + k] = (acc[k] + (1 << (s1 - 1))) >> s1;
    }
    for (int u = 0; u < n; u++) { /* out[u][k] = sum_r M[u][r] tmp[r][k] */
        for (int k = 0; k < n; k++) acc[k] = 0;
        for (int r = 0; r < n; r++) {
            const int32_t m = Mr[u * n + r], *row = tmp + r * n;
            for (int k = 0; k < n; k++) acc[k] += m * row[k];
        }
        for (int k = 0; k < n; k++) out[u * n + k] = (acc[k] + (1 << (s2 - 1))) >> s2;
    }
}

/* H.265 8.6.4.2: columns (shift 7, clipped to 16 bits), then rows (shift 20 - bitDepth). */
static void inverse(const int32_t *coef, int32_t *res, int log2, int dst) {
    const int n = 1 << log2;
    const int32_t *M = matrix(log2, dst);
    int32_t tmp[1024], acc[32];
    int nz[32], rows = 0; /* rows of coefficients holding a nonzero value */
    for (int u = 0; u < n; u++)
        for (int v = 0; v < n; v++)
            if (coef[u * n + v]) {
                nz[rows++] = u;
                break;
            }
    for (int r = 0; r < n; r++) { /* tmp[r][v] = sum_u M[u][r] coef[u][v] */
        for (int v = 0; v < n; v++) acc[v] = 0;
        for (int i = 0; i < rows; i++) {
            const int u = nz[i];
            const int32_t m = M[u * n + r], *row = coef + u * n;
            for (int v = 0; v < n; v++) acc[v] += m * row[v];
        }
        for (int v = 0; v < n; v++) {
            int32_t t = (int32_t)(((int64_t)acc[v] + 64) >> 7);
            tmp[r * n + v] = t < -32768 ? -32768 : t > 32767 ? 32767 : t;
        }
    }
    for (int r = 0; r < n; r++) { /* res[r][j] = sum_v tmp[r][v] M[v][j] */
        for (int j = 0; j < n; j++) acc[j] = 0;
        for (int v = 0; v < n; v++) {
            const int32_t t = tmp[r * n + v], *row = M + v * n;
            if (t)
                for (int j = 0; j < n; j++) acc[j] += t * row[j];
        }
        for (int j = 0; j < n; j++) res[r * n + j] = (acc[j] + 2048) >> 12;
    }
}

/* Scaling process 8.6.3 (m from the scaling factors). */
static void dequant_qp(const St *s, const int32_t *lev, int32_t *out, int log2, int qp) {
    const int n = 1 << log2, bd = 8 + log2 - 5, per = qp / 6, ls = LEVEL_SCALE[qp % 6];
    const int32_t *m = s->scale[log2 - 2];
    for (int i = 0; i < n * n; i++) {
        if (!lev[i]) {
            out[i] = 0;
            continue;
        }
        int64_t v = (((int64_t)lev[i] * m[i] * ls << per) + (1 << (bd - 1))) >> bd;
        out[i] = (int32_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
    }
}

static inline void dequant(const St *s, const int32_t *lev, int32_t *out, int log2) {
    dequant_qp(s, lev, out, log2, s->qp);
}

static inline int scan_idx(int log2, int mode) {
    if (log2 == 2 || log2 == 3) {
        if (mode >= 6 && mode <= 14) return 2;
        if (mode >= 22 && mode <= 30) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ syntax (symmetric) */

static int code_last(Cab *c, int v, int log2, int base) {
    const int cmax = GROUP_IDX[(1 << log2) - 1], g = GROUP_IDX[v < 32 ? v : 31];
    int k = 0;
    while (k < cmax && bin(c, base + (log2 - 2) * 10 + k, k < g)) k++;
    int val = MIN_IN_GROUP[k];
    if (k > 3) {
        int len = (k >> 1) - 1;
        val += (int)bypass(c, (uint32_t)(v - MIN_IN_GROUP[k]), len);
    }
    return val;
}

static uint32_t code_remaining(Cab *c, uint32_t sym, int r) {
    if (c->mode != M_READ) {
        if (sym < (3u << r)) {
            uint32_t len = sym >> r;
            bypass(c, (1u << (len + 1)) - 2, (int)len + 1);
            if (r) bypass(c, sym & ((1u << r) - 1), r);
        } else {
            int len = r;
            uint32_t v = sym - (3u << r);
            while (v >= (1u << len)) {
                v -= 1u << len;
                len++;
            }
            int pre = 3 + len + 1 - r;
            for (int i = 0; i < pre - 1; i++) bypass(c, 1, 1);
            bypass(c, 0, 1);
            bypass(c, v, len);
        }
        return sym;
    }
    int prefix = 0;
    while (bypass(c, 0, 1)) {
        if (++prefix > 24) {
            c->err = 1;
            return 0;
        }
    }
    if (prefix < 3) return ((uint32_t)prefix << r) + (r ? bypass(c, 0, r) : 0);
    int len = prefix - 3 + r;
    return (((1u << (prefix - 3)) + 2) << r) + bypass(c, 0, len);
}

static inline int sig_ctx(int log2, int xc, int yc, int prev, int scan, int chroma) {
    if (log2 == 2) return CTX_IDX_MAP[(yc << 2) + xc];
    if (xc + yc == 0) return 0;
    int xp = xc & 3, yp = yc & 3, s;
    if (prev == 0)
        s = xp + yp == 0 ? 2 : xp + yp < 3 ? 1 : 0;
    else if (prev == 1)
        s = yp == 0 ? 2 : yp == 1 ? 1 : 0;
    else if (prev == 2)
        s = xp == 0 ? 2 : xp == 1 ? 1 : 0;
    else
        s = 2;
    if (chroma) return s + (log2 == 3 ? 9 : 12);
    if ((xc >> 2) + (yc >> 2) > 0) s += 3;
    return s + (log2 == 3 ? (scan == 0 ? 9 : 15) : 21);
}

/* residual_coding (7.3.8.11) of the block at blk (row stride `stride`); reads or writes. */
static void residual(Cab *c, int32_t *blk, int stride, int log2, int scan, int chroma) {
    const int c_lastx = chroma ? C_LASTX_C : C_LASTX, c_lasty = chroma ? C_LASTY_C : C_LASTY,
              c_csbf = chroma ? C_CSBF_C : C_CSBF, c_sig = chroma ? C_SIG_C : C_SIG,
              c_gt1 = chroma ? C_GT1_C : C_GT1, c_gt2 = chroma ? C_GT2_C : C_GT2;
    const int n = 1 << log2, ls = log2 - 2, ns = 1 << ls;
    const uint8_t *sbs = SCAN[ls][scan], *ins = SCAN[2][scan];
    int last_s = 0, last_n = 0, lx = 0, ly = 0;
    if (c->mode == M_READ) {
        for (int y = 0; y < n; y++) memset(blk + (size_t)y * stride, 0, sizeof(int32_t) * n);
    } else {
        for (int sb = ns * ns - 1; sb >= 0; sb--) {
            int xs = sbs[sb] & 15, ys = sbs[sb] >> 4, found = 0;
            for (int k = 15; k >= 0; k--) {
                int x = xs * 4 + (ins[k] & 15), y = ys * 4 + (ins[k] >> 4);
                if (blk[y * stride + x]) {
                    last_s = sb;
                    last_n = k;
                    lx = x;
                    ly = y;
                    found = 1;
                    break;
                }
            }
            if (found) break;
        }
    }
    lx = code_last(c, lx, log2, c_lastx);
    ly = code_last(c, ly, log2, c_lasty);
    if (c->mode == M_READ) {
        if (lx >= n || ly >= n) {
            c->err = 1;
            return;
        }
        int xs = lx >> 2, ys = ly >> 2, xp = lx & 3, yp = ly & 3;
        for (int sb = 0; sb < ns * ns; sb++)
            if ((sbs[sb] & 15) == xs && (sbs[sb] >> 4) == ys) last_s = sb;
        for (int k = 0; k < 16; k++)
            if ((ins[k] & 15) == xp && (ins[k] >> 4) == yp) last_n = k;
    }
    uint8_t csbf[8][8];
    memset(csbf, 0, sizeof(csbf));
    int c1 = 1;
    for (int sb = last_s; sb >= 0; sb--) {
        const int xs = sbs[sb] & 15, ys = sbs[sb] >> 4;
        int infer_dc = 0, flag = 1;
        if (sb < last_s && sb > 0) {
            int any = 0;
            if (c->mode != M_READ)
                for (int k = 0; k < 16 && !any; k++)
                    any = blk[(ys * 4 + (k >> 2)) * stride + xs * 4 + (k & 3)] != 0;
            int right = xs + 1 < ns ? csbf[xs + 1][ys] : 0, below = ys + 1 < ns ? csbf[xs][ys + 1] : 0;
            flag = bin(c, c_csbf + (right | below), any);
            infer_dc = 1;
        }
        csbf[xs][ys] = (uint8_t)flag;
        const int prev = (xs + 1 < ns ? csbf[xs + 1][ys] : 0) | (ys + 1 < ns ? csbf[xs][ys + 1] : 0) << 1;
        int nsig = 0, pos[16], ks[16];
        int start = 15;
        if (sb == last_s) {
            ks[nsig] = last_n;
            pos[nsig++] = (ly << 8) | lx;
            start = last_n - 1;
        }
        if (flag) {
            for (int k = start; k >= 0; k--) {
                int x = xs * 4 + (ins[k] & 15), y = ys * 4 + (ins[k] >> 4), sig;
                if (k > 0 || !infer_dc) {
                    sig = bin(c, c_sig + sig_ctx(log2, x, y, prev, scan, chroma),
                              blk[y * stride + x] != 0);
                    if (sig) infer_dc = 0;
                } else {
                    sig = 1;
                }
                if (sig) {
                    ks[nsig] = k;
                    pos[nsig++] = (y << 8) | x;
                }
            }
        }
        if (!nsig) continue;
        int ctx_set = sb > 0 && !chroma ? 2 : 0;
        if (c1 == 0) ctx_set++;
        c1 = 1;
        uint32_t absv[16];
        int gt1[16], first = -1, gt2 = 0, neg[16];
        for (int i = 0; i < nsig; i++) {
            int32_t v = blk[(pos[i] >> 8) * stride + (pos[i] & 255)];
            absv[i] = (uint32_t)(v < 0 ? -(int64_t)v : v);
            neg[i] = v < 0;
        }
        for (int i = 0; i < nsig && i < 8; i++) {
            gt1[i] = bin(c, c_gt1 + ctx_set * 4 + c1, absv[i] > 1);
            if (gt1[i]) {
                c1 = 0;
                if (first < 0) first = i;
            } else if (c1 > 0 && c1 < 3) {
                c1++;
            }
        }
        if (first >= 0) gt2 = bin(c, c_gt2 + ctx_set, absv[first] > 2);
        /* sign data hiding (7.3.8.11): the sign of the first coefficient in scan order is the
         * parity of the sub-block's sum of levels when its nonzero ones span more than 3 */
        const int hidden = ks[0] - ks[nsig - 1] > 3;
        for (int i = 0; i < nsig - hidden; i++) neg[i] = (int)bypass(c, (uint32_t)neg[i], 1);
        int rice = 0;
        for (int i = 0; i < nsig; i++) {
            int base;
            if (i < 8) {
                if (!gt1[i]) {
                    absv[i] = 1;
                    continue;
                }
                if (i == first && !gt2) {
                    absv[i] = 2;
                    continue;
                }
                base = i == first ? 3 : 2;
            } else {
                base = 1;
            }
            uint32_t rem = code_remaining(c, absv[i] - (uint32_t)base, rice);
            if (c->err) return;
            absv[i] = (uint32_t)base + rem;
            if (absv[i] > 32768u) {
                c->err = 1;
                return;
            }
            if (absv[i] > 3u * (1u << rice)) rice = rice + 1 < 4 ? rice + 1 : 4;
        }
        if (hidden) {
            uint32_t sum = 0;
            for (int i = 0; i < nsig; i++) sum += absv[i];
            if (c->mode == M_READ)
                neg[nsig - 1] = (int)(sum & 1);
            else if ((int)(sum & 1) != neg[nsig - 1])
                c->err = 3; /* the encoder's levels break the parity rule: a bug */
        }
        if (c->mode == M_READ)
            for (int i = 0; i < nsig; i++)
                blk[(pos[i] >> 8) * stride + (pos[i] & 255)] =
                    neg[i] ? -(int32_t)absv[i] : (int32_t)absv[i];
    }
}

static int block_nonzero(const St *s, int x0, int y0, int n) {
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            if (s->coef[(size_t)(y0 + y) * s->W + x0 + x]) return 1;
    return 0;
}

/* Most probable modes (8.4.2). */
static void mpm(const St *s, int x0, int y0, int cand[3]) {
    int a = 1, b = 1;
    if (x0 > 0) a = s->mode[(y0 >> 2) * s->w4 + ((x0 - 1) >> 2)];
    if (y0 > 0 && ((y0 - 1) >> s->ctu_log2) == (y0 >> s->ctu_log2))
        b = s->mode[((y0 - 1) >> 2) * s->w4 + (x0 >> 2)];
    if (a == b) {
        if (a < 2) {
            cand[0] = 0;
            cand[1] = 1;
            cand[2] = 26;
        } else {
            cand[0] = a;
            cand[1] = 2 + ((a + 29) % 32);
            cand[2] = 2 + ((a - 2 + 1) % 32);
        }
    } else {
        cand[0] = a;
        cand[1] = b;
        cand[2] = (a != 0 && b != 0) ? 0 : (a != 1 && b != 1) ? 1 : 26;
    }
}

static void code_mode(Cab *c, St *s, int x0, int y0, int log2) {
    int cand[3], m = s->mode[(y0 >> 2) * s->w4 + (x0 >> 2)];
    mpm(s, x0, y0, cand);
    int idx = m == cand[0] ? 0 : m == cand[1] ? 1 : m == cand[2] ? 2 : -1;
    if (bin(c, C_PREV, idx >= 0)) {
        int b0 = (int)bypass(c, idx > 0, 1), b1 = 0;
        if (b0) b1 = (int)bypass(c, idx > 1, 1);
        m = cand[b0 + b1];
    } else {
        int sorted[3] = {cand[0], cand[1], cand[2]}, t;
        if (sorted[0] > sorted[1]) { t = sorted[0]; sorted[0] = sorted[1]; sorted[1] = t; }
        if (sorted[0] > sorted[2]) { t = sorted[0]; sorted[0] = sorted[2]; sorted[2] = t; }
        if (sorted[1] > sorted[2]) { t = sorted[1]; sorted[1] = sorted[2]; sorted[2] = t; }
        int rem = m;
        if (c->mode != M_READ)
            for (int i = 2; i >= 0; i--)
                if (m > sorted[i]) rem--;
        rem = (int)bypass(c, (uint32_t)rem, 5);
        m = rem;
        for (int i = 0; i < 3; i++)
            if (m >= sorted[i]) m++;
    }
    if (c->mode == M_READ) fill_map(s, s->mode, x0, y0, 1 << log2, m);
}

static int chroma_nonzero(const St *s, int k, int xc, int yc, int n) {
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            if (s->coefc[k][(size_t)(yc + y) * s->Wc + xc + x]) return 1;
    return 0;
}

/* The chroma mode of the coding block that holds luma sample (x0, y0). */
static int chroma_mode_at(const St *s, int x0, int y0) {
    const int at = (y0 >> 2) * s->w4 + (x0 >> 2);
    int luma = s->mode[at];
    if (s->pu[at] == 2) /* NxN: the first prediction block's mode (DM) */
        luma = s->mode[((y0 & ~7) >> 2) * s->w4 + ((x0 & ~7) >> 2)];
    return chroma_mode(s->cmode[at], luma > 34 ? 34 : luma);
}

/* Both chroma residuals of the n x n chroma block at chroma (xc, yc), if their cbf. */
static void code_chroma_blocks(Cab *c, St *s, int xc, int yc, int log2c, int cb, int cr, int mode) {
    const int n = 1 << log2c, scan = log2c == 2 ? scan_idx(2, mode) : 0;
    const int flags[2] = {cb, cr};
    for (int k = 0; k < 2; k++) {
        int32_t *blk = s->coefc[k] + (size_t)yc * s->Wc + xc;
        if (flags[k])
            residual(c, blk, s->Wc, log2c, scan, 1);
        else if (c->mode == M_READ)
            for (int y = 0; y < n; y++) memset(blk + (size_t)y * s->Wc, 0, sizeof(int32_t) * n);
    }
}

/* transform_tree (7.3.8.8): split flags, chroma cbfs down the tree, luma cbf and residuals;
 * 4:2:0 chroma blocks of half the size at the leaves, once for four 4x4 luma blocks. */
static void code_tu(Cab *c, St *s, int x0, int y0, int log2, int depth, int nxn, int pcb,
                    int pcr) {
    int coded = log2 <= 5 && log2 > 2 && depth < MAX_TRAFO_DEPTH + nxn && !(nxn && depth == 0);
    int split = log2 > 5 || (nxn && depth == 0);
    if (coded) split = bin(c, C_STF + 5 - log2, s->tu[(y0 >> 2) * s->w4 + (x0 >> 2)] < log2);
    int cb = 0, cr = 0;
    if (s->chroma && log2 > 2) {
        const int h = 1 << (log2 - 1), xc = x0 >> 1, yc = y0 >> 1, rd = c->mode == M_READ;
        if (depth == 0 || pcb)
            cb = bin(c, C_CBF_C + depth, rd ? 0 : chroma_nonzero(s, 0, xc, yc, h));
        if (depth == 0 || pcr)
            cr = bin(c, C_CBF_C + depth, rd ? 0 : chroma_nonzero(s, 1, xc, yc, h));
    } else if (s->chroma) {
        cb = pcb; /* 4x4 luma blocks: their chroma is the parent's */
        cr = pcr;
    }
    if (split) {
        int h = 1 << (log2 - 1);
        for (int k = 0; k < 4 && !c->err; k++)
            code_tu(c, s, x0 + (k & 1) * h, y0 + (k >> 1) * h, log2 - 1, depth + 1, nxn, cb, cr);
        if (s->chroma && log2 == 3 && !c->err)
            code_chroma_blocks(c, s, x0 >> 1, y0 >> 1, 2, cb, cr, chroma_mode_at(s, x0, y0));
        return;
    }
    const int n = 1 << log2;
    if (c->mode == M_READ) fill_map(s, s->tu, x0, y0, n, log2);
    int32_t *blk = s->coef + (size_t)y0 * s->W + x0;
    int cbf = bin(c, C_CBF + (depth == 0), c->mode == M_READ ? 0 : block_nonzero(s, x0, y0, n));
    if (cbf) {
        int mode = s->mode[(y0 >> 2) * s->w4 + (x0 >> 2)];
        residual(c, blk, s->W, log2, scan_idx(log2, mode), 0);
    } else if (c->mode == M_READ) {
        for (int y = 0; y < n; y++) memset(blk + (size_t)y * s->W, 0, sizeof(int32_t) * n);
    }
    if (s->chroma && log2 > 2 && !c->err)
        code_chroma_blocks(c, s, x0 >> 1, y0 >> 1, log2 - 1, cb, cr, chroma_mode_at(s, x0, y0));
}

static int split_ctx(const St *s, int x0, int y0, int log2) {
    int k = 0;
    if (x0 > 0 && s->cu[(y0 >> 2) * s->w4 + ((x0 - 1) >> 2)] < log2) k++;
    if (y0 > 0 && s->cu[((y0 - 1) >> 2) * s->w4 + (x0 >> 2)] < log2) k++;
    return k;
}

static void code_cu_leaf(Cab *c, St *s, int x0, int y0, int log2);

static void code_cu(Cab *c, St *s, int x0, int y0, int log2) {
    const int n = 1 << log2, inside = x0 + n <= s->W && y0 + n <= s->H;
    int split = log2 > 3;
    if (log2 > 3 && inside)
        split = bin(c, C_SPLIT + split_ctx(s, x0, y0, log2),
                    s->cu[(y0 >> 2) * s->w4 + (x0 >> 2)] < log2);
    if (split) {
        int h = n >> 1;
        for (int k = 0; k < 4 && !c->err; k++) {
            int x = x0 + (k & 1) * h, y = y0 + (k >> 1) * h;
            if (x < s->W && y < s->H) code_cu(c, s, x, y, log2 - 1);
        }
        return;
    }
    code_cu_leaf(c, s, x0, y0, log2);
}

/* coding_unit (7.3.8.5) of one intra coding block. */
static void code_cu_leaf(Cab *c, St *s, int x0, int y0, int log2) {
    const int n = 1 << log2;
    if (c->mode == M_READ) fill_map(s, s->cu, x0, y0, n, log2);
    int nxn = 0;
    if (log2 == 3) nxn = bin(c, C_PART, s->pu[(y0 >> 2) * s->w4 + (x0 >> 2)] == 2);
    if (c->mode == M_READ) fill_map(s, s->pu, x0, y0, n, nxn ? 2 : log2);
    if (nxn)
        for (int k = 0; k < 4; k++) code_mode(c, s, x0 + (k & 1) * 4, y0 + (k >> 1) * 4, 2);
    else
        code_mode(c, s, x0, y0, log2);
    if (s->chroma) { /* intra_chroma_pred_mode: 4 (DM) is one bin, 0..3 two bypass bins more */
        int v = s->cmode[(y0 >> 2) * s->w4 + (x0 >> 2)];
        if (bin(c, C_CMODE, v != 4))
            v = (int)bypass(c, (uint32_t)(v & 3), 2);
        else
            v = 4;
        if (c->mode == M_READ) fill_map(s, s->cmode, x0, y0, n, v);
    }
    code_tu(c, s, x0, y0, log2, 0, nxn, 1, 1);
}

/* ---------------------------------------------------------- reconstruction */

/* Reconstruct one transform block from s->coef into s->rec (prediction + residual). */
static void recon_tu(St *s, int x0, int y0, int log2, int mode) {
    const int n = 1 << log2;
    uint8_t pred[32 * 32];
    predict(s, x0, y0, log2, mode, pred);
    int32_t lev[1024], d[1024], r[1024];
    int any = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            lev[y * n + x] = s->coef[(size_t)(y0 + y) * s->W + x0 + x];
            any |= lev[y * n + x] != 0;
        }
    if (any) {
        dequant(s, lev, d, log2);
        inverse(d, r, log2, log2 == 2);
    }
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            s->rec[(size_t)(y0 + y) * s->W + x0 + x] =
                (uint8_t)(any ? clip8(pred[y * n + x] + r[y * n + x]) : pred[y * n + x]);
}

/* Reconstruct the n x n chroma blocks (Cb, Cr) at chroma (xc, yc); returns their weighted SSE
 * against the original when there is one (encoder), else 0. */
static int64_t recon_chroma(St *s, int xc, int yc, int log2, int mode) {
    const int n = 1 << log2;
    uint8_t pred[16 * 16];
    int32_t lev[256], d[256], r[256];
    int64_t sse = 0;
    for (int k = 0; k < 2; k++) {
        predict_plane(s, s->recc[k], s->Wc, s->Hc, 1, xc, yc, log2, mode, pred);
        int any = 0;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                lev[y * n + x] = s->coefc[k][(size_t)(yc + y) * s->Wc + xc + x];
                any |= lev[y * n + x] != 0;
            }
        if (any) {
            dequant_qp(s, lev, d, log2, s->qpc);
            inverse(d, r, log2, 0);
        }
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                size_t at = (size_t)(yc + y) * s->Wc + xc + x;
                int v = any ? clip8(pred[y * n + x] + r[y * n + x]) : pred[y * n + x];
                s->recc[k][at] = (uint8_t)v;
                if (s->orgc[0]) {
                    int e = v - s->orgc[k][at];
                    sse += e * e;
                }
            }
    }
    return sse;
}

static void recon_tree(St *s, int x0, int y0, int log2) {
    if (x0 >= s->W || y0 >= s->H) return;
    const int at = (y0 >> 2) * s->w4 + (x0 >> 2);
    if (log2 > 2 && (log2 > 5 || s->tu[at] < log2 || x0 + (1 << log2) > s->W ||
                     y0 + (1 << log2) > s->H)) {
        int h = 1 << (log2 - 1);
        for (int k = 0; k < 4; k++) recon_tree(s, x0 + (k & 1) * h, y0 + (k >> 1) * h, log2 - 1);
        if (s->chroma && log2 == 3)
            recon_chroma(s, x0 >> 1, y0 >> 1, 2, chroma_mode_at(s, x0, y0));
        return;
    }
    int mode = s->mode[at];
    recon_tu(s, x0, y0, log2, mode > 34 ? 34 : mode);
    if (s->chroma && log2 > 2) recon_chroma(s, x0 >> 1, y0 >> 1, log2 - 1, chroma_mode_at(s, x0, y0));
}

/* ---------------------------------------------------------------- encoder */

static void quant_rdoq(const St *s, const int32_t *c, int32_t *lev, int log2, int scan, int qp,
                       const int32_t *qc, int chroma);
static void quant_plain(const int32_t *c, int32_t *lev, int log2, int qp, const int32_t *qc);

/* Quantization as HM's xQuant (offset 171/512 for intra); RDOQ when asked. */
static void quant(St *s, const int32_t *c, int32_t *lev, int log2, int mode) {
    if (s->rdoq) {
        quant_rdoq(s, c, lev, log2, scan_idx(log2, mode), s->qp, s->qcoef[log2 - 2], 0);
        return;
    }
    quant_plain(c, lev, log2, s->qp, s->qcoef[log2 - 2]);
}

static void quant_plain(const int32_t *c, int32_t *lev, int log2, int qp, const int32_t *qc) {
    const int n = 1 << log2, qbits = 14 + qp / 6 + (15 - 8 - log2);
    const int64_t add = (int64_t)171 << (qbits - 9);
    for (int i = 0; i < n * n; i++) {
        int64_t a = c[i] < 0 ? -(int64_t)c[i] : c[i];
        int64_t l = (a * qc[i] + add) >> qbits;
        if (l > 32767) l = 32767;
        lev[i] = (int32_t)(c[i] < 0 ? -l : l);
    }
}

static inline double bin_bits(const Ctx *ctx, int ci, int b) {
    int q = prob0(&ctx[ci]);
    return COST[(b ? PROB_ONE - q : q) >> 5];
}

/* Bits of coeff_abs_level_remaining `v` with Rice parameter k (as code_remaining writes it). */
static inline double remaining_bits(uint32_t v, int k) {
    if (v < (3u << k)) return (double)((v >> k) + 1 + k);
    int len = k;
    v -= 3u << k;
    while (v >= (1u << len)) {
        v -= 1u << len;
        len++;
    }
    return (double)(3 + len + 1 - k + len);
}

/* Bits of a last position component (prefix bins with their contexts, bypass suffix). */
static double last_bits(const Ctx *ctx, int v, int log2, int base) {
    const int cmax = GROUP_IDX[(1 << log2) - 1], g = GROUP_IDX[v];
    double bits = 0.0;
    for (int k = 0; k < cmax; k++) {
        bits += bin_bits(ctx, base + (log2 - 2) * 10 + k, k < g);
        if (k >= g) break;
    }
    return bits + (g > 3 ? (g >> 1) - 1 : 0);
}

/* Rate-distortion optimized quantization after HM's (TComTrQuant::xRateDistOptQuant): in
 * reverse scan order each coefficient takes the level among round-to-nearest, one less, and
 * zero of least D + lambda R, R from the current contexts with HM's greater-1 / greater-2 /
 * Rice state; then whole sub-blocks are zeroed where that costs less, and the last position is
 * chosen by cost (every rate read from the coder's contexts at the start of the CTU).
 * Distortion in the transform domain, scaled back to pixels. */
static void quant_rdoq(const St *s, const int32_t *c, int32_t *lev, int log2, int scan, int qp,
                       const int32_t *qc, int chroma) {
    const int n = 1 << log2, qbits = 14 + qp / 6 + (15 - 8 - log2);
    const double escale = 1.0 / ((double)(1 << (2 * (15 - 8 - log2))));
    /* chroma distortion counts wchroma times (HM's weight): lambda over it for its levels */
    const double lam = chroma ? s->lambda / s->wchroma : s->lambda;
    const int c_sig = chroma ? C_SIG_C : C_SIG, c_gt1 = chroma ? C_GT1_C : C_GT1,
              c_gt2 = chroma ? C_GT2_C : C_GT2, c_csbf = chroma ? C_CSBF_C : C_CSBF,
              c_lastx = chroma ? C_LASTX_C : C_LASTX, c_lasty = chroma ? C_LASTY_C : C_LASTY;
    const Ctx *ctx = s->cab.ctx;
    const int ls = log2 - 2, ns = 1 << ls, total = n * n;
    const uint8_t *sbs = SCAN[ls][scan], *ins = SCAN[2][scan];
    double cost[1024], zero[1024], sig1[1024], csbf_cost[64];
    int pos[1024], level[1024];
    uint8_t csbf[8][8];
    memset(csbf, 0, sizeof(csbf));
    int last = -1;
    for (int g = 0; g < total; g++) {
        const int sb = g >> 4, k = g & 15;
        const int x = (sbs[sb] & 15) * 4 + (ins[k] & 15), y = (sbs[sb] >> 4) * 4 + (ins[k] >> 4);
        pos[g] = y * n + x;
        const int64_t a = c[pos[g]] < 0 ? -(int64_t)c[pos[g]] : c[pos[g]];
        const int64_t up = (a * qc[pos[g]] + ((int64_t)1 << (qbits - 1))) >> qbits;
        level[g] = (int)(up > 32767 ? 32767 : up);
        if (level[g]) last = g;
        lev[pos[g]] = 0;
    }
    if (last < 0) return;
    int c1 = 1, rice = 0, ctx_set = 0, c1_idx = 0, c2_idx = 0;
    for (int g = last; g >= 0; g--) {
        const int sb = g >> 4, k = g & 15, xs = sbs[sb] & 15, ys = sbs[sb] >> 4;
        if (k == 15 || g == last) { /* a new sub-block: HM's state */
            ctx_set = sb > 0 && !chroma ? 2 : 0;
            if (c1 == 0) ctx_set++;
            c1 = 1;
            c1_idx = c2_idx = 0;
            rice = 0;
        }
        const int i = pos[g], x = i % n, y = i / n;
        const double a = c[i] < 0 ? -(double)c[i] : (double)c[i];
        const double unit = (double)((int64_t)1 << qbits) / qc[i];
        const int prev = (xs + 1 < ns ? csbf[xs + 1][ys] : 0) | (ys + 1 < ns ? csbf[xs][ys + 1] : 0) << 1;
        const int sc = c_sig + sig_ctx(log2, x, y, prev, scan, chroma);
        zero[g] = a * a * escale;
        sig1[g] = lam * bin_bits(ctx, sc, 1);
        double best = zero[g] + lam * bin_bits(ctx, sc, 0);
        int chosen = 0;
        for (int l = level[g]; l >= 1 && l >= level[g] - 1; l--) {
            double bits = 1.0; /* sign */
            uint32_t rem = 0;
            int has_rem = 0;
            if (c1_idx < 8) {
                bits += bin_bits(ctx, c_gt1 + ctx_set * 4 + c1, l > 1);
                if (l > 1) {
                    if (c2_idx == 0) {
                        bits += bin_bits(ctx, c_gt2 + ctx_set, l > 2);
                        if (l > 2) rem = (uint32_t)(l - 3), has_rem = 1;
                    } else {
                        rem = (uint32_t)(l - 2), has_rem = 1;
                    }
                }
            } else {
                rem = (uint32_t)(l - 1), has_rem = 1;
            }
            if (has_rem) bits += remaining_bits(rem, rice);
            const double e = a - l * unit, d = e * e * escale + sig1[g] + lam * bits;
            if (d < best) {
                best = d;
                chosen = l;
            }
        }
        cost[g] = best;
        lev[i] = chosen;
        if (chosen) { /* the coder's state after this level */
            if (c1_idx < 8) {
                if (chosen > 1) {
                    c1 = 0;
                    c2_idx++;
                } else if (c1 > 0 && c1 < 3) {
                    c1++;
                }
                c1_idx++;
            }
            if (chosen > 3 * (1 << rice) && rice < 4) rice++;
        }
        if (k == 0) { /* sub-block done: zero it where that costs less, set its flag */
            int any = 0;
            double coded = 0.0, zeros = 0.0;
            for (int j = 0; j < 16 && g + j <= last; j++) {
                any |= lev[pos[g + j]] != 0;
                coded += cost[g + j];
                zeros += zero[g + j];
            }
            csbf_cost[sb] = 0.0;
            if (sb > 0 && sb < (last >> 4)) {
                const int right = xs + 1 < ns ? csbf[xs + 1][ys] : 0;
                const int below = ys + 1 < ns ? csbf[xs][ys + 1] : 0;
                const int cc = c_csbf + (right | below);
                double c_one = coded + lam * bin_bits(ctx, cc, 1);
                double c_zero = zeros + lam * bin_bits(ctx, cc, 0);
                if (!any || c_zero < c_one) {
                    for (int j = 0; j < 16; j++) {
                        lev[pos[g + j]] = 0;
                        cost[g + j] = zero[g + j];
                    }
                    any = 0;
                    csbf_cost[sb] = lam * bin_bits(ctx, cc, 0);
                } else {
                    csbf_cost[sb] = lam * bin_bits(ctx, cc, 1);
                }
            }
            csbf[xs][ys] = (uint8_t)(any || sb == 0 || sb == (last >> 4));
        }
    }
    /* the last position: cost of coding up to g (with g's significance implied) */
    double before = 0.0, best = 0.0, after = 0.0;
    for (int g = 0; g <= last; g++) best += zero[g]; /* nothing coded */
    int best_last = -1;
    double csbf_sum = 0.0;
    for (int g = 0; g <= last; g++) after += zero[g];
    for (int g = 0; g <= last; g++) {
        after -= zero[g];
        const int sb = g >> 4;
        if (lev[pos[g]]) {
            const int i = pos[g];
            double cand = before + cost[g] - sig1[g] + after + csbf_sum +
                          lam * (last_bits(ctx, i % n, log2, c_lastx) +
                                 last_bits(ctx, i / n, log2, c_lasty));
            if (cand < best) {
                best = cand;
                best_last = g;
            }
        }
        before += cost[g];
        if ((g & 15) == 15 && sb > 0) csbf_sum += csbf_cost[sb];
    }
    for (int g = best_last + 1; g <= last; g++) lev[pos[g]] = 0;
    for (int g = 0; g <= best_last; g++)
        if (c[pos[g]] < 0) lev[pos[g]] = -lev[pos[g]];
}

/* Sign data hiding, encoder side (after HM's signBitHidingHDQ): in every 4x4 sub-block whose
 * nonzero levels span more than 3 scan positions, the parity of the sum of levels must give
 * the sign of the first one; where it does not, the level change of +-1 that adds the least
 * distortion is made, never moving the first or last nonzero level (so the rule still holds). */
static void hide_signs(const int32_t *c, int32_t *lev, int log2, int scan, int qp,
                       const int32_t *qc) {
    const int n = 1 << log2, ls = log2 - 2, ns = 1 << ls, qbits = 14 + qp / 6 + (15 - 8 - log2);
    const uint8_t *sbs = SCAN[ls][scan], *ins = SCAN[2][scan];
    for (int sb = 0; sb < ns * ns; sb++) {
        int at[16], first = -1, last = -1;
        uint32_t sum = 0;
        for (int k = 0; k < 16; k++) {
            at[k] = ((sbs[sb] >> 4) * 4 + (ins[k] >> 4)) * n + (sbs[sb] & 15) * 4 + (ins[k] & 15);
            if (lev[at[k]]) {
                if (first < 0) first = k;
                last = k;
                sum += (uint32_t)abs(lev[at[k]]);
            }
        }
        if (first < 0 || last - first <= 3 || (int)(sum & 1) == (lev[at[first]] < 0)) continue;
        double best = INFINITY;
        int best_k = first, best_d = 1;
        for (int k = first; k <= last; k++) {
            const int i = at[k], L = abs(lev[i]);
            const double e = (c[i] < 0 ? -(double)c[i] : (double)c[i]) * qc[i] / (double)(1 << qbits);
            const double now = (e - L) * (e - L);
            if ((L > 0 || k != first) && L < 32767) {
                double up = (e - L - 1) * (e - L - 1) - now;
                if (up < best) best = up, best_k = k, best_d = 1;
            }
            if (L >= 2 || (L == 1 && k != first && k != last)) {
                double down = (e - L + 1) * (e - L + 1) - now;
                if (down < best) best = down, best_k = k, best_d = -1;
            }
        }
        const int i = at[best_k], L = abs(lev[i]) + best_d;
        const int negative = lev[i] ? lev[i] < 0 : c[i] < 0;
        lev[i] = negative ? -L : L;
    }
}

/* Code one transform block (predict, transform, quantize, reconstruct); returns its SSE. */
static int64_t tu_leaf(St *s, int x0, int y0, int log2, int mode) {
    const int n = 1 << log2;
    uint8_t pred[32 * 32];
    int32_t res[1024], c[1024], lev[1024], d[1024], r[1024];
    predict(s, x0, y0, log2, mode, pred);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            res[y * n + x] = s->org[(size_t)(y0 + y) * s->W + x0 + x] - pred[y * n + x];
    forward(res, c, log2, log2 == 2);
    quant(s, c, lev, log2, mode);
    hide_signs(c, lev, log2, scan_idx(log2, mode), s->qp, s->qcoef[log2 - 2]);
    int any = 0;
    for (int i = 0; i < n * n; i++) any |= lev[i] != 0;
    if (any) {
        dequant(s, lev, d, log2);
        inverse(d, r, log2, log2 == 2);
    }
    int64_t sse = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            int v = any ? clip8(pred[y * n + x] + r[y * n + x]) : pred[y * n + x];
            size_t at = (size_t)(y0 + y) * s->W + x0 + x;
            s->rec[at] = (uint8_t)v;
            s->coef[at] = lev[y * n + x];
            int e = v - s->org[at];
            sse += e * e;
        }
    fill_map(s, s->tu, x0, y0, n, log2);
    return sse;
}

static inline void est_begin(St *s) {
    memcpy(s->est.ctx, s->cab.ctx, sizeof(s->cab.ctx));
    s->est.bits = 0.0;
    s->est.mode = M_EST;
}

static double tu_search(St *s, int x0, int y0, int log2, int depth, int nxn, int mode, int lvl,
                        int allow_split) {
    const int coded = log2 <= 5 && log2 > 2 && depth < MAX_TRAFO_DEPTH + nxn && !(nxn && depth == 0);
    const int forced = log2 > 5 || (nxn && depth == 0);
    double best = INFINITY;
    if (!forced) {
        int64_t sse = tu_leaf(s, x0, y0, log2, mode);
        est_begin(s);
        if (coded) bin(&s->est, C_STF + 5 - log2, 0);
        int32_t *blk = s->coef + (size_t)y0 * s->W + x0;
        int cbf = bin(&s->est, C_CBF + (depth == 0), block_nonzero(s, x0, y0, 1 << log2));
        if (cbf) residual(&s->est, blk, s->W, log2, scan_idx(log2, mode), 0);
        best = (double)sse + s->lambda * s->est.bits;
    }
    if (forced || (coded && allow_split)) {
        const int n = 1 << log2, h = n >> 1;
        if (!forced) save(s, &s->bufs[lvl], x0, y0, n);
        double cost = 0.0;
        if (coded) {
            est_begin(s);
            bin(&s->est, C_STF + 5 - log2, 1);
            cost = s->lambda * s->est.bits;
        }
        for (int k = 0; k < 4 && cost < best; k++)
            cost += tu_search(s, x0 + (k & 1) * h, y0 + (k >> 1) * h, log2 - 1, depth + 1, nxn,
                              mode, lvl + 1, allow_split);
        if (!forced && cost >= best)
            restore(s, &s->bufs[lvl], x0, y0, n);
        else
            best = cost;
    }
    return best;
}

/* Hadamard butterflies down the rows of a b x b block (vectorized along each row). */
static inline void hadamard_columns(int32_t *m, int b) {
    for (int h = 1; h < b; h <<= 1)
        for (int k = 0; k < b; k += 2 * h)
            for (int j = k; j < k + h; j++) {
                int32_t *p = m + j * b, *q = m + (j + h) * b;
                for (int x = 0; x < b; x++) {
                    int32_t a0 = p[x], a1 = q[x];
                    p[x] = a0 + a1;
                    q[x] = a0 - a1;
                }
            }
}

/* Sum of absolute Hadamard-transformed differences, as HM (4x4 blocks for 4x4, 8x8 else). */
static int64_t satd(const uint8_t *org, int stride, const uint8_t *pred, int n) {
    int64_t total = 0;
    const int b = n == 4 ? 4 : 8;
    int32_t d[64], t[64];
    for (int by = 0; by < n; by += b)
        for (int bx = 0; bx < n; bx += b) {
            for (int y = 0; y < b; y++)
                for (int x = 0; x < b; x++)
                    d[y * b + x] = org[(by + y) * stride + bx + x] - pred[(by + y) * n + bx + x];
            hadamard_columns(d, b);
            for (int y = 0; y < b; y++)
                for (int x = 0; x < b; x++) t[x * b + y] = d[y * b + x];
            hadamard_columns(t, b);
            int32_t sum = 0;
            for (int k = 0; k < b * b; k++) sum += t[k] < 0 ? -t[k] : t[k];
            total += b == 4 ? (sum + 1) >> 1 : (sum + 2) >> 2;
        }
    return total;
}

static double mode_bits(const St *s, const int cand[3], int m) {
    int q = prob0(&s->cab.ctx[C_PREV]);
    if (m == cand[0]) return COST[(PROB_ONE - q) >> 5] + 1.0;
    if (m == cand[1] || m == cand[2]) return COST[(PROB_ONE - q) >> 5] + 2.0;
    return COST[q >> 5] + 5.0;
}

/* Intra mode decision for one prediction block, as HM: SATD + sqrt(lambda) bits over all 35
 * modes, full RD (largest transform) on the best few and the MPMs, then the transform tree of
 * the best mode. Leaves the best coding in the state; returns its cost. */
static double pb_search(St *s, int x0, int y0, int log2, int nxn, int lvl) {
    const int n = 1 << log2, depth = nxn ? 1 : 0;
    int cand[3];
    mpm(s, x0, y0, cand);
    static const int n_fast[7] = {0, 0, 8, 8, 3, 3, 3};
    const int keep = n_fast[log2];
    int list[8 + 3], nlist = 0;
    double lcost[8];
    uint8_t pred[64 * 64];
    const uint8_t *org = s->org + (size_t)y0 * s->W + x0;
    Refs R;
    build_refs(s, s->rec, s->W, s->H, 0, x0, y0, log2, &R);
    for (int m = 0; m < 35; m++) {
        predict_refs(&R, m, pred);
        double cost = (double)satd(org, s->W, pred, n) + s->sqrt_lambda * mode_bits(s, cand, m);
        int at = nlist < keep ? nlist++ : keep;
        if (at == keep) {
            if (cost >= lcost[keep - 1]) continue;
            at = keep - 1;
        }
        while (at > 0 && lcost[at - 1] > cost) {
            lcost[at] = lcost[at - 1];
            list[at] = list[at - 1];
            at--;
        }
        lcost[at] = cost;
        list[at] = m;
    }
    for (int k = 0; k < 3; k++) {
        int found = 0;
        for (int i = 0; i < nlist; i++) found |= list[i] == cand[k];
        if (!found) list[nlist++] = cand[k];
    }
    double best = INFINITY;
    int best_mode = list[0];
    for (int i = 0; i < nlist; i++) {
        fill_map(s, s->mode, x0, y0, n, list[i]);
        double cost = s->lambda * mode_bits(s, cand, list[i]) +
                      tu_search(s, x0, y0, log2, depth, nxn, list[i], lvl, 0);
        if (cost < best) {
            best = cost;
            best_mode = list[i];
        }
    }
    fill_map(s, s->mode, x0, y0, n, best_mode);
    return s->lambda * mode_bits(s, cand, best_mode) +
           tu_search(s, x0, y0, log2, depth, nxn, best_mode, lvl, 1);
}

/* Code the chroma blocks (both components) of the n x n chroma block at chroma (xc, yc). */
static int64_t chroma_leaf(St *s, int xc, int yc, int log2, int mode) {
    const int n = 1 << log2;
    uint8_t pred[16 * 16];
    int32_t res[256], c[256], lev[256];
    for (int k = 0; k < 2; k++) {
        predict_plane(s, s->recc[k], s->Wc, s->Hc, 1, xc, yc, log2, mode, pred);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                res[y * n + x] = s->orgc[k][(size_t)(yc + y) * s->Wc + xc + x] - pred[y * n + x];
        forward(res, c, log2, 0);
        const int scan = log2 == 2 ? scan_idx(2, mode) : 0;
        if (s->rdoq)
            quant_rdoq(s, c, lev, log2, scan, s->qpc, s->qcoefc[log2 - 2], 1);
        else
            quant_plain(c, lev, log2, s->qpc, s->qcoefc[log2 - 2]);
        hide_signs(c, lev, log2, scan, s->qpc, s->qcoefc[log2 - 2]);
        for (int y = 0; y < n; y++)
            memcpy(s->coefc[k] + (size_t)(yc + y) * s->Wc + xc, lev + y * n, sizeof(int32_t) * n);
    }
    return recon_chroma(s, xc, yc, log2, mode);
}

/* The chroma blocks of a coding block, along its transform tree (the tu map). */
static int64_t chroma_tree(St *s, int x0, int y0, int log2, int mode) {
    if (log2 > 2 && (log2 > 5 || s->tu[(y0 >> 2) * s->w4 + (x0 >> 2)] < log2)) {
        int h = 1 << (log2 - 1);
        int64_t sse = 0;
        for (int k = 0; k < 4; k++)
            sse += chroma_tree(s, x0 + (k & 1) * h, y0 + (k >> 1) * h, log2 - 1, mode);
        if (log2 == 3) sse += chroma_leaf(s, x0 >> 1, y0 >> 1, 2, mode);
        return sse;
    }
    return log2 > 2 ? chroma_leaf(s, x0 >> 1, y0 >> 1, log2 - 1, mode) : 0;
}

/* Chroma mode decision of a coded luma block, as HM: the five candidates fully coded; returns
 * the cost of the whole coding block (luma and weighted chroma distortion, all its bits). */
static double chroma_search(St *s, int x0, int y0, int log2) {
    const int n = 1 << log2;
    int64_t luma = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            size_t at = (size_t)(y0 + y) * s->W + x0 + x;
            int e = s->rec[at] - s->org[at];
            luma += e * e;
        }
    double best = INFINITY;
    int best_v = 4;
    static const int order[5] = {4, 0, 1, 2, 3};
    for (int i = 0; i < 5; i++) {
        fill_map(s, s->cmode, x0, y0, n, order[i]);
        int64_t sse = chroma_tree(s, x0, y0, log2, chroma_mode_at(s, x0, y0));
        est_begin(s);
        code_cu_leaf(&s->est, s, x0, y0, log2);
        double cost = (double)luma + s->wchroma * (double)sse + s->lambda * s->est.bits;
        if (cost < best) {
            best = cost;
            best_v = order[i];
        }
    }
    if (best_v != order[4]) {
        fill_map(s, s->cmode, x0, y0, n, best_v);
        chroma_tree(s, x0, y0, log2, chroma_mode_at(s, x0, y0));
    }
    return best;
}

static double cu_intra(St *s, int x0, int y0, int log2, int lvl) {
    const int n = 1 << log2;
    fill_map(s, s->cu, x0, y0, n, log2);
    fill_map(s, s->pu, x0, y0, n, log2);
    double best = pb_search(s, x0, y0, log2, 0, lvl + 1);
    if (log2 == 3) {
        int q = prob0(&s->cab.ctx[C_PART]);
        best += s->lambda * COST[q >> 5];
        save(s, &s->bufs[lvl], x0, y0, n);
        fill_map(s, s->pu, x0, y0, n, 2);
        double cost = s->lambda * COST[(PROB_ONE - q) >> 5];
        for (int k = 0; k < 4 && cost < best; k++)
            cost += pb_search(s, x0 + (k & 1) * 4, y0 + (k >> 1) * 4, 2, 1, lvl + 1);
        if (cost >= best)
            restore(s, &s->bufs[lvl], x0, y0, n);
        else
            best = cost;
    }
    if (s->chroma) best = chroma_search(s, x0, y0, log2);
    return best;
}

static double cu_search(St *s, int x0, int y0, int log2, int lvl) {
    const int n = 1 << log2, inside = x0 + n <= s->W && y0 + n <= s->H;
    double best = INFINITY;
    int ctx = 0;
    if (inside) {
        best = cu_intra(s, x0, y0, log2, lvl + 1);
        if (log2 > 3) {
            ctx = split_ctx(s, x0, y0, log2);
            best += s->lambda * COST[prob0(&s->cab.ctx[C_SPLIT + ctx]) >> 5];
        }
    }
    if (log2 > 3) {
        if (inside) save(s, &s->bufs[lvl], x0, y0, n);
        double cost = 0.0;
        if (inside) cost = s->lambda * COST[(PROB_ONE - prob0(&s->cab.ctx[C_SPLIT + ctx])) >> 5];
        const int h = n >> 1;
        for (int k = 0; k < 4 && cost < best; k++) {
            int x = x0 + (k & 1) * h, y = y0 + (k >> 1) * h;
            if (x < s->W && y < s->H) cost += cu_search(s, x, y, log2 - 1, lvl + 2);
        }
        if (inside && cost >= best)
            restore(s, &s->bufs[lvl], x0, y0, n);
        else
            best = cost;
    }
    return best;
}

/* ----------------------------------------------------------- Python glue */

static int get_buf(PyObject *o, Py_buffer *b, int writable, Py_ssize_t itemsize, Py_ssize_t count,
                   const char *name) {
    if (PyObject_GetBuffer(o, b, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (b->itemsize != itemsize || b->len != itemsize * count) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd items of %zd bytes, got %zd bytes", name,
                     count, itemsize, b->len);
        PyBuffer_Release(b);
        return -1;
    }
    return 0;
}

static int setup(St *s, int H, int W, int ctu_log2, int qp, const int32_t *scales) {
    memset(s, 0, sizeof(*s));
    if (H < 8 || W < 8 || H % 8 || W % 8 || ctu_log2 < 4 || ctu_log2 > 6 || qp < 0 || qp > 51 ||
        (int64_t)H * W > (1LL << 28)) {
        PyErr_SetString(PyExc_ValueError, "bad picture size, CTU size or QP");
        return -1;
    }
    s->H = H;
    s->W = W;
    s->h4 = H / 4;
    s->w4 = W / 4;
    s->Hc = H / 2;
    s->Wc = W / 2;
    s->ctu_log2 = ctu_log2;
    s->qp = qp;
    s->qpc = chroma_qp(qp);
    s->wchroma = pow(2.0, (qp - s->qpc) / 3.0);
    if (scales) {
        s->scale[0] = scales;
        s->scale[1] = scales + 16;
        s->scale[2] = scales + 80;
        s->scale[3] = scales + 336;
        for (int i = 0; i < 1360; i++)
            if (scales[i] < 1 || scales[i] > 255) {
                PyErr_SetString(PyExc_ValueError, "scaling factors must be 1..255");
                return -1;
            }
        for (int l = 0; l < 4; l++)
            for (int i = 0; i < (1 << (2 * (l + 2))); i++) {
                s->qcoef[l][i] = (QUANT_SCALE[qp % 6] << 4) / s->scale[l][i];
                s->qcoefc[l][i] = (QUANT_SCALE[s->qpc % 6] << 4) / s->scale[l][i];
            }
    }
    if (build_zscan(s) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Buffers of a batch of pictures, None for the chroma ones of gray pictures. */
typedef struct {
    Py_buffer b[16];
    int n;
} Bufs;

static void release(Bufs *bs) {
    for (int i = 0; i < bs->n; i++) PyBuffer_Release(&bs->b[i]);
    bs->n = 0;
}

static void *take(Bufs *bs, PyObject *o, int writable, Py_ssize_t itemsize, Py_ssize_t count,
                  const char *name, int *failed) {
    if (*failed || o == Py_None) return NULL;
    if (get_buf(o, &bs->b[bs->n], writable, itemsize, count, name) < 0) {
        *failed = 1;
        return NULL;
    }
    return bs->b[bs->n++].buf;
}

/* Where the planes of picture i of a batch are. */
typedef struct {
    const uint8_t *org, *orgc;
    uint8_t *rec, *recc, *maps;
    int32_t *coef, *coefc;
} Planes;

static int take_planes(St *s, Bufs *bs, Planes *P, Py_ssize_t n, PyObject *org, PyObject *orgc,
                       PyObject *coef, PyObject *coefc, PyObject *maps, PyObject *rec,
                       PyObject *recc, int writable_symbols) {
    const Py_ssize_t np = (Py_ssize_t)s->H * s->W, n4 = np / 16, nc = np / 4;
    int failed = 0;
    memset(P, 0, sizeof(*P));
    P->org = (const uint8_t *)take(bs, org, 0, 1, n * np, "org", &failed);
    P->orgc = (const uint8_t *)take(bs, orgc, 0, 1, n * 2 * nc, "orgc", &failed);
    P->coef = (int32_t *)take(bs, coef, writable_symbols, 4, n * np, "coef", &failed);
    P->coefc = (int32_t *)take(bs, coefc, writable_symbols, 4, n * 2 * nc, "coefc", &failed);
    P->maps = (uint8_t *)take(bs, maps, writable_symbols, 1, n * N_MAPS * n4, "maps", &failed);
    P->rec = (uint8_t *)take(bs, rec, 1, 1, n * np, "rec", &failed);
    P->recc = (uint8_t *)take(bs, recc, 1, 1, n * 2 * nc, "recc", &failed);
    if (failed) return -1;
    if (!P->coef || !P->maps || (rec != Py_None && P->coefc && !P->recc) ||
        (org != Py_None && P->coefc && !P->orgc)) {
        PyErr_SetString(PyExc_ValueError, "coef and maps are required (and chroma planes with "
                                          "coefc)");
        return -1;
    }
    s->chroma = P->coefc != NULL;
    return 0;
}

static void point(St *s, const Planes *P, size_t i) {
    const size_t np = (size_t)s->H * s->W, n4 = np / 16, nc = np / 4;
    s->org = P->org ? P->org + i * np : NULL;
    s->rec = P->rec ? P->rec + i * np : NULL;
    s->coef = P->coef + i * np;
    uint8_t *m = P->maps + i * N_MAPS * n4;
    s->cu = m;
    s->pu = m + n4;
    s->mode = m + 2 * n4;
    s->tu = m + 3 * n4;
    s->cmode = m + 4 * n4;
    if (s->chroma) {
        s->coefc[0] = P->coefc + i * 2 * nc;
        s->coefc[1] = s->coefc[0] + nc;
        s->recc[0] = P->recc ? P->recc + i * 2 * nc : NULL;
        s->recc[1] = P->recc ? s->recc[0] + nc : NULL;
        s->orgc[0] = P->orgc ? P->orgc + i * 2 * nc : NULL;
        s->orgc[1] = P->orgc ? s->orgc[0] + nc : NULL;
    }
}

/* encode(org u8 (n, H, W), orgc u8 (n, 2, H/2, W/2) or None, rec, recc, coef i32, coefc i32 or
 *        None, maps u8 (n, 5, H/4, W/4), scales i32 (1360), n, H, W, qp, lambda, ctu_log2,
 *        rdoq) -> list of n payloads (bytes) */
static PyObject *py_encode(PyObject *self, PyObject *args) {
    PyObject *oo, *oco, *ro, *rco, *co, *cco, *mo, *so;
    Py_ssize_t n;
    int H, W, qp, ctu_log2, rdoq;
    double lambda;
    if (!PyArg_ParseTuple(args, "OOOOOOOOniiidii", &oo, &oco, &ro, &rco, &co, &cco, &mo, &so, &n,
                          &H, &W, &qp, &lambda, &ctu_log2, &rdoq))
        return NULL;
    if (!matrices_set) {
        PyErr_SetString(PyExc_RuntimeError, "set_matrices first");
        return NULL;
    }
    St *s = (St *)calloc(1, sizeof(St));
    Buf *bufs = (Buf *)malloc(sizeof(Buf) * N_BUFS);
    Bufs bs = {.n = 0};
    Planes P;
    PyObject *result = NULL, *list = NULL;
    if (!s || !bufs) {
        PyErr_NoMemory();
        goto done;
    }
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "n must be >= 0");
        goto done;
    }
    Py_buffer sb;
    if (get_buf(so, &sb, 0, 4, 1360, "scales") < 0) goto done;
    bs.b[bs.n++] = sb;
    if (setup(s, H, W, ctu_log2, qp, (const int32_t *)sb.buf) < 0) goto done;
    if (take_planes(s, &bs, &P, n, oo, oco, co, cco, mo, ro, rco, 1) < 0) goto done;
    if (!P.org || !P.rec) {
        PyErr_SetString(PyExc_ValueError, "encode needs org and rec");
        goto done;
    }
    s->bufs = bufs;
    s->lambda = lambda;
    s->sqrt_lambda = sqrt(lambda);
    s->rdoq = rdoq;
    list = PyList_New(n);
    if (!list) goto done;
    const size_t np = (size_t)H * W, nc = np / 4, n4 = np / 16;
    for (Py_ssize_t i = 0; i < n; i++) {
        point(s, &P, (size_t)i);
        if (s->chroma) {
            memset(s->recc[0], 0, 2 * nc);
            memset(s->coefc[0], 0, 2 * nc * sizeof(int32_t));
        }
        memset(s->rec, 0, np);
        memset(s->coef, 0, np * 4);
        memset(s->cu, 0, N_MAPS * n4);
        memset(s->mode, 1, n4);
        memset(s->cmode, 4, n4);
        writer_init(&s->cab);
        Py_BEGIN_ALLOW_THREADS;
        const int ctu = 1 << ctu_log2;
        for (int y = 0; y < H; y += ctu)
            for (int x = 0; x < W; x += ctu) {
                cu_search(s, x, y, ctu_log2, 0);
                code_cu(&s->cab, s, x, y, ctu_log2);
            }
        writer_finish(&s->cab);
        Py_END_ALLOW_THREADS;
        PyObject *bytes = NULL;
        if (s->cab.err == 3)
            PyErr_SetString(PyExc_RuntimeError, "HEVC encoder: sign hiding parity broken (a bug)");
        else if (s->cab.err)
            PyErr_NoMemory();
        else
            bytes = PyBytes_FromStringAndSize((const char *)s->cab.buf, (Py_ssize_t)s->cab.n);
        free(s->cab.buf);
        s->cab.buf = NULL;
        if (!bytes) goto done;
        PyList_SET_ITEM(list, i, bytes);
    }
    result = list;
    list = NULL;
done:
    Py_XDECREF(list);
    release(&bs);
    if (s) free(s->zs);
    free(s);
    free(bufs);
    return result;
}

/* parse(payloads (sequence of n bytes), coef i32 out (n, H, W), coefc i32 out or None,
 *       maps u8 out (n, 5, H/4, W/4), n, H, W, ctu_log2) */
static PyObject *py_parse(PyObject *self, PyObject *args) {
    PyObject *po, *co, *cco, *mo;
    Py_ssize_t n;
    int H, W, ctu_log2;
    if (!PyArg_ParseTuple(args, "OOOOniii", &po, &co, &cco, &mo, &n, &H, &W, &ctu_log2))
        return NULL;
    PyObject *result = NULL, *seq = NULL;
    Bufs bs = {.n = 0};
    Planes P;
    St *s = (St *)calloc(1, sizeof(St));
    if (!s) {
        PyErr_NoMemory();
        goto done;
    }
    seq = PySequence_Fast(po, "payloads must be a sequence of bytes");
    if (!seq) goto done;
    if (PySequence_Fast_GET_SIZE(seq) != n || n < 0) {
        PyErr_SetString(PyExc_ValueError, "expected n payloads");
        goto done;
    }
    if (setup(s, H, W, ctu_log2, 0, NULL) < 0) goto done;
    if (take_planes(s, &bs, &P, n, Py_None, Py_None, co, cco, mo, Py_None, Py_None, 1) < 0)
        goto done;
    const size_t np = (size_t)H * W;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_buffer pb;
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, i), &pb, PyBUF_SIMPLE) < 0) goto done;
        point(s, &P, (size_t)i);
        memset(s->cu, 0, N_MAPS * (np / 16));
        memset(s->coef, 0, np * 4);
        if (s->chroma) memset(s->coefc[0], 0, np / 2 * 4);
        reader_init(&s->cab, (const uint8_t *)pb.buf, (size_t)pb.len);
        int err = 0;
        Py_BEGIN_ALLOW_THREADS;
        const int ctu = 1 << ctu_log2;
        for (int y = 0; y < H && !s->cab.err; y += ctu)
            for (int x = 0; x < W && !s->cab.err; x += ctu) code_cu(&s->cab, s, x, y, ctu_log2);
        err = s->cab.err || s->cab.over > 0;
        Py_END_ALLOW_THREADS;
        PyBuffer_Release(&pb);
        if (err) {
            PyErr_Format(PyExc_ValueError, "stream %zd is corrupt or truncated", i);
            goto done;
        }
    }
    Py_INCREF(Py_None);
    result = Py_None;
done:
    Py_XDECREF(seq);
    release(&bs);
    if (s) free(s->zs);
    free(s);
    return result;
}

/* reconstruct(coef (n, H, W), coefc or None, maps, rec u8 out, recc u8 out or None, scales, n,
 *             H, W, qp, ctu_log2) */
static PyObject *py_reconstruct(PyObject *self, PyObject *args) {
    PyObject *co, *cco, *mo, *ro, *rco, *so;
    Py_ssize_t n;
    int H, W, qp, ctu_log2;
    if (!PyArg_ParseTuple(args, "OOOOOOniiii", &co, &cco, &mo, &ro, &rco, &so, &n, &H, &W, &qp,
                          &ctu_log2))
        return NULL;
    if (!matrices_set) {
        PyErr_SetString(PyExc_RuntimeError, "set_matrices first");
        return NULL;
    }
    PyObject *result = NULL;
    Bufs bs = {.n = 0};
    Planes P;
    St *s = (St *)calloc(1, sizeof(St));
    if (!s) {
        PyErr_NoMemory();
        goto done;
    }
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "n must be >= 0");
        goto done;
    }
    Py_buffer sb;
    if (get_buf(so, &sb, 0, 4, 1360, "scales") < 0) goto done;
    bs.b[bs.n++] = sb;
    if (setup(s, H, W, ctu_log2, qp, (const int32_t *)sb.buf) < 0) goto done;
    if (take_planes(s, &bs, &P, n, Py_None, Py_None, co, cco, mo, ro, rco, 0) < 0) goto done;
    if (!P.rec) {
        PyErr_SetString(PyExc_ValueError, "reconstruct needs rec");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    const int ctu = 1 << ctu_log2;
    for (Py_ssize_t i = 0; i < n; i++) {
        point(s, &P, (size_t)i);
        for (int y = 0; y < H; y += ctu)
            for (int x = 0; x < W; x += ctu) recon_tree(s, x, y, ctu_log2);
    }
    Py_END_ALLOW_THREADS;
    Py_INCREF(Py_None);
    result = Py_None;
done:
    release(&bs);
    if (s) free(s->zs);
    free(s);
    return result;
}

/* predict(picture u8 (H, W), out u8 (n*n), x0, y0, log2, mode, ctu_log2): one prediction with
 * the samples of `picture` as the reconstruction (for tests). */
static PyObject *py_predict(PyObject *self, PyObject *args) {
    PyObject *po, *oo;
    int H, W, x0, y0, log2, mode, ctu_log2;
    if (!PyArg_ParseTuple(args, "OOiiiiiii", &po, &oo, &H, &W, &x0, &y0, &log2, &mode, &ctu_log2))
        return NULL;
    if (H < 8 || W < 8 || H % 8 || W % 8 || log2 < 2 || log2 > 5 || mode < 0 || mode > 34 ||
        x0 < 0 || y0 < 0 || x0 % (1 << log2) || y0 % (1 << log2) || x0 + (1 << log2) > W ||
        y0 + (1 << log2) > H || ctu_log2 < log2 || ctu_log2 > 6 || (int64_t)H * W > (1LL << 24)) {
        PyErr_SetString(PyExc_ValueError, "bad block");
        return NULL;
    }
    Py_buffer pb, ob;
    if (get_buf(po, &pb, 0, 1, (Py_ssize_t)H * W, "picture") < 0) return NULL;
    if (get_buf(oo, &ob, 1, 1, (Py_ssize_t)1 << (2 * log2), "out") < 0) {
        PyBuffer_Release(&pb);
        return NULL;
    }
    St s;
    memset(&s, 0, sizeof(s));
    s.H = H;
    s.W = W;
    s.h4 = H / 4;
    s.w4 = W / 4;
    s.ctu_log2 = ctu_log2;
    PyObject *result = NULL;
    if (build_zscan(&s) < 0)
        PyErr_NoMemory();
    else {
        s.rec = (uint8_t *)pb.buf;
        predict(&s, x0, y0, log2, mode, (uint8_t *)ob.buf);
        Py_INCREF(Py_None);
        result = Py_None;
    }
    free(s.zs);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&pb);
    return result;
}

static PyObject *py_set_matrices(PyObject *self, PyObject *args) {
    PyObject *o;
    if (!PyArg_ParseTuple(args, "O", &o)) return NULL;
    Py_buffer b;
    if (get_buf(o, &b, 0, 4, 16 + 64 + 256 + 1024 + 16, "matrices") < 0) return NULL;
    const int32_t *m = (const int32_t *)b.buf;
    memcpy(T4, m, sizeof(T4));
    memcpy(T8, m + 16, sizeof(T8));
    memcpy(T16, m + 80, sizeof(T16));
    memcpy(T32, m + 336, sizeof(T32));
    memcpy(DST, m + 1360, sizeof(DST));
    int32_t *all[5] = {T4, T8, T16, T32, DST}, *allt[5] = {T4_T, T8_T, T16_T, T32_T, DST_T};
    const int sizes[5] = {4, 8, 16, 32, 4};
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < sizes[k]; i++)
            for (int j = 0; j < sizes[k]; j++) allt[k][j * sizes[k] + i] = all[k][i * sizes[k] + j];
    matrices_set = 1;
    PyBuffer_Release(&b);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"set_matrices", py_set_matrices, METH_VARARGS, "set_matrices(int32 DCT 4..32 and DST)."},
    {"encode", py_encode, METH_VARARGS,
     "encode(org, orgc, rec, recc, coef, coefc, maps, scales, n, H, W, qp, lambda, ctu_log2, "
     "rdoq) -> list of n payloads (chroma arguments None for gray pictures)"},
    {"parse", py_parse, METH_VARARGS, "parse(payloads, coef, coefc, maps, n, H, W, ctu_log2)"},
    {"reconstruct", py_reconstruct, METH_VARARGS,
     "reconstruct(coef, coefc, maps, rec, recc, scales, n, H, W, qp, ctu_log2)"},
    {"predict", py_predict, METH_VARARGS,
     "predict(picture, out, H, W, x0, y0, log2, mode, ctu_log2)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hevc_kernel",
                                    "HEVC intra coding of gray pictures.", -1, methods};

PyMODINIT_FUNC PyInit__hevc_kernel(void) {
    init_scans();
    for (int i = 0; i < (PROB_ONE >> 5); i++)
        COST[i] = (float)(-log2(((double)i + 0.5) / (double)(PROB_ONE >> 5)));
    return PyModule_Create(&module);
}
