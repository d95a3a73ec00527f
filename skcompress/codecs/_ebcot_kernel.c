/* JPEG 2000's block coder (EBCOT tier 1): bit-plane coding passes of wavelet code blocks
 * with the MQ arithmetic coder (ISO/IEC 15444-1 Annexes C and D). Plain C, no library.
 *
 * encode(values, P, H, W, blocks, weights, nplanes, rates, dists, offsets) -> bytes
 *     values float64 (P, H, W): planes of subbands in the Mallat layout, each coefficient
 *     divided by its quantization step (the deadzone index is floor(|v|), the sign that
 *     of v); blocks int32 (nb, 6): plane, row, column, height, width, orientation (0 LL,
 *     1 HL, 2 LH, 3 HH); weights float64 (nb): the squared-error weight of one step^2 of
 *     the block's coefficients. Fills nplanes int32 (nb): magnitude bit-planes of each
 *     block; rates int32 (nb, 88): bytes of the block's codeword that decode its first
 *     k + 1 passes (as OpenJPEG estimates them: the bytes out when the pass ends plus 3,
 *     at most the codeword's length, one less where that would end on 0xFF); dists
 *     float64 (nb, 88): the weighted squared error those passes remove, exactly (each
 *     coefficient reconstructed at the middle of the interval its decoded bits leave);
 *     offsets int64 (nb + 1): where each block's full codeword lies in the returned bytes.
 *
 * decode(data, P, H, W, blocks, nplanes, npasses, offsets, out, reversible)
 *     The codeword of block b is data[offsets[b]:offsets[b + 1]] (possibly a truncated
 *     one); its first npasses[b] passes are decoded. out int32 (P, H, W) receives, per
 *     coefficient, the decoder's reconstruction in half steps, sign * (2 m + 2^p) where m
 *     is the magnitude known down to bit-plane p (0 if never significant); with
 *     reversible=1, the integer sign * m (lossless coding, every pass decoded).
 *
 * dwt(planes, P, H, W, levels, reversible, inverse)
 *     In place: the 9/7 (float64 planes) or the reversible 5/3 (int32) by lifting, whole-
 *     sample symmetric extension, `levels` levels in the Mallat layout (Annex F); columns
 *     then rows forward, the reverse inverse.
 *
 * pixels(planes, n, C, H, W, matrix, out, reversible)
 *     The decoder's last step: float64 planes (n, C, H, W) through the 3x3 matrix when
 *     C = 3 (int32 planes through the inverse RCT with reversible=1), plus 128, rounded
 *     (half to even), clipped to 0..255, into out (n, H, W, C).
 *
 * Passes: a cleanup pass on the most significant plane, then significance propagation,
 * magnitude refinement and cleanup on every lower plane (3 nplanes - 2 in all); stripes
 * of 4 rows scanned column by column; 19 contexts: 9 significance contexts by
 * orientation (Table D.1), 5 sign contexts with their XOR bit (D.3), 3 refinement
 * contexts (D.4), run-length and uniform (D.5). No optional mode (no bypass, reset,
 * termination per pass, causal stripes or segmentation symbols).
 *
 * The MQ coder is Annex C's (software conventions of C.2 and C.3: OpenJPEG's byte-out
 * and flush), with each context's state and MPS sense in one table entry.
 *
 * All release the GIL. Every size is checked against the buffers before memory is
 * touched; a codeword is read with two 0xFF bytes appended, so a truncated or forged one
 * decodes to something, never out of bounds.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLANES 30
#define MAX_PASSES (3 * MAX_PLANES - 2)

enum { CTX_SC = 9, CTX_MR = 14, CTX_RL = 17, CTX_UNI = 18, N_CTX = 19 };
enum { SIG = 1, NEG = 2, VISIT = 4, REFINED = 8 };

/* Table C.2: Qe, next index after an MPS, after an LPS, switch of the MPS sense. */
static const uint16_t QE[47] = {
    0x5601, 0x3401, 0x1801, 0x0AC1, 0x0521, 0x0221, 0x5601, 0x5401, 0x4801, 0x3801,
    0x3001, 0x2401, 0x1C01, 0x1601, 0x5601, 0x5401, 0x5101, 0x4801, 0x3801, 0x3401,
    0x3001, 0x2801, 0x2401, 0x2201, 0x1C01, 0x1801, 0x1601, 0x1401, 0x1201, 0x1101,
    0x0AC1, 0x09C1, 0x08A1, 0x0521, 0x0441, 0x02A1, 0x0221, 0x0141, 0x0111, 0x0085,
    0x0049, 0x0025, 0x0015, 0x0009, 0x0005, 0x0001, 0x5601};
static const uint8_t NMPS[47] = {1,  2,  3,  4,  5,  38, 7,  8,  9,  10, 11, 12, 13, 29, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
                                 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 45, 46};
static const uint8_t NLPS[47] = {1,  6,  9,  12, 29, 33, 6,  14, 14, 14, 17, 18, 20, 21, 14, 14,
                                 15, 16, 17, 18, 19, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                                 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 46};
