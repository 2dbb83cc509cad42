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

    /** Entry {@code k} of a row at byte {@code at}: float64 if {@code f64}, else float32 widened (exact). */
    static double entry(boolean f64, ByteBuffer b, int at, int k) {
        return f64 ? b.getDouble(at + 8 * k) : b.getFloat(at + 4 * k);
    }

    /** {@code v} rounded once to the row's dtype, as entry {@code k} of the row at byte {@code at}. */
    static void putEntry(boolean f64, ByteBuffer b, int at, int k, double v) {
        if (f64) {
            b.putDouble(at + 8 * k, v);
        } else {
            b.putFloat(at + 4 * k, (float) v);
        }
    }

    /**
     * The {@code cols} entries at byte {@code at} of {@code b} (float64 if {@code f64}, else float32)
     * widened into {@code dst[0, cols)}; returns their largest ({@link Math#max}'s, a zero's sign aside).
     * Here the scalar loop; {@link BufferKernel} reads vectors.
     */
    default double readRow(boolean f64, ByteBuffer b, int at, double[] dst, int cols, Scratch s) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < cols; k++) {
            dst[k] = entry(f64, b, at, k);
            max = Math.max(max, dst[k]);
        }
        return max;
    }

    /** {@code src[k] / divisor} for {@code k < cols}, each rounded once to the row's dtype, into {@code b} at byte {@code at}. */
    default void writeQuotients(boolean f64, double[] src, double divisor, ByteBuffer b, int at, int cols,
                                Scratch s) {
        for (int k = 0; k < cols; k++) {
            putEntry(f64, b, at, k, src[k] / divisor);
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
            putEntry(f64, out, oo, k, RowOps.crossEntropyGradient(entry(f64, y, yo, k), k, label, scale));
        }
    }

    /**
     * {@link #crossEntropyRow} of the row {@code src[k] / divisor} rounded to the row's dtype (the softmax
     * row that {@link #writeQuotients} would write), without writing it: into {@code out} at byte {@code oo}.
     */
    default void crossEntropyOfQuotients(boolean f64, double[] src, double divisor, int label, double scale,
                                         ByteBuffer out, int oo, int cols, Scratch s) {
        for (int k = 0; k < cols; k++) {
            putEntry(f64, out, oo, k, RowOps.crossEntropyGradient(quotient(f64, src[k], divisor), k, label, scale));
        }
    }

    /** {@code x / divisor} rounded to the row's dtype (float32 rows: to float32), as the softmax writes it. */
    static double quotient(boolean f64, double x, double divisor) {
        double q = x / divisor;
        return f64 ? q : (float) q;
    }
}
