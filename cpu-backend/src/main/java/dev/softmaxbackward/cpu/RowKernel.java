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
}
