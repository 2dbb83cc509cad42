package dev.softmaxbackward.reference;

import dev.softmaxbackward.ShardPartials;
import dev.softmaxbackward.BackendDescriptor;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.spi.ShardArguments;
import dev.softmaxbackward.spi.Arguments;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.function.IntToDoubleFunction;

/**
 * The contract in code: scalar, single-threaded, written to be read. Every other backend must return
 * exactly these bits. Each row is handled on its own: its two sums in the canonical order
 * ({@link CanonicalSum}), then {@code d}, then the outputs, with the rounding steps of
 * {@link RowNumerics}. Always available; lowest priority.
 */
@BackendDescriptor(name = ReferenceBackend.NAME, priority = ReferenceBackend.PRIORITY)
public final class ReferenceBackend implements SoftmaxBackwardBackend {
    public static final String NAME = "reference";
    public static final int PRIORITY = 0;

    /** The provider constructor ServiceLoader calls; tests and tools may construct it too. */
    public ReferenceBackend() {
        // stateless
    }

    @Override
    public void softmaxBackward(float[] gradOut, float[] softmaxOut, float[] gradIn, int rows, int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        eachRow(rows, cols, (sums, r, base) -> {
            // float x float is exact in float64, so each term enters its sum unrounded.
            double sumY = sums.plain(cols, k -> softmaxOut[base + k]);
            double sumYG = sums.plain(cols, k -> (double) softmaxOut[base + k] * (double) gradOut[base + k]);
            // Dividing by the actual sum of y (not 1) makes a constant row give d == g exactly.
            float d = RowNumerics.weightedMean(sumYG, sumY);
            // A constant row must give exact zeros whatever rounding did to the sums: then d is g itself.
            d = RowNumerics.constantRowMean(d, gradOut, base, base + cols);
            // gradOut is read at i before gradIn is written at i, so gradIn == gradOut works.
            for (int i = base; i < base + cols; i++) {
                gradIn[i] = RowNumerics.gradIn(softmaxOut[i], gradOut[i], d);
            }
        });
    }

    @Override
    public void softmaxBackward(double[] gradOut, double[] softmaxOut, double[] gradIn, int rows, int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        eachRow(rows, cols, (sums, r, base) -> {
            // Double-double sums: float64 products and sums carry their exact rounding errors along.
            CanonicalSum.Pair sumY = sums.compensated(cols, k -> softmaxOut[base + k]);
            CanonicalSum.Pair sumYG = sums.compensatedDot(cols, k -> softmaxOut[base + k], k -> gradOut[base + k]);
            double d = RowNumerics.weightedMean(sumYG.s(), sumYG.c(), sumY.s(), sumY.c());
            d = RowNumerics.constantRowMean(d, gradOut, base, base + cols);
            // Sums that overflowed are recomputed scaled; outputs whose g - d overflows are taken halved.
            RowNumerics.finishRow(gradOut, base, softmaxOut, base, gradIn, base, cols, sumY.s(), sumYG.s(), d);
        });
    }

    @Override
    public void softmax(float[] logits, float[] out, int rows, int cols) {
        Arguments.softmax(logits, out, rows, cols);
        // float32 logits: float64 exps, summed plainly (as the backward pass sums float32 rows)
        softmaxRows(rows, cols, i -> logits[i], false, (i, v) -> out[i] = (float) v);
    }

    @Override
    public void softmax(double[] logits, double[] out, int rows, int cols) {
        Arguments.softmax(logits, out, rows, cols);
        softmaxRows(rows, cols, i -> logits[i], true, (i, v) -> out[i] = v);
    }

    @Override
    public void crossEntropyBackward(float[] softmaxOut, int[] labels, float scale, float[] gradIn, int rows,
                                     int cols) {
        Arguments.crossEntropyBackward(softmaxOut, labels, gradIn, rows, cols);
        crossEntropyRows(k -> softmaxOut[k], labels, scale, (i, v) -> gradIn[i] = (float) v, rows, cols);
    }

    @Override
    public void crossEntropyBackward(double[] softmaxOut, int[] labels, double scale, double[] gradIn, int rows,
                                     int cols) {
        Arguments.crossEntropyBackward(softmaxOut, labels, gradIn, rows, cols);
        crossEntropyRows(k -> softmaxOut[k], labels, scale, (i, v) -> gradIn[i] = v, rows, cols);
    }

    /** Where a row loop written once for both dtypes puts entry {@code i}: narrowed once for float32. */
    private interface Sink {
        void set(int i, double v);
    }

