package dev.softmaxbackward;

import dev.softmaxbackward.spi.Arguments;
import dev.softmaxbackward.spi.RowNumerics;
import java.io.Serializable;

/**
 * Phase 1 of the sharded backward pass, for one shard of a batch: for each of its {@code rows}, the
 * partial sums of {@code y} and {@code y*g} of every {@link RowNumerics#SEGMENT}-entry segment of
 * the shard, plus what the constant-row rule and (later) overflow rescaling need to know about the
 * shard's {@code g}. See {@link ShardedBackward} for the whole protocol.
 *
 * <p>float32 inputs give one float64 per segment and sum; float64 inputs give double-double pairs
 * {@code (s, c)}. Per row the shard also reports whether its {@code g} is constant (every entry
 * {@code ==} its first entry, which is not NaN), that first entry, and {@code max |g|} and
 * {@code max |y|} (NaN if one is NaN). For float64, a segment whose partials overflowed (while its
 * entries are finite) also carries them recomputed at the segment's own scale
 * ({@link RowNumerics#scaledSegment}); with the row's maxima these give a rescaled row's {@code d}
 * with the unsharded bits ({@link RowNumerics#rescaledMean(double, double, int, double[], double[], double[], double[], int[], int[])}).
 *
 * <p>Backends fill an instance with {@link #setSegment} and {@link #setRow}; callers only pass it on
 * (it is {@link Serializable}, for shipping between machines) to
 * {@link ShardedBackward#means(java.util.List)}.
 */
public final class ShardPartials implements Serializable {
    private static final long serialVersionUID = 1L;

    private final boolean float64;
    private final int rows;
    private final int cols;
    private final int segments;
    private final double[] sumY;
    private final double[] sumYG;
    private final double[] sumYErr;   // float64 only: the pairs' error terms
    private final double[] sumYGErr;  // float64 only
    private final double[] firstG;
    private final boolean[] constantG;
    private final double[] maxAbsG;
    private final double[] maxAbsY;
    // float64 only, allocated at the first overflowed segment: {sY, cY, sYG, cYG} at scale 2^-(kG, kY)
    private double[] scaledPartials;
    private int[] scaleG;
    private int[] scaleY;
    private boolean[] scaled;

    private ShardPartials(boolean float64, int rows, int cols) {
        Arguments.size(rows, cols);
        if (cols == 0) {
            throw new IllegalArgumentException("shard cols 0: a shard has at least one column");
        }
        this.float64 = float64;
        this.rows = rows;
        this.cols = cols;
        this.segments = RowNumerics.segments(cols);
        int n = Math.multiplyExact(rows, segments);
        sumY = new double[n];
        sumYG = new double[n];
        sumYErr = float64 ? new double[n] : null;
        sumYGErr = float64 ? new double[n] : null;
        firstG = new double[rows];
        constantG = new boolean[rows];
        maxAbsG = new double[rows];
        maxAbsY = new double[rows];
    }

    /** Empty partials for a float32 shard of {@code rows} rows and {@code cols >= 1} columns. */
    public static ShardPartials float32(int rows, int cols) {
        return new ShardPartials(false, rows, cols);
    }

    /** Empty partials for a float64 shard of {@code rows} rows and {@code cols >= 1} columns. */
    public static ShardPartials float64(int rows, int cols) {
        return new ShardPartials(true, rows, cols);
    }

    /** Whether the inputs were float64 (the sums are pairs). */
    public boolean isFloat64() {
        return float64;
    }

    public int rows() {
        return rows;
    }

    /** The shard's width in columns. */
    public int cols() {
        return cols;
    }

    /** {@code RowNumerics.segments(cols())}. */
    public int segments() {
        return segments;
    }

    /**
     * Sets segment {@code segment} of row {@code row}: the sums of {@code y} and of {@code y*g} in the
     * canonical in-segment order; the error terms {@code cY, cYG} are ignored for float32 partials.
     */
    public void setSegment(int row, int segment, double sY, double cY, double sYG, double cYG) {
        int i = index(row, segment);
        sumY[i] = sY;
        sumYG[i] = sYG;
        if (float64) {
            sumYErr[i] = cY;
            sumYGErr[i] = cYG;
        }
    }

    /**
     * Sets what row {@code row} looks like in this shard: the first entry of {@code g}, whether every
     * entry {@code ==} it and it is not NaN, {@code max |g|} and {@code max |y|} (NaN if one is NaN).
     */
    public void setRow(int row, double first, boolean constant, double maxAbsG, double maxAbsY) {
        checkRow(row);
        firstG[row] = first;
        constantG[row] = constant;
        this.maxAbsG[row] = maxAbsG;
        this.maxAbsY[row] = maxAbsY;
    }

