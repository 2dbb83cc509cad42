/*
 * The softmax backward pass with the numerics of the `reference` backend (docs/numerics.md), in C,
 * as the yardstick of issue 9: the same canonical order (segments of 4096, 32 lanes in index order,
 * the fixed lane tree, the pairwise segment tree), exact products, float64 sums (double-double pairs
 * for float64 inputs), the same d, the constant-row rule, and one rounding of each output.
 * BenchMain checks on every run that this program returns the reference's bits (mode `check`).
 *
 * Build (bench/src/main/c/build.sh does it):
 *   gcc -O3 -march=native -ffp-contract=off -fopenmp -o softmax_backward_ref softmax_backward_ref.c -lm
 * -ffp-contract=off: no fused multiply-add where the numerics prescribe two roundings; the two
 * fma() calls below are TwoProd and the Newton remainder, which the numerics prescribe.
 *
 * Usage:
 *   check f32|f64 ROWS COLS THREADS G_FILE Y_FILE OUT_FILE    raw little-endian arrays, row-major
 *   bench f32|f64 ROWS COLS THREADS kernel|memcpy WARMUPS ITERATIONS WARMUP_SECONDS SECONDS
 * `bench` prints one line "ns/op N" per measured iteration: each iteration calls the operation
 * back to back for at least SECONDS and divides the elapsed time by the calls (JMH's AverageTime).
 * `memcpy` copies as many bytes as the kernel reads and writes (1.5 entries per entry, from one
 * buffer to another), split over THREADS like the kernel's rows.
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEGMENT 4096
#define LANES 32

/* ---- float32 inputs: float64 accumulators ---------------------------------------------------- */

static double reduce_lanes(double *v) {
    for (int off = LANES / 2; off > 0; off >>= 1) {
        for (int l = 0; l < off; l++) {
            v[l] = v[l] + v[l + off];
        }
    }
    return v[0];
}

static double reduce_segments(double *v, int n) {
    while (n > 1) {
        int half = n / 2;
        for (int i = 0; i < half; i++) {
            v[i] = v[2 * i] + v[2 * i + 1];
        }
        if (n & 1) {
            v[half] = v[n - 1];
        }
        n = half + (n & 1);
    }
    return v[0];
}

/* The constant-row rule's test (RowNumerics.constantRowMean), written once for both dtypes: whether
 * every g[i] == g[0] (IEEE equality: +0 == -0, NaN equals nothing) and g[0] is not NaN; cols >= 1. */
#define DEFINE_CONSTANT(NAME, T)                                                \
    static int NAME(const T *g, int cols) {                                     \
        int i = 1;                                                              \
        while (i < cols && g[i] == g[0]) {                                      \
            i++;                                                                \
        }                                                                       \
        return i == cols && g[0] == g[0];                                       \
    }
DEFINE_CONSTANT(constant_f32, float)
DEFINE_CONSTANT(constant_f64, double)

static void row_f32(const float *restrict g, const float *restrict y, float *out, int cols,
                    double *segY, double *segYG) {
    int segments = (cols + SEGMENT - 1) / SEGMENT;
    for (int seg = 0; seg < segments; seg++) {
        int start = seg * SEGMENT;
        int length = cols - start < SEGMENT ? cols - start : SEGMENT;
        double sy[LANES] = {0}, syg[LANES] = {0};
        const float *ys = y + start, *gs = g + start;
        int k = 0;
        for (; k + LANES <= length; k += LANES) {
            for (int l = 0; l < LANES; l++) {
                double yv = (double) ys[k + l];
                sy[l] = sy[l] + yv;
                syg[l] = syg[l] + yv * (double) gs[k + l];
            }
        }
        for (int l = 0; k + l < length; l++) {
            double yv = (double) ys[k + l];
            sy[l] = sy[l] + yv;
            syg[l] = syg[l] + yv * (double) gs[k + l];
        }
        segY[seg] = reduce_lanes(sy);
        segYG[seg] = reduce_lanes(syg);
    }
    double sumY = reduce_segments(segY, segments);
    double sumYG = reduce_segments(segYG, segments);
    float d = sumY == 0.0 ? 0.0f : (float) (sumYG / sumY);
    if (cols > 0 && d != g[0] && constant_f32(g, cols)) { /* the constant-row rule */
        d = g[0];
    }
    double dd = (double) d;
    for (int i = 0; i < cols; i++) {
        out[i] = (float) ((double) y[i] * ((double) g[i] - dd));
    }
}

/* ---- float64 inputs: double-double pairs ------------------------------------------------------ */

/* Knuth's TwoSum: a + b = sum + *err exactly (any order of magnitudes). */
static inline double two_sum(double a, double b, double *err) {
    double sum = a + b;
    double bv = sum - a;
    *err = (a - (sum - bv)) + (b - bv);
    return sum;
}

static void combine(double *s, double *c, int into, int from) {
    double e;
    s[into] = two_sum(s[into], s[from], &e);
    c[into] = (c[into] + c[from]) + e;
}

static void reduce_lanes2(double *s, double *c) {
    for (int off = LANES / 2; off > 0; off >>= 1) {
        for (int l = 0; l < off; l++) {
            combine(s, c, l, l + off);
        }
    }
}