static const uint8_t SWITCH[47] = {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* The 47 states of Table C.2 with the sense of the MPS: state 2 i + mps. */
typedef struct {
    uint32_t qe, mps, nmps, nlps;
} State;
static State ST[94];

static double HALF[MAX_PLANES + 2]; /* 2^p / 2 */

/* Significance contexts (Table D.1) by orientation, indexed by the significance of the 8
 * neighbours, one bit each: W, E, N, S, NW, NE, SW, SE (bit 0 to 7). */
static uint8_t ZC[4][256];
/* Sign context and XOR bit (Table D.3), indexed (H + 1) * 3 + (V + 1). */
static const uint8_t SC_CTX[9] = {13, 12, 11, 10, 9, 10, 11, 12, 13};
static const uint8_t SC_XOR[9] = {1, 1, 1, 1, 0, 0, 0, 0, 0};

static int zc_ll_lh(int h, int v, int d) {
    if (h == 2) return 8;
    if (h == 1) return v >= 1 ? 7 : (d >= 1 ? 6 : 5);
    if (v == 2) return 4;
    if (v == 1) return 3;
    return d >= 2 ? 2 : d;
}

static int zc_hh(int h, int v, int d) {
    int hv = h + v;
    if (d >= 3) return 8;
    if (d == 2) return hv >= 1 ? 7 : 6;
    if (d == 1) return hv >= 2 ? 5 : (hv == 1 ? 4 : 3);
    return hv >= 2 ? 2 : hv;
}

static void init_tables(void) {
    for (int i = 0; i < 47; i++)
        for (int m = 0; m < 2; m++)
            ST[2 * i + m] = (State){QE[i], (uint32_t)m, 2u * NMPS[i] + (uint32_t)m,
                                    2u * NLPS[i] + (uint32_t)(m ^ SWITCH[i])};
    for (int p = 0; p < MAX_PLANES + 2; p++) HALF[p] = ldexp(0.5, p);
    for (int i = 0; i < 256; i++) {
        int h = (i & 1) + ((i >> 1) & 1), v = ((i >> 2) & 1) + ((i >> 3) & 1);
        int d = ((i >> 4) & 1) + ((i >> 5) & 1) + ((i >> 6) & 1) + ((i >> 7) & 1);
        ZC[0][i] = ZC[2][i] = (uint8_t)zc_ll_lh(h, v, d);
        ZC[1][i] = (uint8_t)zc_ll_lh(v, h, d); /* HL: vertical neighbours first */
        ZC[3][i] = (uint8_t)zc_hh(h, v, d);
    }
}

/* -- MQ encoder ---------------------------------------------------------- */

typedef struct {
    uint8_t *buf;     /* whole output; a block's codeword starts at `start` */
    int64_t cap;
    int64_t start, bp; /* bp: index of the byte being formed (start - 1 before the first) */
    uint32_t a, c;
    int ct;
    int failed;
    uint32_t st[N_CTX]; /* state of each context: index into ST */
} Enc;

static void reset_contexts(uint32_t *st) {
    for (int cx = 0; cx < N_CTX; cx++) st[cx] = 0;
    st[CTX_UNI] = 2 * 46;
    st[CTX_RL] = 2 * 3;
    st[0] = 2 * 4;
}

static int enc_reserve(Enc *e, int64_t need) {
    if (need <= e->cap) return 1;
    int64_t cap = e->cap * 2 > need ? e->cap * 2 : need + 4096;
    uint8_t *b = (uint8_t *)realloc(e->buf, (size_t)cap);
    if (!b) {
        e->failed = 1;
        return 0;
    }
    e->buf = b;
    e->cap = cap;
    return 1;
}

static inline void byteout(Enc *e) {
    if (e->failed || !enc_reserve(e, e->bp + 8)) {
        e->ct = 8; /* keep going harmlessly; the caller reports the failure */
        e->c &= 0x7FFFF;
        return;
    }
    if (e->bp < e->start) {
        e->bp++;
        e->buf[e->bp] = (uint8_t)(e->c >> 19);
        e->c &= 0x7FFFF;
        e->ct = 8;
    } else if (e->buf[e->bp] == 0xFF) {
        e->bp++;
        e->buf[e->bp] = (uint8_t)(e->c >> 20);
        e->c &= 0xFFFFF;
        e->ct = 7;
    } else if ((e->c & 0x8000000) == 0) {
        e->bp++;
        e->buf[e->bp] = (uint8_t)(e->c >> 19);
        e->c &= 0x7FFFF;
        e->ct = 8;
    } else {
        e->buf[e->bp]++;
        if (e->buf[e->bp] == 0xFF) {
            e->c &= 0x7FFFFFF;
            e->bp++;
            e->buf[e->bp] = (uint8_t)(e->c >> 20);
            e->c &= 0xFFFFF;
            e->ct = 7;
        } else {
            e->bp++;
            e->buf[e->bp] = (uint8_t)(e->c >> 19);
            e->c &= 0x7FFFF;
            e->ct = 8;
        }
    }
}

static inline void renorme(Enc *e) {
    do {
        e->a <<= 1;
        e->c <<= 1;
        if (--e->ct == 0) byteout(e);
    } while ((e->a & 0x8000) == 0);
}

static inline void mq_encode(Enc *e, int cx, int d) {
    const State *S = &ST[e->st[cx]];
    uint32_t qe = S->qe;
    e->a -= qe;
    if ((uint32_t)d == S->mps) {
        if ((e->a & 0x8000) == 0) {
            if (e->a < qe)
                e->a = qe;
            else
                e->c += qe;
            e->st[cx] = S->nmps;
            renorme(e);
        } else {
            e->c += qe;
        }
    } else {
        if (e->a < qe)
            e->c += qe;
        else
            e->a = qe;
        e->st[cx] = S->nlps;
        renorme(e);
    }
}

static void enc_init(Enc *e, int64_t start) {
    e->start = start;
    e->bp = start - 1;
    e->a = 0x8000;
    e->c = 0;
    e->ct = 12;
    reset_contexts(e->st);
}

/* Returns the codeword's length. */
static int64_t enc_flush(Enc *e) {
    uint32_t tempc = e->c + e->a;
    e->c |= 0xFFFF;
    if (e->c >= tempc) e->c -= 0x8000;
    e->c <<= e->ct;
    byteout(e);
    e->c <<= e->ct;
    byteout(e);
    if (e->buf[e->bp] != 0xFF) e->bp++;
    return e->bp - e->start;
}

/* -- MQ decoder ---------------------------------------------------------- */

typedef struct {
    const uint8_t *bp; /* into a copy of the codeword followed by 0xFF 0xFF */
    uint32_t a, c;
    int ct;
    uint32_t st[N_CTX]; /* state of each context: index into ST */
} Dec;

static inline void bytein(Dec *d) {
    if (d->bp[0] == 0xFF) {
        if (d->bp[1] > 0x8F) {
            d->c += 0xFF00;
            d->ct = 8;
        } else {
            d->bp++;
            d->c += (uint32_t)d->bp[0] << 9;
            d->ct = 7;
        }
    } else {
        d->bp++;
        d->c += (uint32_t)d->bp[0] << 8;
        d->ct = 8;
    }
}

static void dec_init(Dec *d, const uint8_t *data) {
    d->bp = data;
    d->c = (uint32_t)data[0] << 16;
    bytein(d);
    d->c <<= 7;
    d->ct -= 7;
    d->a = 0x8000;
    reset_contexts(d->st);
}

static inline int mq_decode(Dec *d, int cx) {
    const State *S = &ST[d->st[cx]];
    uint32_t qe = S->qe;
    int bit;
    d->a -= qe;
    if ((d->c >> 16) < qe) {
        if (d->a < qe) {
            bit = (int)S->mps;
            d->st[cx] = S->nmps;
        } else {
            bit = 1 - (int)S->mps;
            d->st[cx] = S->nlps;
        }
        d->a = qe;
    } else {
        d->c -= qe << 16;
        if ((d->a & 0x8000) != 0) return (int)S->mps;
        if (d->a < qe) {
            bit = 1 - (int)S->mps;
            d->st[cx] = S->nlps;
        } else {
            bit = (int)S->mps;
            d->st[cx] = S->nmps;
        }
    }
    do {
        if (d->ct == 0) bytein(d);
        d->a <<= 1;
        d->c <<= 1;
        d->ct--;
    } while (d->a < 0x8000);
    return bit;
}

/* -- contexts ------------------------------------------------------------ */

/* Marks the coefficient at g (in the neighbour bits array) significant for its 8 neighbours. */
static inline void spread(uint16_t *g, int64_t s) {
    g[1] |= 1;
    g[-1] |= 2;
    g[s] |= 4;
    g[-s] |= 8;
    g[s + 1] |= 16;
    g[s - 1] |= 32;
    g[-s + 1] |= 64;
    g[-s - 1] |= 128;
}

static inline int sign_of(uint16_t g) { return (g & SIG) ? ((g & NEG) ? -1 : 1) : 0; }

static inline int sc_index(const uint16_t *f, int64_t s) {
    int hc = sign_of(f[-1]) + sign_of(f[1]);
    int vc = sign_of(f[-s]) + sign_of(f[s]);
    hc = hc < -1 ? -1 : (hc > 1 ? 1 : hc);
    vc = vc < -1 ? -1 : (vc > 1 ? 1 : vc);
    return (hc + 1) * 3 + (vc + 1);
}

/* -- block encoder ------------------------------------------------------- */

typedef struct {
    /* 16 bits, not char, so that their stores do not alias the coders' registers */
    uint16_t *flags; /* (h + 2) x (w + 2), a border of never-significant coefficients */
    uint16_t *nbr;   /* the same grid: significance of the 8 neighbours, one bit each */
    uint32_t *mag;
    double *abs;
    uint16_t *plane;
    int64_t cap;
} Work;

static int work_reserve(Work *wk, int64_t n, int64_t padded) {
    if (padded <= wk->cap && n <= wk->cap) return 1;
    int64_t cap = padded > n ? padded : n;
    free(wk->flags);
    free(wk->nbr);
    free(wk->mag);
    free(wk->abs);
    free(wk->plane);
    wk->flags = (uint16_t *)malloc((size_t)cap * sizeof(uint16_t));
    wk->nbr = (uint16_t *)malloc((size_t)cap * sizeof(uint16_t));
    wk->mag = (uint32_t *)malloc((size_t)cap * sizeof(uint32_t));
    wk->abs = (double *)malloc((size_t)cap * sizeof(double));
    wk->plane = (uint16_t *)malloc((size_t)cap * sizeof(uint16_t));
    wk->cap = cap;
    if (!(wk->flags && wk->nbr && wk->mag && wk->abs && wk->plane)) {
        wk->cap = 0;
        return 0;
    }
    return 1;
}

static void work_free(Work *wk) {
    free(wk->flags);
    free(wk->nbr);
    free(wk->mag);
    free(wk->abs);
    free(wk->plane);
}

static inline double rec(uint32_t q, int p) {
    /* the middle of the interval that the bits of q down to plane p leave */
    return (double)((q >> p) << p) + HALF[p];
}

/* Encodes one block; returns 0 on a value too large or not finite, -1 on memory. */
static inline int encode_block_at(Enc *e, Work *wk, const double *src, int64_t stride, int h,
                                  int w, int orient, double weight, int32_t *nplanes_out,
                                  int32_t *rates, double *dists) {
    const int64_t s = w + 2, n = (int64_t)h * w;
    if (!work_reserve(wk, n, (int64_t)(h + 2) * s)) return -1;
    memset(wk->flags, 0, (size_t)((h + 2) * s) * sizeof(uint16_t));
    memset(wk->nbr, 0, (size_t)((h + 2) * s) * sizeof(uint16_t));
    uint32_t qmax = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = src[y * stride + x], a = fabs(v);
            if (!(a < 1073741824.0)) return 0;
            uint32_t q = (uint32_t)a;
            wk->mag[y * w + x] = q;
            wk->abs[y * w + x] = a;
            if (v < 0) wk->flags[(y + 1) * s + x + 1] = NEG;
            if (q > qmax) qmax = q;
        }
    int np = 0;
    while (qmax >> np) np++;
    *nplanes_out = np;
    enc_init(e, e->start);
    const uint8_t *zc = ZC[orient];
    double total = 0.0;
    int pass = 0;
    for (int p = np - 1; p >= 0; p--) {
        for (int kind = (p == np - 1) ? 2 : 0; kind < 3; kind++) {
            double dd = 0.0;
            for (int y0 = 0; y0 < h; y0 += 4) {
                int y1 = y0 + 4 < h ? y0 + 4 : h;
                for (int x = 0; x < w; x++) {
                    int y = y0;
                    /* one test per stripe column first: most columns have nothing to code */
                    uint16_t *fc = wk->flags + (y0 + 1) * s + x + 1;
                    const uint16_t *nc = wk->nbr + (y0 + 1) * s + x + 1;
                    if (kind == 0) {
                        uint16_t need = 0;
                        for (int k = 0; k < y1 - y0; k++)
                            need |= nc[k * s] & (uint16_t)((fc[k * s] & SIG) - 1);
                        if (!need) continue;
                    } else if (kind == 1) {
                        uint16_t any = 0;
                        for (int k = 0; k < y1 - y0; k++) any |= fc[k * s];
                        if (!(any & SIG)) continue;
                    } else {
                        uint16_t done = SIG;
                        for (int k = 0; k < y1 - y0; k++) done &= fc[k * s] | (fc[k * s] >> 2);
                        if (done) {
                            for (int k = 0; k < y1 - y0; k++) fc[k * s] &= ~VISIT;
                            continue;
                        }
                    }
                    if (kind == 2 && y1 - y0 == 4) {
                        uint16_t busy = 0;
                        for (int k = 0; k < 4; k++) busy |= (fc[k * s] & (SIG | VISIT)) | nc[k * s];
                        if (!busy) {
                            int r = -1;
                            for (int k = 0; k < 4; k++)
                                if ((wk->mag[(y0 + k) * w + x] >> p) & 1) {
                                    r = k;
                                    break;
                                }
                            mq_encode(e, CTX_RL, r >= 0);
                            if (r < 0) continue;
                            mq_encode(e, CTX_UNI, r >> 1);
                            mq_encode(e, CTX_UNI, r & 1);
                            y = y0 + r;
                            uint16_t *f = wk->flags + (y + 1) * s + x + 1;
                            int si = sc_index(f, s);
                            mq_encode(e, SC_CTX[si], ((f[0] & NEG) != 0) ^ SC_XOR[si]);
                            f[0] |= SIG;
                            spread(wk->nbr + (f - wk->flags), s);
                            double a = wk->abs[y * w + x], r1 = a - 3.0 * HALF[p];
                            dd += a * a - r1 * r1;
                            y++;
                        }
                    }
                    for (; y < y1; y++) {
                        uint16_t *f = wk->flags + (y + 1) * s + x + 1;
                        uint32_t q = wk->mag[y * w + x];
                        double a = wk->abs[y * w + x];
                        if (kind == 1) { /* magnitude refinement */
                            if ((f[0] & (SIG | VISIT)) != SIG) continue;
                            int cx = (f[0] & REFINED) ? CTX_MR + 2
                                                      : CTX_MR + (wk->nbr[f - wk->flags] != 0);
                            mq_encode(e, cx, (q >> p) & 1);
                            f[0] |= REFINED;
                            double r0 = a - rec(q, p + 1), r1 = a - rec(q, p);
                            dd += r0 * r0 - r1 * r1;
                            continue;
                        }
                        if (f[0] & (SIG | VISIT)) {
                            f[0] &= ~VISIT; /* the cleanup pass ends this plane's visits */
                            continue;
                        }
                        int zi = wk->nbr[f - wk->flags];
                        if (kind == 0) { /* significance propagation */
                            if (zi == 0) continue;
                            f[0] |= VISIT;
                        }
                        int bit = (q >> p) & 1;
                        mq_encode(e, zc[zi], bit);
                        if (bit) {
                            int si = sc_index(f, s);
                            mq_encode(e, SC_CTX[si], ((f[0] & NEG) != 0) ^ SC_XOR[si]);
                            f[0] |= SIG;
                            spread(wk->nbr + (f - wk->flags), s);
                            double r1 = a - 3.0 * HALF[p];
                            dd += a * a - r1 * r1;
                        }
                    }
                }
            }
            total += dd * weight;
            rates[pass] = (int32_t)(e->bp - e->start + 3);
            dists[pass] = total;
            pass++;
        }
    }
    if (e->failed) return -1;
    int64_t len = np ? enc_flush(e) : 0;
    if (e->failed) return -1;
    for (int k = 0; k < pass; k++) {
        int64_t r = rates[k] > len ? len : rates[k];
        if (r > 1 && e->buf[e->start + r - 1] == 0xFF) r--;
        rates[k] = (int32_t)r;
    }
    for (int k = pass - 2; k >= 0; k--)
        if (rates[k] > rates[k + 1]) rates[k] = rates[k + 1];
    e->start += len;
    return 1;
}

