/*
 * A probe, not part of the build (stop 24, bench/results/cpu-stop24-passes.md): the C kernel of
 * softmax_backward_ref.c (included) against a variant whose one loop does the canonical sums of row r+1 and the
 * outputs of row r, so that the reads of the next row and the writes of this one are in flight together, as in a
 * copy. float32; each thread a contiguous block of rows; checked bit for bit against the kernel, then 20 calls of
 * each, interleaved, ITERS times. Prints the medians, and kernel / fused.
 *
 *   gcc -O3 -march=native -ffp-contract=off -fopenmp -o /tmp/frp bench/results/probes/fused_rows_probe.c -lm
 *   /tmp/frp ROWS COLS THREADS ITERS
 */
#define main ref_main
#include "../../src/main/c/softmax_backward_ref.c"
#undef main

/* sums of row (gn, yn) in canonical order while writing out = y*(g-dd) at the same indices; returns d of the new row */
static float fused_f32(const float *restrict gn, const float *restrict yn, const float *restrict g,
                       const float *restrict y, float *restrict out, double dd, int cols, double *segY, double *segYG) {
    int segments = (cols + SEGMENT - 1) / SEGMENT;
    for (int seg = 0; seg < segments; seg++) {
        int start = seg * SEGMENT;
        int length = cols - start < SEGMENT ? cols - start : SEGMENT;
        double sy[LANES] = {0}, syg[LANES] = {0};
        const float *ys = yn + start, *gs = gn + start;
        const float *yo = y + start, *go = g + start;
        float *oo = out + start;
        int k = 0;
        for (; k + LANES <= length; k += LANES) {
            for (int l = 0; l < LANES; l++) {
                double yv = (double) ys[k + l];
                sy[l] = sy[l] + yv;
                syg[l] = syg[l] + yv * (double) gs[k + l];
            }
            if (out) for (int l = 0; l < LANES; l++) oo[k + l] = (float) ((double) yo[k + l] * ((double) go[k + l] - dd));
        }
        for (int l = 0; k + l < length; l++) {
            double yv = (double) ys[k + l];
            sy[l] = sy[l] + yv;
            syg[l] = syg[l] + yv * (double) gs[k + l];
            if (out) oo[k + l] = (float) ((double) yo[k + l] * ((double) go[k + l] - dd));
        }
        segY[seg] = reduce_lanes(sy);
        segYG[seg] = reduce_lanes(syg);
    }
    double sumY = reduce_segments(segY, segments);
    double sumYG = reduce_segments(segYG, segments);
    float d = sumY == 0.0 ? 0.0f : (float) (sumYG / sumY);
    if (cols > 0 && d != gn[0] && constant_f32(gn, cols)) d = gn[0];
    return d;
}

static void backward_fused(const float *g, const float *y, float *out, int rows, int cols, int threads) {
    int segments = (cols + SEGMENT - 1) / SEGMENT;
#pragma omp parallel num_threads(threads)
    {
        double *seg = malloc(sizeof(double) * 2 * segments);
        int n = omp_get_num_threads(), t = omp_get_thread_num();
        int lo = (int) ((long) rows * t / n), hi = (int) ((long) rows * (t + 1) / n);
        if (lo < hi) {
            size_t c = (size_t) cols;
            float d = fused_f32(g + lo * c, y + lo * c, NULL, NULL, NULL, 0, cols, seg, seg + segments);
            for (int r = lo; r < hi; r++) {
                if (r + 1 < hi) {
                    d = fused_f32(g + (r + 1) * c, y + (r + 1) * c, g + r * c, y + r * c, out + r * c, (double) d, cols, seg, seg + segments);
                } else {
                    double dd = d;
                    for (int i = 0; i < cols; i++) out[r * c + i] = (float) ((double) y[r * c + i] * ((double) g[r * c + i] - dd));
                }
            }
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
    backward(1, g, y, o1, rows, cols, threads); backward_fused(g, y, o2, rows, cols, threads);
    if (memcmp(o1, o2, n * 4) != 0) { printf("BITS DIFFER\n"); return 1; }
    double tb[200], tp[200];
    for (int it = -5; it < iters; it++) {
        double a = now(); for (int c = 0; c < 20; c++) backward(1, g, y, o1, rows, cols, threads); double b = now();
        for (int c = 0; c < 20; c++) backward_fused(g, y, o2, rows, cols, threads); double e = now();
        if (it >= 0) { tb[it] = (b - a) / 20; tp[it] = (e - b) / 20; }
    }
    int cmp(const void *x, const void *z) { double p = *(double *) x, q = *(double *) z; return p < q ? -1 : p > q; }
    qsort(tb, iters, sizeof(double), cmp); qsort(tp, iters, sizeof(double), cmp);
    double bytes = 12.0 * n;
    printf("[%d,%d] f32 %dT  kernel %8.1f us (%5.1f GB/s)  fused %8.1f us (%5.1f GB/s)  ratio %.2f\n", rows, cols, threads,
           tb[iters / 2] * 1e6, bytes / tb[iters / 2] / 1e9, tp[iters / 2] * 1e6, bytes / tp[iters / 2] / 1e9, tb[iters / 2] / tp[iters / 2]);
    return 0;
}
