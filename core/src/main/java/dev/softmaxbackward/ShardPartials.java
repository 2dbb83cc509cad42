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
 * {@code ==} its first entry, which is not NaN), that first entry, and {@code max |g|} (NaN if any
 * {@code g} is NaN). The last is not used yet: it is carried so that rescaling rows whose float64
 * sums overflow (issue 10 item 7) can be added without changing this format.
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
     * Sets what row {@code row}'s {@code g} looks like in this shard: its first entry, whether every
     * entry {@code ==} it and it is not NaN, and {@code max |g|}.
     */
    public void setRow(int row, double first, boolean constant, double maxAbs) {
        checkRow(row);
        firstG[row] = first;
        constantG[row] = constant;
        maxAbsG[row] = maxAbs;
    }

    /** {@link #setRow} from the shard row {@code g[from, to)} (float32). */
    public void setRowFrom(int row, float[] g, int from, int to) {
        float first = g[from];
        boolean constant = first == first; // a NaN is never equal, not even to itself
        double max = 0.0;
        for (int i = from; i < to; i++) {
            constant &= g[i] == first;
            max = Math.max(max, Math.abs((double) g[i])); // Math.max: a NaN makes max NaN
        }
        setRow(row, first, constant, max);
    }

    /** {@link #setRow} from the shard row {@code g[from, to)} (float64). */
    public void setRowFrom(int row, double[] g, int from, int to) {
        double first = g[from];
        boolean constant = first == first;
        double max = 0.0;
        for (int i = from; i < to; i++) {
            constant &= g[i] == first;
            max = Math.max(max, Math.abs(g[i]));
        }
        setRow(row, first, constant, max);
    }

    /** {@code max |g|} of row {@code row} in this shard (NaN if a g is NaN); reserved for rescaling. */
    public double maxAbsG(int row) {
        checkRow(row);
        return maxAbsG[row];
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