/* The coder's state in a local copy while a block is coded: its registers stay registers. */
static int encode_block(Enc *e, Work *wk, const double *src, int64_t stride, int h, int w,
                        int orient, double weight, int32_t *nplanes_out, int32_t *rates,
                        double *dists) {
    Enc local = *e;
    int status = encode_block_at(&local, wk, src, stride, h, w, orient, weight, nplanes_out,
                                 rates, dists);
    *e = local;
    return status;
}

/* -- block decoder ------------------------------------------------------- */

/* Returns 1, or -1 without memory. */
static int decode_block(Work *wk, const uint8_t *data, int32_t *dst, int64_t stride, int h, int w,
                        int orient, int np, int npasses, int reversible) {
    const int64_t s = w + 2, n = (int64_t)h * w;
    if (!work_reserve(wk, n, (int64_t)(h + 2) * s)) return -1;
    memset(wk->flags, 0, (size_t)((h + 2) * s) * sizeof(uint16_t));
    memset(wk->nbr, 0, (size_t)((h + 2) * s) * sizeof(uint16_t));
    memset(wk->mag, 0, (size_t)n * sizeof(uint32_t));
    memset(wk->plane, 0, (size_t)n * sizeof(uint16_t));
    Dec dec;
    dec_init(&dec, data);
    Dec *d = &dec;
    const uint8_t *zc = ZC[orient];
    int pass = 0;
    for (int p = np - 1; p >= 0 && pass < npasses; p--) {
        for (int kind = (p == np - 1) ? 2 : 0; kind < 3 && pass < npasses; kind++, pass++) {
            for (int y0 = 0; y0 < h; y0 += 4) {
                int y1 = y0 + 4 < h ? y0 + 4 : h;
                for (int x = 0; x < w; x++) {
                    int y = y0;
                    /* one test per stripe column first: most columns have nothing to code */
                    uint16_t *fc = wk->flags + (y0 + 1) * s + x + 1;
                    const uint16_t *nc = wk->nbr + (y0 + 1) * s + x + 1;
                    if (kind == 0) {
                        uint16_t need = 0;
                        for (int k = 0; k < y1 - y0; k++)
                            need |= nc[k * s] & (uint16_t)((fc[k * s] & SIG) - 1);
                        if (!need) continue;
                    } else if (kind == 1) {
                        uint16_t any = 0;
                        for (int k = 0; k < y1 - y0; k++) any |= fc[k * s];
                        if (!(any & SIG)) continue;
                    } else {
                        uint16_t done = SIG;
                        for (int k = 0; k < y1 - y0; k++) done &= fc[k * s] | (fc[k * s] >> 2);
                        if (done) {
                            for (int k = 0; k < y1 - y0; k++) fc[k * s] &= ~VISIT;
                            continue;
                        }
                    }
                    if (kind == 2 && y1 - y0 == 4) {
                        uint16_t busy = 0;
                        for (int k = 0; k < 4; k++) busy |= (fc[k * s] & (SIG | VISIT)) | nc[k * s];
                        if (!busy) {
                            if (!mq_decode(d, CTX_RL)) continue;
                            int r = mq_decode(d, CTX_UNI) << 1;
                            r |= mq_decode(d, CTX_UNI);
                            y = y0 + r;
                            uint16_t *f = wk->flags + (y + 1) * s + x + 1;
                            int si = sc_index(f, s);
                            if (mq_decode(d, SC_CTX[si]) ^ SC_XOR[si]) f[0] |= NEG;
                            f[0] |= SIG;
                            spread(wk->nbr + (f - wk->flags), s);
                            wk->mag[y * w + x] = 1u << p;
                            wk->plane[y * w + x] = (uint16_t)p;
                            y++;
                        }
                    }
                    for (; y < y1; y++) {
                        uint16_t *f = wk->flags + (y + 1) * s + x + 1;
                        if (kind == 1) {
                            if ((f[0] & (SIG | VISIT)) != SIG) continue;
                            int cx = (f[0] & REFINED) ? CTX_MR + 2
                                                      : CTX_MR + (wk->nbr[f - wk->flags] != 0);
                            if (mq_decode(d, cx)) wk->mag[y * w + x] |= 1u << p;
                            wk->plane[y * w + x] = (uint16_t)p;
                            f[0] |= REFINED;
                            continue;
                        }
                        if (f[0] & (SIG | VISIT)) {
                            f[0] &= ~VISIT; /* the cleanup pass ends this plane's visits */
                            continue;
                        }
                        int zi = wk->nbr[f - wk->flags];
                        if (kind == 0) {
                            if (zi == 0) continue;
                            f[0] |= VISIT;
                        }
                        if (mq_decode(d, zc[zi])) {
                            int si = sc_index(f, s);
                            if (mq_decode(d, SC_CTX[si]) ^ SC_XOR[si]) f[0] |= NEG;
                            f[0] |= SIG;
                            spread(wk->nbr + (f - wk->flags), s);
                            wk->mag[y * w + x] = 1u << p;
                            wk->plane[y * w + x] = (uint16_t)p;
                        }
                    }
                }
            }
        }
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint16_t f = wk->flags[(y + 1) * s + x + 1];
            int32_t v = 0;
            if (f & SIG) {
                uint32_t m = wk->mag[y * w + x];
                v = reversible ? (int32_t)m : (int32_t)(2 * m + (1u << wk->plane[y * w + x]));
                if (f & NEG) v = -v;
            }
            dst[y * stride + x] = v;
        }
    return 1;
}

