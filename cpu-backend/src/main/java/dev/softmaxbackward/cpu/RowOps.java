package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.Arguments;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.Arrays;

/**
 * The forward softmax and the cross-entropy gradient, one row at a time, in the reference's exact
 * steps. Neither is a bandwidth target: the forward pass is dominated by {@link StrictMath#exp} (kept
 * for bit-identity with every Java backend), so each exp is computed once into the scratch row and
 * reused for the output instead of being recomputed as the reference does.
 */
final class RowOps {
    private RowOps() {}

    static void softmax(float[] x, float[] out, int base, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = base; i < base + cols; i++) {
            max = Math.max(max, x[i]);
        }
        double[] e = s.row();
        for (int k = 0; k < cols; k++) {
            e[k] = StrictMath.exp((double) x[base + k] - max);
        }
        double sum = plainSum(e, cols, s);
        for (int k = 0; k < cols; k++) {
            out[base + k] = (float) (e[k] / sum);
        }
    }

    static void softmax(double[] x, double[] out, int base, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = base; i < base + cols; i++) {
            max = Math.max(max, x[i]);
        }
        double[] e = s.row();
        for (int k = 0; k < cols; k++) {
            e[k] = StrictMath.exp(x[base + k] - max);
        }
        double sum = compensatedSum(e, cols, s);
        for (int k = 0; k < cols; k++) {
            out[base + k] = e[k] / sum;
        }
    }

    /** The canonical order with float64 accumulators. */
    private static double plainSum(double[] e, int cols, Scratch s) {
        int segments = RowNumerics.segments(cols);
        double[] a = s.aS;
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            Arrays.fill(a, 0.0);
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                a[l] = a[l] + e[start + k];
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
        }
        return RowNumerics.reduceSegments(s.segAS, segments);
    }

    /** The canonical order with double-double accumulators (plain TwoSum steps), rounded by {@code value}. */
    private static double compensatedSum(double[] e, int cols, Scratch s) {
        int segments = RowNumerics.segments(cols);
        double[] aS = s.aS;
        double[] aC = s.aC;
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            Arrays.fill(aS, 0.0);
            Arrays.fill(aC, 0.0);
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                double x = e[start + k];
                double sv = aS[l];
                double sum = sv + x;
                double v = sum - sv;
                double err = (sv - (sum - v)) + (x - v);
                aS[l] = sum;
                aC[l] = aC[l] + err;
            }
            RowNumerics.reduceLanes(aS, aC);
            s.segAS[seg] = aS[0];
            s.segAC[seg] = aC[0];
        }
        RowNumerics.reduceSegments(s.segAS, s.segAC, segments);
        return RowNumerics.value(s.segAS[0], s.segAC[0]);
    }

    static void crossEntropyBackward(float[] y, int label, float scale, float[] out, int base, int cols) {
        if (label == Arguments.IGNORE_INDEX) {
            Arrays.fill(out, base, base + cols, 0.0f);
            return;
        }
        double sc = scale;
        for (int i = 0; i < cols; i++) {
            out[base + i] = (float) (sc * ((double) y[base + i] - (i == label ? 1.0 : 0.0)));
        }
    }

    static void crossEntropyBackward(double[] y, int label, double scale, double[] out, int base, int cols) {
        if (label == Arguments.IGNORE_INDEX) {
            Arrays.fill(out, base, base + cols, 0.0);
            return;
        }
        for (int i = 0; i < cols; i++) {
            out[base + i] = scale * (y[base + i] - (i == label ? 1.0 : 0.0));
        }
    }
}
