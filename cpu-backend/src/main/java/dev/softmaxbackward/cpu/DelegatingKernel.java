package dev.softmaxbackward.cpu;

/**
 * A kernel whose array rows run another kernel ({@code arrays}) unchanged and which adds only its own
 * access to INDArray rows (ND4J's off-heap ByteBuffers): {@link StagedKernel} and {@link BufferKernel}.
 */
abstract class DelegatingKernel implements RowKernel {
    final RowKernel arrays;
    private final String access;

    DelegatingKernel(RowKernel arrays, String access) {
        this.arrays = arrays;
        this.access = access;
    }

    @Override
    public final String name() {
        return arrays.name() + ", INDArrays " + access;
    }

    @Override
    public final void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        arrays.backward(g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public final void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        arrays.backward(g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public final void sums(float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        arrays.sums(g, go, y, yo, cols, s);
    }
}