/* -- Python interface ---------------------------------------------------- */

static int check_buffer(Py_buffer *b, Py_ssize_t items, Py_ssize_t itemsize, const char *what) {
    if (b->len != items * itemsize) {
        PyErr_Format(PyExc_ValueError, "ebcot: %s has %zd bytes, expected %zd", what, b->len,
                     items * itemsize);
        return 0;
    }
    return 1;
}

/* Checks every block lies inside its plane; returns 0 with an exception set otherwise. */
static int check_blocks(const int32_t *blocks, Py_ssize_t nb, Py_ssize_t P, Py_ssize_t H,
                        Py_ssize_t W) {
    for (Py_ssize_t b = 0; b < nb; b++) {
        const int32_t *g = blocks + 6 * b;
        if (g[0] < 0 || g[0] >= P || g[1] < 0 || g[2] < 0 || g[3] < 1 || g[4] < 1 ||
            g[3] > 4096 || g[4] > 4096 || (Py_ssize_t)g[1] + g[3] > H ||
            (Py_ssize_t)g[2] + g[4] > W || g[5] < 0 || g[5] > 3) {
            PyErr_Format(PyExc_ValueError, "ebcot: block %zd lies outside its plane", b);
            return 0;
        }
    }
    return 1;
}

static PyObject *py_encode(PyObject *self, PyObject *args) {
    Py_buffer vals, blocks, weights, nplanes, rates, dists, offsets;
    Py_ssize_t P, H, W;
    if (!PyArg_ParseTuple(args, "y*nnny*y*w*w*w*w*", &vals, &P, &H, &W, &blocks, &weights,
                          &nplanes, &rates, &dists, &offsets))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t nb = blocks.len / (6 * (Py_ssize_t)sizeof(int32_t));
    Enc e = {0};
    Work wk = {0};
    int status = 1;
    if (P < 0 || H < 0 || W < 0 || (H && W && P > PY_SSIZE_T_MAX / H / W / 8)) {
        PyErr_SetString(PyExc_ValueError, "ebcot: bad plane shape");
        goto done;
    }
    if (!check_buffer(&vals, P * H * W, 8, "values") ||
        !check_buffer(&blocks, nb * 6, 4, "blocks") ||
        !check_buffer(&weights, nb, 8, "weights") ||
        !check_buffer(&nplanes, nb, 4, "nplanes") ||
        !check_buffer(&rates, nb * MAX_PASSES, 4, "rates") ||
        !check_buffer(&dists, nb * MAX_PASSES, 8, "dists") ||
        !check_buffer(&offsets, nb + 1, 8, "offsets") ||
        !check_blocks((const int32_t *)blocks.buf, nb, P, H, W))
        goto done;
    Py_BEGIN_ALLOW_THREADS;
    const int32_t *g = (const int32_t *)blocks.buf;
    const double *v = (const double *)vals.buf;
    int64_t *off = (int64_t *)offsets.buf;
    e.cap = 1 << 16;
    e.buf = (uint8_t *)malloc((size_t)e.cap);
    if (!e.buf) status = -1;
    off[0] = 0;
    for (Py_ssize_t b = 0; b < nb && status == 1; b++, g += 6) {
        const double *src = v + ((int64_t)g[0] * H + g[1]) * W + g[2];
        status = encode_block(&e, &wk, src, W, g[3], g[4], g[5], ((double *)weights.buf)[b],
                              (int32_t *)nplanes.buf + b, (int32_t *)rates.buf + b * MAX_PASSES,
                              (double *)dists.buf + b * MAX_PASSES);
        off[b + 1] = e.start;
    }
    Py_END_ALLOW_THREADS;
    if (status == 0)
        PyErr_SetString(PyExc_ValueError,
                        "ebcot: a coefficient is not finite or reaches 2**30 quantization steps");
    else if (status < 0)
        PyErr_NoMemory();
    else
        result = PyBytes_FromStringAndSize((const char *)e.buf, (Py_ssize_t)e.start);
done:
    free(e.buf);
    work_free(&wk);
    PyBuffer_Release(&vals);
    PyBuffer_Release(&blocks);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&nplanes);
    PyBuffer_Release(&rates);
    PyBuffer_Release(&dists);
    PyBuffer_Release(&offsets);
    return result;
}

