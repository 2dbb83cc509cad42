package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;

import dev.softmaxbackward.spi.Arguments;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.Arrays;

/**
 * The forward softmax and the cross-entropy gradient, one row at a time, in the reference's exact
 * steps. Neither is a bandwidth target: the forward pass is dominated by the exp, which must be
 * {@link StrictMath#exp}'s bits (bit-identity with every Java backend); {@link FdlibmExp} computes them
 * (vectorised where it can), once per entry into the scratch row, reused for the output instead of being
 * recomputed as the reference does.
 */
final class RowOps {
    private RowOps() {}

    static void softmax(float[] x, float[] out, int base, int cols, Scratch s) {
        double[] in = s.input();
        for (int k = 0; k < cols; k++) {
            in[k] = x[base + k]; // exact
        }
        double sum = exps(in, cols, false, s);
        double[] e = s.row();
        for (int k = 0; k < cols; k++) {
            out[base + k] = (float) (e[k] / sum);
        }
    }

    static void softmax(double[] x, double[] out, int base, int cols, Scratch s) {
        double[] in = s.input();
        System.arraycopy(x, base, in, 0, cols);
        double sum = exps(in, cols, true, s);
        double[] e = s.row();
        for (int k = 0; k < cols; k++) {
            out[base + k] = e[k] / sum;
        }
    }

    /**
     * The reference's softmax steps up to the division, for one row already widened to float64 in
     * {@code x[0, cols)}: {@code e[k] = exp(x[k] - max)} into {@link Scratch#row()}, and their canonical
     * sum, returned: double-double for float64 rows ({@code compensated}), float64 otherwise (float32
     * rows, and 16-bit rows, which follow the float32 steps). Each output is then {@code e[k] / sum}
     * rounded once to the row's dtype.
     */
    static double exps(double[] x, int cols, boolean compensated, Scratch s) {
        if (cols == 0) {
            return 0.0;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < cols; k++) {
            max = Math.max(max, x[k]);
        }
        double[] e = s.row();
        FdlibmExp.expShifted(x, max, e, cols); // StrictMath.exp's bits, without its native call
        return compensated ? compensatedSum(e, cols, s) : plainSum(e, cols, s);
    }

    /** The canonical order with float64 accumulators. */
    private static double plainSum(double[] e, int cols, Scratch s) {
        double[] a = s.aS;
        int segments = SegmentWalk.walk(cols, (seg, start, full, length) -> {
            Arrays.fill(a, 0.0);
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                a[l] = a[l] + e[start + k];
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
        });
        return RowNumerics.reduceSegments(s.segAS, segments);
    }

    /**
     * The canonical order with double-double accumulators (plain TwoSum steps), rounded by {@code value}:
     * the {@code sum(y)} half of the float64 kernel's sums, with {@code e} as both operands (the other
     * half is not needed; the exp dominates this row's cost).
     */
    private static double compensatedSum(double[] e, int cols, Scratch s) {
        int segments = RowNumerics.segments(cols);
        ScalarKernel.sums(e, 0, e, 0, cols, s);
        RowNumerics.reduceSegments(s.segAS, s.segAC, segments);
        return RowNumerics.value(s.segAS[0], s.segAC[0]);
    }

    static void crossEntropyBackward(float[] y, int label, float scale, float[] out, int base, int cols) {
        double sc = scale;
        for (int i = 0; i < cols; i++) {
            out[base + i] = (float) crossEntropyGradient(y[base + i], i, label, sc);
        }
    }

    static void crossEntropyBackward(double[] y, int label, double scale, double[] out, int base, int cols) {
        for (int i = 0; i < cols; i++) {
            out[base + i] = crossEntropyGradient(y[base + i], i, label, scale);
        }
    }

    /**
     * Entry {@code i} of a row's cross-entropy gradient before its rounding to the row's dtype:
     * {@code scale * (y - onehot(label))} in float64, +0.0 on an ignored row. For float32 (and 16-bit)
     * rows {@code scale} is a float32 value and {@code y} a widened entry, so this is the reference's
     * float64 value, which the caller rounds once.
     */
    static double crossEntropyGradient(double y, int i, int label, double scale) {
        return label == Arguments.IGNORE_INDEX ? 0.0 : scale * (y - (i == label ? 1.0 : 0.0));
    }
}