static void reduce_segments2(double *s, double *c, int n) {
    while (n > 1) {
        int half = n / 2;
        for (int i = 0; i < half; i++) {
            s[i] = s[2 * i];
            c[i] = c[2 * i];
            combine(s, c, i, 2 * i + 1);
        }
        if (n & 1) {
            s[half] = s[n - 1];
            c[half] = c[n - 1];
        }
        n = half + (n & 1);
    }
}

static double weighted_mean(double sN, double cN, double sD, double cD) {
    if (!(isfinite(sN) && isfinite(sD))) {
        return sD == 0.0 ? 0.0 : sN / sD;
    }
    /* both pairs normalised by TwoSum: hi the pair rounded to float64, lo what is left */
    double dl, nl;
    double dh = two_sum(sD, cD, &dl);
    if (dh == 0.0) {
        return 0.0;
    }
    double nh = two_sum(sN, cN, &nl);
    double q = nh / dh;
    if (!isfinite(q)) {
        return q;
    }
    double r = fma(-q, dh, nh);
    r = r + nl;
    r = fma(-q, dl, r);
    return q + r / dh;
}

/* One term of each sum for lane l: TwoSum for y, TwoProd then TwoSum for y*g. */
#define TERM64(l, yv, gv)                                                       \
    do {                                                                        \
        double x_ = (yv);                                                       \
        double s_ = ys_[l], t_ = s_ + x_, v_ = t_ - s_;                         \
        yc_[l] = yc_[l] + ((s_ - (t_ - v_)) + (x_ - v_));                       \
        ys_[l] = t_;                                                            \
        double p_ = x_ * (gv), q_ = fma(x_, (gv), -p_);                         \
        double u_ = gs_[l], w_ = u_ + p_, z_ = w_ - u_;                         \
        gc_[l] = gc_[l] + (q_ + ((u_ - (w_ - z_)) + (p_ - z_)));                \
        gs_[l] = w_;                                                            \
    } while (0)

static void row_f64(const double *restrict g, const double *restrict y, double *out, int cols,
                    double *segYS, double *segYC, double *segGS, double *segGC) {
    int segments = (cols + SEGMENT - 1) / SEGMENT;
    for (int seg = 0; seg < segments; seg++) {
        int start = seg * SEGMENT;
        int length = cols - start < SEGMENT ? cols - start : SEGMENT;
        double ys_[LANES] = {0}, yc_[LANES] = {0}, gs_[LANES] = {0}, gc_[LANES] = {0};
        const double *yp = y + start, *gp = g + start;
        int k = 0;
        for (; k + LANES <= length; k += LANES) {
            for (int l = 0; l < LANES; l++) {
                TERM64(l, yp[k + l], gp[k + l]);
            }
        }
        for (int l = 0; k + l < length; l++) {
            TERM64(l, yp[k + l], gp[k + l]);
        }
        reduce_lanes2(ys_, yc_);
        reduce_lanes2(gs_, gc_);
        segYS[seg] = ys_[0];
        segYC[seg] = yc_[0];
        segGS[seg] = gs_[0];
        segGC[seg] = gc_[0];
    }
    reduce_segments2(segYS, segYC, segments);
    reduce_segments2(segGS, segGC, segments);
    double d = weighted_mean(segGS[0], segGC[0], segYS[0], segYC[0]);
    if (cols > 0 && d != g[0] && constant_f64(g, cols)) { /* the constant-row rule */
        d = g[0];
    }
    for (int i = 0; i < cols; i++) {
        out[i] = y[i] * (g[i] - d);
    }
}

/* ---- batches ----------------------------------------------------------------------------------- */

/* A batch: rows split statically over the threads, each thread with its own segment scratch (the
 * float32 path's two sums, or the float64 path's two pairs, per segment). */
static void backward(int f32, const void *g, const void *y, void *out, int rows, int cols, int threads) {
    int segments = cols == 0 ? 1 : (cols + SEGMENT - 1) / SEGMENT;
#pragma omp parallel num_threads(threads)
    {
        double *seg = malloc(sizeof(double) * (f32 ? 2 : 4) * segments);
#pragma omp for schedule(static)
        for (int r = 0; r < rows; r++) {
            size_t base = (size_t) r * cols;
            if (f32) {
                row_f32((const float *) g + base, (const float *) y + base, (float *) out + base, cols, seg,
                        seg + segments);
            } else {
                row_f64((const double *) g + base, (const double *) y + base, (double *) out + base, cols, seg,
                        seg + segments, seg + 2 * segments, seg + 3 * segments);
            }
        }
        free(seg);
    }
}