static PyObject *py_decode(PyObject *self, PyObject *args) {
    Py_buffer data, blocks, nplanes, npasses, offsets, out;
    Py_ssize_t P, H, W;
    int reversible;
    if (!PyArg_ParseTuple(args, "y*nnny*y*y*y*w*i", &data, &P, &H, &W, &blocks, &nplanes,
                          &npasses, &offsets, &out, &reversible))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t nb = blocks.len / (6 * (Py_ssize_t)sizeof(int32_t));
    Work wk = {0};
    uint8_t *seg = NULL;
    int status = 1;
    if (P < 0 || H < 0 || W < 0 || (H && W && P > PY_SSIZE_T_MAX / H / W / 8)) {
        PyErr_SetString(PyExc_ValueError, "ebcot: bad plane shape");
        goto done;
    }
    if (!check_buffer(&blocks, nb * 6, 4, "blocks") ||
        !check_buffer(&nplanes, nb, 4, "nplanes") ||
        !check_buffer(&npasses, nb, 4, "npasses") ||
        !check_buffer(&offsets, nb + 1, 8, "offsets") ||
        !check_buffer(&out, P * H * W, 4, "out") ||
        !check_blocks((const int32_t *)blocks.buf, nb, P, H, W))
        goto done;
    const int64_t *off = (const int64_t *)offsets.buf;
    const int32_t *npl = (const int32_t *)nplanes.buf, *nps = (const int32_t *)npasses.buf;
    int64_t longest = 0;
    for (Py_ssize_t b = 0; b < nb; b++) {
        if (off[b] < 0 || off[b + 1] < off[b] || off[b + 1] > data.len || npl[b] < 0 ||
            npl[b] > MAX_PLANES || nps[b] < 0 || nps[b] > (npl[b] ? 3 * npl[b] - 2 : 0)) {
            PyErr_Format(PyExc_ValueError,
                         "ebcot: block %zd declares %d planes, %d passes and bytes %lld..%lld "
                         "of %zd",
                         b, (int)npl[b], (int)nps[b], (long long)off[b], (long long)off[b + 1],
                         data.len);
            goto done;
        }
        if (off[b + 1] - off[b] > longest) longest = off[b + 1] - off[b];
    }
    seg = (uint8_t *)malloc((size_t)longest + 2);
    if (!seg) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    const int32_t *g = (const int32_t *)blocks.buf;
    int32_t *o = (int32_t *)out.buf;
    for (Py_ssize_t b = 0; b < nb && status == 1; b++, g += 6) {
        int64_t len = off[b + 1] - off[b];
        memcpy(seg, (const uint8_t *)data.buf + off[b], (size_t)len);
        seg[len] = seg[len + 1] = 0xFF;
        int32_t *dst = o + ((int64_t)g[0] * H + g[1]) * W + g[2];
        status = decode_block(&wk, seg, dst, W, g[3], g[4], g[5], npl[b], nps[b], reversible);
    }
    Py_END_ALLOW_THREADS;
    if (status < 0)
        PyErr_NoMemory();
    else {
        Py_INCREF(Py_None);
        result = Py_None;
    }
done:
    free(seg);
    work_free(&wk);
    PyBuffer_Release(&data);
    PyBuffer_Release(&blocks);
    PyBuffer_Release(&nplanes);
    PyBuffer_Release(&npasses);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&out);
    return result;
}


