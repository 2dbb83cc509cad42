package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.ShardPartials;
import dev.softmaxbackward.spi.RowNumerics;
import dev.softmaxbackward.spi.ShardArguments;

/**
 * The {@code cpu} backend's two phases of {@link dev.softmaxbackward.ShardedBackward}: rows split over
 * the backend's {@link RowExecutor}, each shard row's segments summed in the canonical lane order with
 * 32 accumulators (plain Java, a loop C2 unrolls), so the partials are the reference's bits.
 */
final class CpuShards {
    private CpuShards() {}

    static ShardPartials partials(RowExecutor executor, float[] g, float[] y, int rows, int cols) {
        ShardPartials p = ShardArguments.partials(g, y, rows, cols);
        executor.forEachRow(rows, cols, (from, to, unused) -> {
            double[] laneY = new double[LANES];
            double[] laneYG = new double[LANES];
            for (int r = from; r < to; r++) {
                int base = r * cols;
                for (int seg = 0, start = 0; start < cols; seg++, start += SEGMENT) {
                    int end = base + Math.min(cols, start + SEGMENT);
                    java.util.Arrays.fill(laneY, 0.0);
                    java.util.Arrays.fill(laneYG, 0.0);
                    int i = base + start;
                    for (; i + LANES <= end; i += LANES) {
                        for (int l = 0; l < LANES; l++) {
                            double yi = y[i + l];
                            laneY[l] += yi;
                            laneYG[l] += yi * (double) g[i + l]; // exact: a float x float product
                        }
                    }
                    for (int l = 0; i < end; i++, l++) {
                        laneY[l] += y[i];
                        laneYG[l] += (double) y[i] * (double) g[i];
                    }
                    p.setSegment(r, seg, RowNumerics.reduceLanes(laneY), 0.0, RowNumerics.reduceLanes(laneYG), 0.0);
                }
                p.setRowFrom(r, g, base, base + cols);
            }
        });
        return p;
    }

    static ShardPartials partials(RowExecutor executor, double[] g, double[] y, int rows, int cols) {
        ShardPartials p = ShardArguments.partials(g, y, rows, cols);
        executor.forEachRow(rows, cols, (from, to, unused) -> {
            double[] yS = new double[LANES];
            double[] yC = new double[LANES];
            double[] ygS = new double[LANES];
            double[] ygC = new double[LANES];
            for (int r = from; r < to; r++) {
                int base = r * cols;
                for (int seg = 0, start = 0; start < cols; seg++, start += SEGMENT) {
                    int segmentStart = base + start;
                    int end = base + Math.min(cols, start + SEGMENT);
                    java.util.Arrays.fill(yS, 0.0);
                    java.util.Arrays.fill(yC, 0.0);
                    java.util.Arrays.fill(ygS, 0.0);
                    java.util.Arrays.fill(ygC, 0.0);
                    for (int i = segmentStart; i < end; i++) {
                        int l = (i - segmentStart) % LANES;
                        double yi = y[i];
                        // TwoSum of the lane and y
                        double s = yS[l];
                        double sum = s + yi;
                        double v = sum - s;
                        yC[l] += (s - (sum - v)) + (yi - v);
                        yS[l] = sum;
                        // TwoProd of y and g, then TwoSum of the lane and the product
                        double prod = yi * g[i];
                        double prodErr = Math.fma(yi, g[i], -prod);
                        s = ygS[l];
                        sum = s + prod;
                        v = sum - s;
                        ygC[l] = ygC[l] + (prodErr + ((s - (sum - v)) + (prod - v)));
                        ygS[l] = sum;
                    }
                    RowNumerics.reduceLanes(yS, yC);
                    RowNumerics.reduceLanes(ygS, ygC);
                    p.setSegment(r, seg, yS[0], yC[0], ygS[0], ygC[0]);
                }
                p.setRowFrom(r, g, y, base, base + cols);
            }
        });
        return p;
    }

    static void backward(RowExecutor executor, float[] g, float[] y, float[] means, float[] gradIn, int rows,
                         int cols) {
        ShardArguments.backward(g, y, means, gradIn, rows, cols);
        executor.forEachRow(rows, cols, (from, to, unused) -> {
            for (int r = from; r < to; r++) {
                float d = means[r];
                for (int i = r * cols; i < (r + 1) * cols; i++) {
                    gradIn[i] = RowNumerics.gradIn(y[i], g[i], d);
                }
            }
        });
    }

    static void backward(RowExecutor executor, double[] g, double[] y, double[] means, double[] gradIn, int rows,
                         int cols) {
        ShardArguments.backward(g, y, means, gradIn, rows, cols);
        executor.forEachRow(rows, cols, (from, to, unused) -> {
            for (int r = from; r < to; r++) {
                double d = means[r];
                for (int i = r * cols; i < (r + 1) * cols; i++) {
                    gradIn[i] = RowNumerics.gradIn(y[i], g[i], d);
                }
            }
        });
    }
}
