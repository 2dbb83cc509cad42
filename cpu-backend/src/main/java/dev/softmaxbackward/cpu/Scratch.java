package dev.softmaxbackward.cpu;

import dev.softmaxbackward.spi.RowNumerics;

/**
 * Per-task working memory: the 32 lane accumulators (two per sum for double-double), one partial per
 * segment, and a row of doubles for the forward pass. One instance serves one thread for a run of rows,
 * so the kernels allocate nothing per row, and {@link RowExecutor} keeps it for the thread's next call
 * of the same width.
 */
final class Scratch {
    /**
     * The lane accumulators, lane {@code l} at position {@code l}; a float64 segment whose vector loads start
     * {@code lead} entries in (see {@code VectorKernel.segmentSums}) holds lanes {@code 0..lead-1} at
     * {@code 32..31+lead} while it runs, hence the 8 positions past the 32 lanes.
     */
    final double[] aS = new double[RowNumerics.LANES + 8];
    final double[] aC = new double[RowNumerics.LANES + 8];
    final double[] bS = new double[RowNumerics.LANES + 8];
    final double[] bC = new double[RowNumerics.LANES + 8];
    final double[] segAS;
    final double[] segAC;
    final double[] segBS;
    final double[] segBC;
    private final int cols;
    private double[] row;
    private double[] input;
    /**
     * The memory views ({@link BufferKernel#memory}, and {@link StagedKernel}'s float and double views) of
     * the last few ByteBuffers this task's rows used,
     * by identity, so that a row does not make new ones (on JDK 22+ a MemorySegment object per array per
     * row); forgotten when the Scratch is kept, so a kept one holds no array's memory.
     */
    private final Object[] buffers = new Object[4];
    private final Object[] views = new Object[4];
    private int nextView;
    private final float[][] floats = new float[2][];
    private final double[][] doubles = new double[2][];

    Scratch(int cols) {
        this.cols = cols;
        int segments = Math.max(1, RowNumerics.segments(cols));
        segAS = new double[segments];
        segAC = new double[segments];
        segBS = new double[segments];
        segBC = new double[segments];
    }

    /**
     * The view of {@code b} kept by {@link #keepView}, or null; slot {@code hint} is looked at first. A
     * task's rows ask for their buffers in the same order each row, and the slots fill in that order, so
     * a kernel that passes its n-th buffer's n as the hint finds each with one comparison.
     */
    Object view(Object b, int hint) {
        if (buffers[hint] == b) {
            return views[hint];
        }
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] == b) {
                return views[i];
            }
        }
        return null;
    }

    void keepView(Object b, Object view) {
        buffers[nextView] = b;
        views[nextView] = view;
        nextView = (nextView + 1) % buffers.length;
    }

    /** Drops every kept view (and so every reference to an array's memory). */
    void forgetViews() {
        java.util.Arrays.fill(buffers, null);
        java.util.Arrays.fill(views, null);
        nextView = 0;
    }

    /** The row width this Scratch was made for. */
    int cols() {
        return cols;
    }

    /**
     * Lanes {@code 0..lead-1} of all four accumulators from positions {@code 32..31+lead}, where a float64
     * segment whose loads start {@code lead} entries in kept them.
     */
    void unrotateLanes(int lead) {
        System.arraycopy(aS, RowNumerics.LANES, aS, 0, lead);
        System.arraycopy(aC, RowNumerics.LANES, aC, 0, lead);
        System.arraycopy(bS, RowNumerics.LANES, bS, 0, lead);
        System.arraycopy(bC, RowNumerics.LANES, bC, 0, lead);
    }

    /** Lanes {@code 0..31} of the two float32 sums back to +0.0, as each segment starts. */
    void clearLanes32() {
        java.util.Arrays.fill(aS, 0, RowNumerics.LANES, 0.0);
        java.util.Arrays.fill(bS, 0, RowNumerics.LANES, 0.0);
    }

    /** Every lane accumulator position back to +0.0, as each segment starts. */
    void clearLanes() {
        java.util.Arrays.fill(aS, 0.0);
        java.util.Arrays.fill(aC, 0.0);
        java.util.Arrays.fill(bS, 0.0);
        java.util.Arrays.fill(bC, 0.0);
    }

    /** Row buffer {@code i} (0 or 1) of floats, for staging INDArray rows on the heap; allocated on first use. */
    float[] floats(int i) {
        if (floats[i] == null) {
            floats[i] = new float[cols];
        }
        return floats[i];
    }

    /** Row buffer {@code i} (0 or 1) of doubles, for staging INDArray rows on the heap; allocated on first use. */
    double[] doubles(int i) {
        if (doubles[i] == null) {
            doubles[i] = new double[cols];
        }
        return doubles[i];
    }

    /** A second row of doubles (an INDArray row widened to float64), allocated on first use. */
    double[] input() {
        if (input == null) {
            input = new double[cols];
        }
        return input;
    }

    /** A row of doubles (the exps of the forward pass), allocated on first use. */
    double[] row() {
        if (row == null) {
            row = new double[cols];
        }
        return row;
    }
}