/* -- the wavelet transform (Annex F) ------------------------------------------------- */

static const double ALPHA = -1.586134342059924, BETA = -0.052980118572961;
static const double GAMMA = 0.882911075530934, DELTA = 0.443506852043971;
static const double KAPPA = 1.230174104914001;

/* One lifting step over `count` vectors of `len` values: y[i] += c * (x[i - 1 or i] + x[i
 * or i + 1]) with whole-sample symmetric mirroring; `left`: x[i - 1] and x[i], else x[i] and
 * x[i + 1]. Vectors of `vec` contiguous values (a row of columns), each index i a row. */
#define LIFT_STEP(T, y, ny, x, nx, vec, left, EXPR)                                         \
    for (int64_t i = 0; i < (ny); i++) {                                                    \
        const T *a = (x) + (vec) * ((left) ? (i > 0 ? i - 1 : 0) : i);                     \
        const T *b = (x) + (vec) * ((left) ? (i < (nx) ? i : (nx) - 1)                      \
                                           : (i + 1 < (nx) ? i + 1 : (nx) - 1));           \
        T *t = (y) + (vec) * i;                                                             \
        for (int64_t j = 0; j < (vec); j++) t[j] EXPR;                                      \
    }

/* Analysis (inverse = 0) or synthesis of n >= 2 vectors of `vec` values, the vector i at
 * data + i * stride, in place; tmp holds n * vec values. Low band first. */
