package dev.softmaxbackward.conformance;

import java.util.Arrays;
import java.util.Random;

/**
 * Test inputs, computed by the tests themselves (never by a backend): logits, y = softmax(logits) in
 * float64 then rounded to the dtype, and upstream gradients of several kinds.
 */
public final class Inputs {
    private Inputs() {}

    /** What the upstream gradient g looks like. */
    public enum GradientKind {
        /** Uniform in [-1, 1). */
        UNIT,
        /** Every row constant (random sign and magnitude): the output must be exactly zero. */
        CONSTANT,
        /** Gaussian times a huge power of ten (up to 1e37 float32, 1e300 float64). */
        HUGE,
        /** Gaussian times a tiny power of ten (down to 1e-38 float32, 1e-250 float64). */
        TINY,
        /** Every entry its own sign and a magnitude anywhere in 1e-30..1e30 (float32) or 1e-150..1e150. */
        MIXED_MAGNITUDES,
        /** All positive, in (0, 1]. */
        POSITIVE,
        /** A large common offset plus small noise: d nearly cancels g, stressing the weighted mean. */
        OFFSET,
        /**
         * Small noise plus pairs of huge entries +B and -B at equal y, which cancel exactly: the partial
         * sums are huge while the result is small, so the order of summation decides which small terms
         * survive. The case where only bitwise agreement with the reference pins the result (for float32
         * inputs a different order is otherwise nearly always hidden by rounding d to float32).
         */
        CANCELLING
    }

    /** What y looks like. */
    public enum YKind {
        /** softmax(scale * gaussian): what a forward pass saved. */
        SOFTMAX,
        /** Any non-negative values in [0, 1), one in five zero, not normalised (d divides by sum(y)). */
        RAW,
        /**
         * As RAW times a small power of ten (down to 1e-30 float32, 1e-40 float64). Not smaller for
         * float64: with max|g| * sum(y) below about cols * 2^-1022 the products y*g fall among the
         * subnormals and the oracle bound fails for the contract's own algorithm (see
         * KnownContractGapsTest); with float64 g at least 1e-250 this keeps clear of it.
         */
        RAW_TINY
    }

    /** y of the given kind, in float64. */
    public static double[] y(Random rnd, DType dtype, YKind kind, int rows, int cols, double logitScale) {
        if (kind == YKind.SOFTMAX) {
            return softmax(logits(rnd, rows, cols, logitScale), rows, cols);
        }
        double scale = kind == YKind.RAW ? 1 : dtype == DType.FLOAT32 ? magnitude(rnd, -30, -5) : magnitude(rnd, -40, -5);
        double[] y = new double[rows * cols];
        for (int i = 0; i < y.length; i++) {
            y[i] = rnd.nextInt(5) == 0 ? 0.0 : scale * Math.pow(rnd.nextDouble(), 1 + 4 * rnd.nextDouble());
        }
        return y;
    }

    /** Gaussian logits times {@code scale}, row-major. */
    public static double[] logits(Random rnd, int rows, int cols, double scale) {
        double[] x = new double[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextGaussian() * scale;
        }
        return x;
    }

