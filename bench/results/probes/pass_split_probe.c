/*
 * A probe, not part of the build (stop 24, bench/results/cpu-stop24-passes.md): where the C kernel's float32
 * time goes, against the kernel of softmax_backward_ref.c (which it includes), interleaved 20 calls each:
 *   mode 0  the kernel with a software prefetch of the next row into L2 during this row's output pass
 *           (checked bit for bit against the kernel);
 *   mode 1  the first pass alone: the canonical sums and d of every row, no output written;
 *   mode 2  the second pass alone: every output written with a fixed d, no sums.
 * Prints the medians over ITERS rounds; GB/s are counted at 12 bytes an entry in every mode (mode 1 moves 8).
 *
 *   gcc -O3 -march=native -ffp-contract=off -fopenmp -o /tmp/psp bench/results/probes/pass_split_probe.c -lm
 *   /tmp/psp ROWS COLS THREADS ITERS MODE
 */
#define main ref_main
#include "../../src/main/c/softmax_backward_ref.c"
#undef main

static int PF_DIST = 0;
static int MODE = 0; /* 0 prefetch, 1 sums only, 2 outputs only */
static volatile float dsink; /* lines ahead within next row; 0 = same index */

static void out_f32_pf(const float *g, const float *y, float *out, int cols, double dd, const float *gn, const float *yn) {
    int i = 0;
    if (gn) {
        for (; i + 16 <= cols; i += 16) {
            __builtin_prefetch(gn + i, 0, 2);
            __builtin_prefetch(yn + i, 0, 2);
            for (int l = 0; l < 16; l++) out[i + l] = (float) ((double) y[i + l] * ((double) g[i + l] - dd));
        }
    }
    for (; i < cols; i++) out[i] = (float) ((double) y[i] * ((double) g[i] - dd));
}

static void row_f32_pf(const float *restrict g, const float *restrict y, float *out, int cols,
                    double *segY, double *segYG, const float *gn, const float *yn) {
    if (MODE == 2) { out_f32_pf(g, y, out, cols, 0.25, NULL, NULL); return; }
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
    if (cols > 0 && d != g[0] && constant_f32(g, cols)) d = g[0];
    if (MODE == 1) { dsink = d; return; }
    out_f32_pf(g, y, out, cols, (double) d, gn, yn);
}

static void backward_pf(const float *g, const float *y, float *out, int rows, int cols, int threads) {
    int segments = (cols + SEGMENT - 1) / SEGMENT;
#pragma omp parallel num_threads(threads)
    {
        double *seg = malloc(sizeof(double) * 2 * segments);
#pragma omp for schedule(static)
        for (int r = 0; r < rows; r++) {
            size_t base = (size_t) r * cols;
            /* row r+1, which under the static schedule is this thread's next row except at the end of its block */
            const float *gn = MODE == 0 && r + 1 < rows ? g + base + cols : NULL;
            row_f32_pf(g + base, y + base, out + base, cols, seg, seg + segments, gn, gn ? y + base + cols : NULL);
        }
        free(seg);
    }
}

int main(int argc, char **argv) {
    int rows = atoi(argv[1]), cols = atoi(argv[2]), threads = atoi(argv[3]), iters = atoi(argv[4]);
    size_t n = (size_t) rows * cols;
    float *g = xalloc(n * 4), *y = xalloc(n * 4), *o1 = xalloc(n * 4), *o2 = xalloc(n * 4);
    uint64_t state = 1;
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double) (state >> 11) * 0x1.0p-53;
        g[i] = (float) (2 * u - 1); y[i] = (float) ((0.5 + u) * 2.0 / cols * 0.5);
    }
    memset(o1, 0, n * 4); memset(o2, 0, n * 4);
    MODE = atoi(argv[5]);
    backward(1, g, y, o1, rows, cols, threads); backward_pf(g, y, o2, rows, cols, threads);
    if (MODE == 0 && memcmp(o1, o2, n * 4) != 0) { printf("BITS DIFFER\n"); return 1; }
    double tb[200], tp[200];
    for (int it = -5; it < iters; it++) {
        double a = now(); for (int c = 0; c < 20; c++) backward(1, g, y, o1, rows, cols, threads); double b = now();
        for (int c = 0; c < 20; c++) backward_pf(g, y, o2, rows, cols, threads); double e = now();
        if (it >= 0) { tb[it] = (b - a) / 20; tp[it] = (e - b) / 20; }
    }
    int cmp(const void *x, const void *z) { double p = *(double *) x, q = *(double *) z; return p < q ? -1 : p > q; }
    qsort(tb, iters, sizeof(double), cmp); qsort(tp, iters, sizeof(double), cmp);
    double bytes = 12.0 * n;
    printf("%-9s [%d,%d] f32 %dT  kernel %8.1f us (%5.1f GB/s)  variant %8.1f us (%5.1f GB/s)\n", MODE == 0 ? "prefetch" : MODE == 1 ? "sums" : "outputs", rows, cols, threads,
           tb[iters / 2] * 1e6, bytes / tb[iters / 2] / 1e9, tp[iters / 2] * 1e6, bytes / tp[iters / 2] / 1e9);
    return 0;
}