    /**
     * Sets segment {@code segment} of row {@code row} recomputed scaled ({@link RowNumerics#scaledSegment}'s
     * {@code res = {sY, cY, sYG, cYG, kG, kY}}), kept beside its canonical partials; float64 only.
     * Synchronized because backends fill rows from several threads and the arrays are allocated at the
     * first scaled segment: unsynchronized, two threads could each allocate and one's writes be lost.
     */
    public synchronized void setScaledSegment(int row, int segment, double[] res) {
        int i = index(row, segment);
        if (!float64) {
            throw new IllegalStateException("scaled segments are for float64 partials; these are float32");
        }
        if (scaled == null) {
            int n = sumY.length;
            scaledPartials = new double[4 * n];
            scaleG = new int[n];
            scaleY = new int[n];
            scaled = new boolean[n];
        }
        System.arraycopy(res, 0, scaledPartials, 4 * i, 4);
        scaleG[i] = (int) res[4];
        scaleY[i] = (int) res[5];
        scaled[i] = true;
    }

    /** {@link #setRow} from the shard row {@code g[from, to)} (float32). */
    public void setRowFrom(int row, float[] g, int from, int to) {
        float first = g[from];
        boolean constant = !Float.isNaN(first); // a NaN is never equal, not even to itself
        double max = 0.0;
        for (int i = from; i < to; i++) {
            constant &= g[i] == first;
            max = Math.max(max, Math.abs((double) g[i])); // Math.max: a NaN makes max NaN
        }
        setRow(row, first, constant, max, Double.NaN); // float32 rows never rescale: max |y| unused
    }

    /**
     * {@link #setRow} from the shard row {@code g[from, to)}, {@code y[from, to)} (float64), after its
     * segments are set: each segment whose partials overflowed is recomputed scaled
     * ({@link #setScaledSegment}), so that a rescaled row gets the unsharded bits.
     */
    public void setRowFrom(int row, double[] g, double[] y, int from, int to) {
        double first = g[from];
        boolean constant = !Double.isNaN(first);
        for (int i = from; i < to; i++) {
            constant &= g[i] == first;
        }
        setRow(row, first, constant, RowNumerics.maxAbs(g, from, to - from), RowNumerics.maxAbs(y, from, to - from));
        double[] res = new double[6];
        for (int s = 0; s < segments; s++) {
            int i = index(row, s);
            int start = from + s * RowNumerics.SEGMENT;
            if (RowNumerics.overflowed(sumY[i], sumYG[i])
                    && RowNumerics.scaledSegment(g, start, y, start, Math.min(RowNumerics.SEGMENT, to - start), res)) {
                setScaledSegment(row, s, res);
            }
        }
    }

    /** {@code max |g|} of row {@code row} in this shard (NaN if a g is NaN). */
    public double maxAbsG(int row) {
        checkRow(row);
        return maxAbsG[row];
    }

    /** {@code max |y|} of row {@code row} in this shard (NaN if a y is NaN; NaN for float32 partials). */
    public double maxAbsY(int row) {
        checkRow(row);
        return maxAbsY[row];
    }

    // ---- read by ShardedBackward ----

    double sumY(int row, int segment) {
        return sumY[index(row, segment)];
    }

    double sumYG(int row, int segment) {
        return sumYG[index(row, segment)];
    }

    double sumYErr(int row, int segment) {
        return sumYErr[index(row, segment)];
    }

    double sumYGErr(int row, int segment) {
        return sumYGErr[index(row, segment)];
    }

    /** Whether segment {@code segment} of row {@code row} carries scaled partials. */
    boolean scaled(int row, int segment) {
        return scaled != null && scaled[index(row, segment)];
    }

    /** Component {@code c} (0..3: sY, cY, sYG, cYG) of a scaled segment. */
    double scaledPartial(int row, int segment, int c) {
        return scaledPartials[4 * index(row, segment) + c];
    }

    int scaleG(int row, int segment) {
        return scaleG[index(row, segment)];
    }

    int scaleY(int row, int segment) {
        return scaleY[index(row, segment)];
    }

    double firstG(int row) {
        return firstG[row];
    }

    boolean constantG(int row) {
        return constantG[row];
    }

    private int index(int row, int segment) {
        checkRow(row);
        if (segment < 0 || segment >= segments) {
            throw new IllegalArgumentException("segment " + segment + " outside [0, " + segments + ")");
        }
        return row * segments + segment;
    }

    private void checkRow(int row) {
        if (row < 0 || row >= rows) {
            throw new IllegalArgumentException("row " + row + " outside [0, " + rows + ")");
        }
    }

    @Override
    public String toString() {
        return (float64 ? "float64" : "float32") + " partials [" + rows + " rows, " + cols + " cols, "
                + segments + " segments]";
    }
}
