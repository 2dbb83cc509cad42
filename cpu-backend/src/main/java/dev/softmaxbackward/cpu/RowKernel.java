package dev.softmaxbackward.cpu;

import java.nio.ByteBuffer;

/**
 * The fused per-row backward kernel: one sweep for the two sums in the canonical order, {@code d},
 * one sweep for the outputs. Offsets are element offsets into arrays, byte offsets into buffers (which
 * are little-endian views of ND4J's off-heap memory). {@code out} may alias {@code g} at the same offset.
 * Implementations return exactly the bits of {@code ReferenceBackend}.
 */
interface RowKernel {
    String name();

    void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s);

    void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s);

    /**
     * Only the sums of a float32 row ({@code cols > 0}), in the canonical order, into {@code s.segAS/segBS}:
     * the first sweep of {@link #backward(float[], int, float[], int, float[], int, int, Scratch)}, for
     * rows whose outputs are rounded to another format (float16, bfloat16).
     */
    void sums(float[] g, int go, float[] y, int yo, int cols, Scratch s);

    void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols, Scratch s);

    void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols, Scratch s);

    // ---- the forward pass's and the cross-entropy's INDArray rows (FLOAT or DOUBLE entries) ---------

    /**
     * The {@code cols} entries at byte {@code at} of {@code b} (float64 if {@code f64}, else float32)
     * widened into {@code dst[0, cols)}; returns their largest ({@link Math#max}'s, a zero's sign aside). Here the scalar
     * loop; {@link BufferKernel} reads vectors.
     */
    default double readRow(boolean f64, ByteBuffer b, int at, double[] dst, int cols, Scratch s) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < cols; k++) {
            double x = f64 ? b.getDouble(at + 8 * k) : b.getFloat(at + 4 * k);
            dst[k] = x;
            max = Math.max(max, x);
        }
        return max;
    }

    /** {@code src[k] / divisor} for {@code k < cols}, each rounded once to the row's dtype, into {@code b} at byte {@code at}. */
    default void writeQuotients(boolean f64, double[] src, double divisor, ByteBuffer b, int at, int cols,
                                Scratch s) {
        for (int k = 0; k < cols; k++) {
            double q = src[k] / divisor;
            if (f64) {
                b.putDouble(at + 8 * k, q);
            } else {
                b.putFloat(at + 4 * k, (float) q);
            }
        }
    }

    /**
     * One row of the cross-entropy gradient, {@link RowOps#crossEntropyGradient} rounded once to the
     * row's dtype, from {@code y} at byte {@code yo} into {@code out} at byte {@code oo}, which may be
     * the same entries ({@code y[label]} is read before anything is written).
     */
    default void crossEntropyRow(boolean f64, ByteBuffer y, int yo, int label, double scale, ByteBuffer out, int oo,
                                 int cols, Scratch s) {
        for (int k = 0; k < cols; k++) {
            double g = RowOps.crossEntropyGradient(f64 ? y.getDouble(yo + 8 * k) : y.getFloat(yo + 4 * k), k, label,
                    scale);
            if (f64) {
                out.putDouble(oo + 8 * k, g);
            } else {
                out.putFloat(oo + 4 * k, (float) g);
            }
        }
    }

    /**
     * {@link #crossEntropyRow} of the row {@code src[k] / divisor} rounded to the row's dtype (the softmax
     * row that {@link #writeQuotients} would write), without writing it: into {@code out} at byte {@code oo}.
     */
    default void crossEntropyOfQuotients(boolean f64, double[] src, double divisor, int label, double scale,
                                         ByteBuffer out, int oo, int cols, Scratch s) {
        for (int k = 0; k < cols; k++) {
            double q = src[k] / divisor;
            double y = f64 ? q : (float) q;
            double g = RowOps.crossEntropyGradient(y, k, label, scale);
            if (f64) {
                out.putDouble(oo + 8 * k, g);
            } else {
                out.putFloat(oo + 4 * k, (float) g);
            }
        }
    }
}