static void lift_f(double *data, int64_t stride, int64_t n, int64_t vec, double *tmp, int inverse) {
    int64_t m = (n + 1) / 2, k = n / 2;
    double *e = tmp, *o = tmp + m * vec;
    if (!inverse) {
        for (int64_t i = 0; i < n; i++)
            memcpy((i & 1 ? o + (i / 2) * vec : e + (i / 2) * vec), data + i * stride,
                   (size_t)vec * sizeof(double));
        LIFT_STEP(double, o, k, e, m, vec, 0, += ALPHA * (a[j] + b[j]))
        LIFT_STEP(double, e, m, o, k, vec, 1, += BETA * (a[j] + b[j]))
        LIFT_STEP(double, o, k, e, m, vec, 0, += GAMMA * (a[j] + b[j]))
        LIFT_STEP(double, e, m, o, k, vec, 1, += DELTA * (a[j] + b[j]))
        for (int64_t i = 0; i < m * vec; i++) e[i] = e[i] / KAPPA;
        for (int64_t i = 0; i < k * vec; i++) o[i] = o[i] * KAPPA;
        for (int64_t i = 0; i < n; i++)
            memcpy(data + i * stride, tmp + i * vec, (size_t)vec * sizeof(double));
    } else {
        for (int64_t i = 0; i < n; i++)
            memcpy(tmp + i * vec, data + i * stride, (size_t)vec * sizeof(double));
        for (int64_t i = 0; i < m * vec; i++) e[i] = e[i] * KAPPA;
        for (int64_t i = 0; i < k * vec; i++) o[i] = o[i] / KAPPA;
        LIFT_STEP(double, e, m, o, k, vec, 1, -= DELTA * (a[j] + b[j]))
        LIFT_STEP(double, o, k, e, m, vec, 0, -= GAMMA * (a[j] + b[j]))
        LIFT_STEP(double, e, m, o, k, vec, 1, -= BETA * (a[j] + b[j]))
        LIFT_STEP(double, o, k, e, m, vec, 0, -= ALPHA * (a[j] + b[j]))
        for (int64_t i = 0; i < n; i++)
            memcpy(data + i * stride, (i & 1 ? o + (i / 2) * vec : e + (i / 2) * vec),
                   (size_t)vec * sizeof(double));
    }
}

/* The reversible 5/3 (integers; >> is the floor of a division by a power of two). */
static void lift_i(int32_t *data, int64_t stride, int64_t n, int64_t vec, int32_t *tmp,
                   int inverse) {
    int64_t m = (n + 1) / 2, k = n / 2;
    int32_t *e = tmp, *o = tmp + m * vec;
    if (!inverse) {
        for (int64_t i = 0; i < n; i++)
            memcpy((i & 1 ? o + (i / 2) * vec : e + (i / 2) * vec), data + i * stride,
                   (size_t)vec * sizeof(int32_t));
        LIFT_STEP(int32_t, o, k, e, m, vec, 0, -= (a[j] + b[j]) >> 1)
        LIFT_STEP(int32_t, e, m, o, k, vec, 1, += (a[j] + b[j] + 2) >> 2)
        for (int64_t i = 0; i < n; i++)
            memcpy(data + i * stride, tmp + i * vec, (size_t)vec * sizeof(int32_t));
    } else {
        for (int64_t i = 0; i < n; i++)
            memcpy(tmp + i * vec, data + i * stride, (size_t)vec * sizeof(int32_t));
        LIFT_STEP(int32_t, e, m, o, k, vec, 1, -= (a[j] + b[j] + 2) >> 2)
        LIFT_STEP(int32_t, o, k, e, m, vec, 0, += (a[j] + b[j]) >> 1)
        for (int64_t i = 0; i < n; i++)
            memcpy(data + i * stride, (i & 1 ? o + (i / 2) * vec : e + (i / 2) * vec),
                   (size_t)vec * sizeof(int32_t));
    }
}

/* The 2-D transform of one plane region h x w (row stride W): columns then rows forward,
 * rows then columns inverse. A row is lifted as w vectors of one value. */
static void dwt_region(void *plane, int reversible, int64_t W, int64_t h, int64_t w, void *tmp,
                       void *row, int inverse) {
    for (int pass = 0; pass < 2; pass++) {
        int vertical = (pass == 0) != (inverse != 0);
        if (vertical) {
            if (h < 2) continue;
            if (reversible)
                lift_i((int32_t *)plane, W, h, w, (int32_t *)tmp, inverse);
            else
                lift_f((double *)plane, W, h, w, (double *)tmp, inverse);
        } else {
            if (w < 2) continue;
            for (int64_t y = 0; y < h; y++) {
                if (reversible)
                    lift_i((int32_t *)plane + y * W, 1, w, 1, (int32_t *)row, inverse);
                else
                    lift_f((double *)plane + y * W, 1, w, 1, (double *)row, inverse);
            }
        }
    }
}