/* A copy with ordinary stores, which read each destination line for ownership before writing it, as
 * the kernel's stores (C's and Java's) do; glibc's memcpy streams a large copy past the cache with
 * non-temporal stores, which skip that read. The attribute keeps gcc from turning the loop into memcpy. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void store_copy(char *restrict dst, const char *restrict src, size_t bytes) {
    size_t words = bytes / sizeof(double);
    for (size_t i = 0; i < words; i++) {
        ((double *) dst)[i] = ((const double *) src)[i];
    }
    for (size_t i = words * sizeof(double); i < bytes; i++) {
        dst[i] = src[i];
    }
}

/* `bytes` copied on `threads` threads, one 64-byte-aligned range each: by memcpy, or by store_copy. */
static void copy_parallel(char *dst, const char *src, size_t bytes, int threads, int ordinaryStores) {
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        size_t from = bytes * t / n / 64 * 64, to = t + 1 == n ? bytes : bytes * (t + 1) / n / 64 * 64;
        if (ordinaryStores) {
            store_copy(dst + from, src + from, to - from);
        } else {
            memcpy(dst + from, src + from, to - from);
        }
    }
}

/* ---- the driver -------------------------------------------------------------------------------- */

/* bytes at `past` bytes after a 64-byte line (0: on a line) */
static void *xalloc_past(size_t bytes, size_t past) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (bytes == 0 ? 64 : bytes) + past) != 0) {
        fprintf(stderr, "cannot allocate %zu bytes\n", bytes);
        exit(2);
    }
    return (char *) p + past;
}

static void *xalloc(size_t bytes) {
    return xalloc_past(bytes, 0);
}

static void read_file(const char *path, void *into, size_t bytes) {
    FILE *f = fopen(path, "rb");
    if (f == NULL || fread(into, 1, bytes, f) != bytes) {
        fprintf(stderr, "cannot read %zu bytes from %s\n", bytes, path);
        exit(2);
    }
    fclose(f);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile double sink;

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: check f32|f64 ROWS COLS THREADS G Y OUT | "
                        "bench f32|f64 ROWS COLS THREADS kernel|kernel16|memcpy|storecopy WARMUPS ITERATIONS WARMUP_S S\n"
                        "(kernel16: the arrays 16 bytes past a 64-byte line, where a JVM puts a large array's elements)\n");
        return 2;
    }
    int f32 = strcmp(argv[2], "f32") == 0;
    int rows = atoi(argv[3]), cols = atoi(argv[4]), threads = atoi(argv[5]);
    size_t n = (size_t) rows * cols, width = f32 ? 4 : 8;
    if (strcmp(argv[1], "check") == 0 && argc == 9) {
        void *g = xalloc(n * width), *y = xalloc(n * width), *out = xalloc(n * width);
        read_file(argv[6], g, n * width);
        read_file(argv[7], y, n * width);
        backward(f32, g, y, out, rows, cols, threads);
        FILE *f = fopen(argv[8], "wb");
        if (f == NULL || fwrite(out, 1, n * width, f) != n * width || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[8]);
            return 2;
        }
        return 0;
    }
    if (strcmp(argv[1], "bench") != 0 || argc != 11) {
        fprintf(stderr, "unknown mode or argument count\n");
        return 2;
    }
    int storeMode = strcmp(argv[6], "storecopy") == 0;
    int memcpyMode = storeMode || strcmp(argv[6], "memcpy") == 0;
    size_t past = strcmp(argv[6], "kernel16") == 0 ? 16 : 0;
    int warmups = atoi(argv[7]), iterations = atoi(argv[8]);
    double warmupSeconds = atof(argv[9]), seconds = atof(argv[10]);
    void *g = NULL, *y = NULL, *out = NULL, *src = NULL, *dst = NULL;
    size_t copyBytes = (n + n / 2) * width;
    if (memcpyMode) {
        src = xalloc(copyBytes);
        dst = xalloc(copyBytes);
        memset(src, 1, copyBytes);
        memset(dst, 0, copyBytes);
    } else {
        /* y: a softmax-like row (positive, summing to about 1), g: values in [-1, 1) */
        g = xalloc_past(n * width, past);
        y = xalloc_past(n * width, past);
        out = xalloc_past(n * width, past);
        uint64_t state = 1;
        for (size_t i = 0; i < n; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double) (state >> 11) * 0x1.0p-53;
            double gv = 2 * u - 1, yv = (0.5 + u) * 2.0 / (cols == 0 ? 1 : cols) * 0.5;
            if (f32) {
                ((float *) g)[i] = (float) gv;
                ((float *) y)[i] = (float) yv;
            } else {
                ((double *) g)[i] = gv;
                ((double *) y)[i] = yv;
            }
        }
        memset(out, 0, n * width);
    }
    for (int it = -warmups; it < iterations; it++) {
        double limit = it < 0 ? warmupSeconds : seconds;
        long calls = 0;
        double start = now(), elapsed;
        do {
            if (memcpyMode) {
                copy_parallel(dst, src, copyBytes, threads, storeMode);
            } else {
                backward(f32, g, y, out, rows, cols, threads);
            }
            calls++;
            elapsed = now() - start;
        } while (elapsed < limit);
        sink = memcpyMode ? ((double *) dst)[0] : (f32 ? ((float *) out)[n / 2] : ((double *) out)[n / 2]);
        if (it >= 0) {
            printf("ns/op %.3f\n", elapsed * 1e9 / calls);
            fflush(stdout);
        }
    }
    return 0;
}
