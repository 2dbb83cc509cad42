package dev.softmaxbackward.cpu;

import dev.softmaxbackward.conformance.Batch;
import dev.softmaxbackward.conformance.DType;
import java.util.SplittableRandom;

/** Test inputs: softmax-like rows, gradients of several kinds, and the awkward values. */
final class Data {
    /** Columns that hit every path: empty, tails shorter than 32, one segment, segment boundaries, odd segment counts. */
    static final int[] COLS = {0, 1, 7, 31, 32, 33, 100, 1024, 4095, 4096, 4097, 8192, 3 * 4096 + 5, 5 * 4096 + 31};

    private Data() {}

    /** y: a softmax of random logits per row; some rows special (all zero, with NaN, with inf, tiny). */
    static double[] y(SplittableRandom rnd, int rows, int cols) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double sum = 0;
            for (int i = 0; i < cols; i++) {
                y[base + i] = Math.exp(rnd.nextGaussian() * 3);
                sum += y[base + i];
            }
            for (int i = 0; i < cols; i++) {
                y[base + i] /= sum;
            }
            if (cols > 0) {
                switch (r % 9) {
                    case 3 -> java.util.Arrays.fill(y, base, base + cols, 0.0);
                    case 5 -> y[base + rnd.nextInt(cols)] = Double.NaN;
                    case 7 -> y[base + rnd.nextInt(cols)] = Double.POSITIVE_INFINITY;
                    case 8 -> y[base + rnd.nextInt(cols)] = 1e-41; // a float32 subnormal
                    default -> { }
                }
            }
        }
        return y;
    }

    /** g: gaussian with a random scale; some rows constant (must give exact zeros), some huge, some signed zeros. */
    static double[] g(SplittableRandom rnd, int rows, int cols) {
        double[] g = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double scale = Math.pow(10, rnd.nextInt(-6, 7));
            // constant rows: ordinary, and (float64) so tiny or huge that y*g underflows or the sums overflow,
            // where only the constant-row rule gives exact zeros
            double constant = r % 12 == 7 ? 3e-300 : r % 12 == 1 && r > 12 ? -1.5e308 : rnd.nextGaussian() * scale;
            for (int i = 0; i < cols; i++) {
                g[base + i] = switch (r % 6) {
                    case 1 -> constant;
                    case 2 -> rnd.nextBoolean() ? 0.0 : -0.0;
                    case 4 -> rnd.nextGaussian() * 1e30;
                    default -> rnd.nextGaussian() * scale + (rnd.nextInt(50) == 0 ? 1e6 : 0);
                };
            }
        }
        return g;
    }

    /**
     * float64 rows near overflow, by {@code r % 6}: sums that overflow (in a segment, or only in the
     * segment tree for long rows), sum(y) overflowing, g - d overflowing, the first with a NaN, an
     * ordinary row. Rows 0-3 have finite exact results.
     */
    static double[] nearOverflowG(SplittableRandom rnd, double[] y, int rows, int cols) {
        double[] g = new double[rows * cols];
        double max = Double.MAX_VALUE;
        for (int i = 0; i < g.length; i++) {
            int kind = (i / Math.max(1, cols)) % 6;
            double u = rnd.nextDouble();
            y[i] = kind == 0 ? 1.0 : kind == 1 ? u / 64 : kind == 2 ? 1e308 * u : u / cols;
            g[i] = switch (kind) {
                case 0 -> max / cols * (1.5 + u * 1e-3);
                case 1, 4 -> max * (u - 0.25);
                case 2 -> rnd.nextGaussian() * 1e-10;
                case 3 -> (i % 4 == 0 ? -max : max) * (1 - u * 1e-3);
                default -> rnd.nextGaussian();
            };
            if (kind == 4 && i % cols == cols - 1) {
                g[i] = Double.NaN;
            }
        }
        return g;
    }

    /** {@code a} rounded once to float32: the suite's rounding ({@link Batch#rounded}). */
    static float[] toFloat(double[] a) {
        return Batch.rounded(DType.FLOAT32, a, a, 1, a.length).yFloats();
    }
}