    /**
     * Row-wise softmax in float64, written independently of every backend: max-subtracted, Math.exp,
     * a plain left-to-right sum.
     */
    public static double[] softmax(double[] x, int rows, int cols) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = base; i < base + cols; i++) {
                max = Math.max(max, x[i]);
            }
            double sum = 0;
            for (int i = base; i < base + cols; i++) {
                y[i] = Math.exp(x[i] - max);
                sum += y[i];
            }
            for (int i = base; i < base + cols; i++) {
                y[i] /= sum;
            }
        }
        return y;
    }

    /** {@code L(x) = g . softmax(x)} for one row, in float64. */
    public static double loss(double[] x, double[] g, int cols) {
        double[] y = softmax(x, 1, cols);
        double l = 0;
        for (int i = 0; i < cols; i++) {
            l += g[i] * y[i];
        }
        return l;
    }

    /** A random power of ten in [10^lo, 10^hi]. */
    public static double magnitude(Random rnd, double lo, double hi) {
        return Math.pow(10, lo + (hi - lo) * rnd.nextDouble());
    }

    /**
     * Upstream gradients of the given kind for {@code dtype}, in float64 (exactly representable in the
     * dtype after rounding; magnitudes are chosen so that rounding to float32 never overflows). Besides
     * the kind, each row is made constant with probability {@code constantRowChance}.
     */
    public static double[] gradient(Random rnd, DType dtype, GradientKind kind, int rows, int cols,
                                    double constantRowChance) {
        boolean f32 = dtype == DType.FLOAT32;
        double[] g = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            boolean constant = kind == GradientKind.CONSTANT || rnd.nextDouble() < constantRowChance;
            if (constant) {
                double c = constantValue(rnd, dtype);
                for (int i = base; i < base + cols; i++) {
                    g[i] = c;
                }
                continue;
            }
            double rowScale;
            switch (kind) {
                case HUGE -> rowScale = f32 ? magnitude(rnd, 20, 37) : magnitude(rnd, 100, 300);
                case TINY -> rowScale = f32 ? magnitude(rnd, -38, -20) : magnitude(rnd, -250, -100);
                case OFFSET -> rowScale = magnitude(rnd, 0, f32 ? 6 : 12);
                default -> rowScale = 1;
            }
            for (int i = base; i < base + cols; i++) {
                double v = switch (kind) {
                    case UNIT, CONSTANT, CANCELLING -> 2 * rnd.nextDouble() - 1;
                    case HUGE, TINY -> rnd.nextGaussian() * rowScale;
                    case MIXED_MAGNITUDES -> (rnd.nextBoolean() ? 1 : -1)
                            * (f32 ? magnitude(rnd, -30, 30) : magnitude(rnd, -150, 150));
                    case POSITIVE -> 1 - rnd.nextDouble();
                    case OFFSET -> rowScale + (2 * rnd.nextDouble() - 1);
                };
                g[i] = dtype.round(v);
            }
        }
        return g;
    }

    /**
     * A constant for a constant row: 0, +-1, simple fractions, a random value of random magnitude, or an
     * extreme (the largest finite value, the smallest subnormals), anywhere in the dtype's range.
     */
    public static double constantValue(Random rnd, DType dtype) {
        double sign = rnd.nextBoolean() ? 1 : -1;
        boolean f32 = dtype == DType.FLOAT32;
        return switch (rnd.nextInt(8)) {
            case 0 -> 0.0;
            case 1 -> sign;
            case 2 -> sign * 0.1;
            case 3 -> dtype.round(sign * Math.PI);
            case 4 -> sign * (f32 ? Float.MAX_VALUE : Double.MAX_VALUE);
            case 5 -> sign * (1 + rnd.nextInt(7)) * dtype.minSubnormal();
            default -> f32 ? (double) (float) (sign * magnitude(rnd, -45, 38.5))
                    : sign * magnitude(rnd, -323, 308);
        };
    }

    /** y = softmax(scale * gaussian) rounded to {@code dtype}, with g of the given kind. */
    public static Batch batch(Random rnd, DType dtype, int rows, int cols, double logitScale, GradientKind kind,
                              double constantRowChance) {
        return batch(rnd, dtype, YKind.SOFTMAX, rows, cols, logitScale, kind, constantRowChance);
    }

    /** y of the given kind (logitScale applies to SOFTMAX), rounded to {@code dtype}, with g of the given kind. */
    public static Batch batch(Random rnd, DType dtype, YKind yKind, int rows, int cols, double logitScale,
                              GradientKind kind, double constantRowChance) {
        double[] y = y(rnd, dtype, yKind, rows, cols, logitScale);
        double[] g = gradient(rnd, dtype, kind, rows, cols, constantRowChance);
        if (kind == GradientKind.CANCELLING) {
            cancellingPairs(rnd, dtype, y, g, rows, cols);
        }
        return Batch.rounded(dtype, y, g, rows, cols);
    }

    /**
     * Rows near the top of the dtype's range: raw y in [0, 1) (not normalised, so that sum(y*g) can
     * exceed the largest finite value), g with |g| in [2^(top-20), 2^top) where top is 1021 (float64) or
     * 125 (float32), every row of one sign or of mixed signs, and one row in four constant. Below 2^top
     * the exact d, g - d and output stay finite, so a non-finite output is always an error; in float64
     * the row sums overflow nonetheless (docs/numerics.md step 3a), in float32 they do not (float64
     * working precision).
     */
    public static Batch nearLargest(Random rnd, DType dtype, int rows, int cols) {
        int top = dtype == DType.FLOAT32 ? 125 : 1021;
        double[] y = y(rnd, dtype, YKind.RAW, rows, cols, 1);
        double[] g = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            if (r % 4 == 3) {
                Arrays.fill(g, base, base + cols, Math.scalb(rnd.nextBoolean() ? 1.5 : -1.5, top));
                continue;
            }
            boolean mixed = r % 2 == 1;
            double rowSign = rnd.nextBoolean() ? 1 : -1;
            for (int i = base; i < base + cols; i++) {
                double sign = mixed ? (rnd.nextBoolean() ? 1 : -1) : rowSign;
                g[i] = dtype.round(sign * Math.scalb(1 + rnd.nextDouble(), top - 1 - rnd.nextInt(20)));
            }
        }
        return Batch.rounded(dtype, y, g, rows, cols);
    }

    /**
     * In each row that is not constant, about one entry in 32 becomes part of a pair (a, b) with
     * y[b] = y[a], g[a] = +B, g[b] = -B, B huge (1e15..1e30 float32, 1e20..1e100 float64), so that
     * y[a]*g[a] + y[b]*g[b] is exactly zero.
     */
    public static void cancellingPairs(Random rnd, DType dtype, double[] y, double[] g, int rows, int cols) {
        if (cols < 2) {
            return;
        }
        int[] idx = new int[cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            if (g[base] == g[base + cols - 1] && g[base] == g[base + cols / 2]) {
                continue; // most likely a constant row: keep it constant
            }
            for (int i = 0; i < cols; i++) {
                idx[i] = i;
            }
            int pairs = Math.max(1, cols / 64);
            for (int p = 0; p < 2 * pairs; p++) { // partial Fisher-Yates: 2*pairs distinct positions
                int j = p + rnd.nextInt(cols - p);
                int t = idx[p];
                idx[p] = idx[j];
                idx[j] = t;
            }
            for (int p = 0; p < pairs; p++) {
                int a = base + idx[2 * p];
                int b = base + idx[2 * p + 1];
                double big = dtype.round(dtype == DType.FLOAT32 ? magnitude(rnd, 15, 30) : magnitude(rnd, 20, 100));
                y[b] = y[a];
                g[a] = big;
                g[b] = -big;
            }
        }
    }
}