static PyObject *py_dwt(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t P, H, W;
    int levels, reversible, inverse;
    if (!PyArg_ParseTuple(args, "w*nnniii", &buf, &P, &H, &W, &levels, &reversible, &inverse))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t item = reversible ? 4 : 8;
    if (P < 0 || H < 1 || W < 1 || levels < 0 || levels > 40 || P > PY_SSIZE_T_MAX / H / W / 8) {
        PyErr_SetString(PyExc_ValueError, "dwt: bad shape or levels");
        goto done;
    }
    if (!check_buffer(&buf, P * H * W, item, "planes")) goto done;
    void *tmp = malloc((size_t)(H * W * item)), *row = malloc((size_t)(W * item));
    if (!tmp || !row) {
        free(tmp);
        free(row);
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    int64_t hs[41], ws[41];
    hs[0] = H;
    ws[0] = W;
    for (int l = 1; l <= levels; l++) {
        hs[l] = (hs[l - 1] + 1) / 2;
        ws[l] = (ws[l - 1] + 1) / 2;
    }
    for (Py_ssize_t p = 0; p < P; p++) {
        char *plane = (char *)buf.buf + p * H * W * item;
        for (int l = 0; l < levels; l++) {
            int at = inverse ? levels - 1 - l : l;
            dwt_region(plane, reversible, W, hs[at], ws[at], tmp, row, inverse);
        }
    }
    Py_END_ALLOW_THREADS;
    free(tmp);
    free(row);
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&buf);
    return result;
}

/* -- pixels out ---------------------------------------------------------------------- */

static inline double to_sample(double v) {
    v = nearbyint(v + 128.0);
    return v < 0.0 ? 0.0 : (v > 255.0 ? 255.0 : v);
}

static PyObject *py_pixels(PyObject *self, PyObject *args) {
    Py_buffer in, out, matrix;
    Py_ssize_t n, C, H, W;
    int reversible;
    if (!PyArg_ParseTuple(args, "y*nnnny*w*i", &in, &n, &C, &H, &W, &matrix, &out, &reversible))
        return NULL;
    PyObject *result = NULL;
    if (n < 0 || H < 0 || W < 0 || (C != 1 && C != 3) ||
        (H && W && n > PY_SSIZE_T_MAX / H / W / 32)) {
        PyErr_SetString(PyExc_ValueError, "pixels: bad shape");
        goto done;
    }
    if (!check_buffer(&in, n * C * H * W, reversible ? 4 : 8, "planes") ||
        !check_buffer(&out, n * C * H * W, 8, "images") || !check_buffer(&matrix, 9, 8, "matrix"))
        goto done;
    Py_BEGIN_ALLOW_THREADS;
    const double *x = (const double *)in.buf, *M = (const double *)matrix.buf;
    const int32_t *xi = (const int32_t *)in.buf;
    double *o = (double *)out.buf;
    int64_t area = (int64_t)H * W;
    for (Py_ssize_t i = 0; i < n; i++) {
        double *q = o + i * C * area;
        if (reversible) {
            const int32_t *p = xi + i * C * area;
            if (C == 1) {
                for (int64_t j = 0; j < area; j++) q[j] = to_sample((double)p[j]);
            } else {
                for (int64_t j = 0; j < area; j++) { /* the inverse RCT */
                    int64_t Y = p[j], U = p[area + j], V = p[2 * area + j];
                    int64_t G = Y - ((U + V) >> 2);
                    q[3 * j] = to_sample((double)(V + G));
                    q[3 * j + 1] = to_sample((double)G);
                    q[3 * j + 2] = to_sample((double)(U + G));
                }
            }
            continue;
        }
        const double *p = x + i * C * area;
        if (C == 1) {
            for (int64_t j = 0; j < area; j++) q[j] = to_sample(p[j]);
        } else {
            for (int64_t j = 0; j < area; j++) {
                double a = p[j], b = p[area + j], c = p[2 * area + j];
                q[3 * j] = to_sample(M[0] * a + M[1] * b + M[2] * c);
                q[3 * j + 1] = to_sample(M[3] * a + M[4] * b + M[5] * c);
                q[3 * j + 2] = to_sample(M[6] * a + M[7] * b + M[8] * c);
            }
        }
    }
    Py_END_ALLOW_THREADS;
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    PyBuffer_Release(&matrix);
    return result;
}

static PyMethodDef methods[] = {
    {"encode", py_encode, METH_VARARGS,
     "encode(values, P, H, W, blocks, weights, nplanes, rates, dists, offsets) -> bytes"},
    {"dwt", py_dwt, METH_VARARGS,
     "dwt(planes, P, H, W, levels, reversible, inverse): the 2-D transform in place, "
     "float64 (9/7) or int32 (5/3) planes in the Mallat layout"},
    {"pixels", py_pixels, METH_VARARGS,
     "pixels(planes, n, C, H, W, matrix, out, reversible): 8-bit samples (as float64, "
     "channels last) of planes (n, C, H, W) through the inverse colour transform"},
    {"decode", py_decode, METH_VARARGS,
     "decode(data, P, H, W, blocks, nplanes, npasses, offsets, out, reversible)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ebcot_kernel",
                                    "JPEG 2000's EBCOT block coder with the MQ coder.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__ebcot_kernel(void) {
    init_tables();
    PyObject *m = PyModule_Create(&module);
    if (m) {
        PyModule_AddIntConstant(m, "MAX_PLANES", MAX_PLANES);
        PyModule_AddIntConstant(m, "MAX_PASSES", MAX_PASSES);
    }
    return m;
}