    /**
     * The forward pass in float64 for both dtypes: per row, {@code exp(x - max) / sum}, with the sum in
     * the canonical order, double-double for float64 logits, plain for float32 ones (float32 logits make
     * float64 exps whose plain float64 sum is what every backend computes for them).
     */
    private static void softmaxRows(int rows, int cols, IntToDoubleFunction logits, boolean doubleDouble, Sink out) {
        double[] e = new double[cols];
        eachRow(rows, cols, (sums, r, base) -> {
            // Subtracting the max keeps every exp in (0, 1]: no overflow, and the largest term is 1.
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < cols; k++) {
                max = Math.max(max, logits.applyAsDouble(base + k));
            }
            for (int k = 0; k < cols; k++) {
                // StrictMath.exp is fdlibm: the same bits on every JVM, so every Java backend agrees.
                e[k] = StrictMath.exp(logits.applyAsDouble(base + k) - max);
            }
            double sum = doubleDouble ? sums.compensated(cols, k -> e[k]).value() : sums.plain(cols, k -> e[k]);
            for (int k = 0; k < cols; k++) {
                out.set(base + k, e[k] / sum);
            }
        });
    }

    /**
     * {@code scale * (y - onehot(label))} per row, in float64 for both dtypes (a float32 scale and y
     * widen exactly), zero for the ignore label.
     */
    private static void crossEntropyRows(IntToDoubleFunction softmaxOut, int[] labels, double scale, Sink gradIn,
                                         int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            int label = labels[r];
            for (int i = 0; i < cols; i++) {
                gradIn.set(base + i, label == Arguments.IGNORE_INDEX ? 0.0
                        : scale * (softmaxOut.applyAsDouble(base + i) - (i == label ? 1.0 : 0.0)));
            }
        }
    }

    // ---- sharded rows -----------------------------------------------------------------------------

    @Override
    public ShardPartials shardPartials(float[] gradOut, float[] softmaxOut, int rows, int cols) {
        ShardPartials p = ShardArguments.partials(gradOut, softmaxOut, rows, cols);
        double[] y = new double[p.segments()];
        eachRow(rows, cols, (sums, r, base) -> {
            int n = sums.plainSegments(cols, k -> softmaxOut[base + k]);
            for (int s = 0; s < n; s++) {
                y[s] = sums.segment(s);
            }
            sums.plainSegments(cols, k -> (double) softmaxOut[base + k] * (double) gradOut[base + k]);
            for (int s = 0; s < n; s++) {
                p.setSegment(r, s, y[s], 0.0, sums.segment(s), 0.0);
            }
            p.setRowFrom(r, gradOut, base, base + cols);
        });
        return p;
    }

    @Override
    public ShardPartials shardPartials(double[] gradOut, double[] softmaxOut, int rows, int cols) {
        ShardPartials p = ShardArguments.partials(gradOut, softmaxOut, rows, cols);
        double[] yS = new double[p.segments()];
        double[] yC = new double[p.segments()];
        eachRow(rows, cols, (sums, r, base) -> {
            int n = sums.doubleDoubleSegments(cols, k -> softmaxOut[base + k], null);
            for (int s = 0; s < n; s++) {
                yS[s] = sums.segment(s);
                yC[s] = sums.segmentError(s);
            }
            sums.doubleDoubleSegments(cols, k -> softmaxOut[base + k], k -> gradOut[base + k]);
            for (int s = 0; s < n; s++) {
                p.setSegment(r, s, yS[s], yC[s], sums.segment(s), sums.segmentError(s));
            }
            p.setRowFrom(r, gradOut, softmaxOut, base, base + cols);
        });
        return p;
    }

    @Override
    public void shardBackward(float[] gradOut, float[] softmaxOut, float[] means, float[] gradIn, int rows,
                              int cols) {
        ShardArguments.backward(gradOut, softmaxOut, means, gradIn, rows, cols);
        eachEntry(rows, cols, (r, i) -> gradIn[i] = RowNumerics.gradIn(softmaxOut[i], gradOut[i], means[r]));
    }

    @Override
    public void shardBackward(double[] gradOut, double[] softmaxOut, double[] means, double[] gradIn, int rows,
                              int cols) {
        ShardArguments.backward(gradOut, softmaxOut, means, gradIn, rows, cols);
        eachEntry(rows, cols, (r, i) -> gradIn[i] = RowNumerics.gradIn(softmaxOut[i], gradOut[i], means[r]));
    }

    /** Row {@code r} of a batch, starting at {@code base}, with the summer its sums share. */
    private interface RowBody {
        void row(CanonicalSum sums, int r, int base);
    }

    /** Every row in order; none when {@code cols == 0}, since a row without entries has nothing to write. */
    private static void eachRow(int rows, int cols, RowBody body) {
        if (cols == 0) {
            return;
        }
        CanonicalSum sums = new CanonicalSum(cols);
        for (int r = 0; r < rows; r++) {
            body.row(sums, r, r * cols);
        }
    }

    /** Entry {@code i} of row {@code r}, for a loop written once for both dtypes. */
    private interface RowEntry {
        void at(int r, int i);
    }

    private static void eachEntry(int rows, int cols, RowEntry body) {
        for (int r = 0; r < rows; r++) {
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                body.at(r, i);
            }
        }
    }

    @Override
    public String describe() {
        return "scalar Java, one thread (the contract in code)";
    }

    @Override
    public String toString() {
        return NAME;
    }
}
