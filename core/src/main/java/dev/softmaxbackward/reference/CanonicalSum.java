package dev.softmaxbackward.reference;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import java.util.Arrays;
import java.util.function.IntToDoubleFunction;

/**
 * The canonical summation order, written out step by step: segments of 4096 entries, 32 lanes per
 * segment each adding its entries in index order, the fixed lane tree, the pairwise segment tree.
 * Scratch space (32 lane partials and one partial per segment) is allocated once per call of the
 * backend, sized by {@code cols / 4096}, and reused for every row.
 */
final class CanonicalSum {
    /** A double-double sum: {@code s} is the plain float64 sum, {@code c} the sum of its rounding errors. */
    record Pair(double s, double c) {
        double value() {
            return RowNumerics.value(s, c);
        }
    }

    private final double[] laneS = new double[LANES];
    private final double[] laneC = new double[LANES];
    private final double[] segmentS;
    private final double[] segmentC;

    CanonicalSum(int cols) {
        int segments = Math.max(1, RowNumerics.segments(cols));
        segmentS = new double[segments];
        segmentC = new double[segments];
    }

    /** Sum of {@code term(k)} for k in [0, cols), float64 accumulators (for float32 inputs). */
    double plain(int cols, IntToDoubleFunction term) {
        if (cols == 0) {
            return 0.0;
        }
        return RowNumerics.reduceSegments(segmentS, plainSegments(cols, term));
    }

    /**
     * The segment sums of {@link #plain} before the segment tree: fills {@link #segment(int)} for every
     * segment of a non-empty row and returns how many there are (phase 1 of a shard).
     */
    int plainSegments(int cols, IntToDoubleFunction term) {
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            // Every lane starts from +0.0; entry k of the segment goes to lane k % 32, in index order.
            Arrays.fill(laneS, 0.0);
            for (int k = 0; k < length; k++) {
                int lane = k % LANES;
                laneS[lane] = laneS[lane] + term.applyAsDouble(start + k);
            }
            segmentS[seg] = RowNumerics.reduceLanes(laneS);
        }
        return segments;
    }

    /** Segment {@code i}'s sum from the last {@code *Segments} call. */
    double segment(int i) {
        return segmentS[i];
    }

    /** Segment {@code i}'s error term from the last {@link #doubleDoubleSegments} call. */
    double segmentError(int i) {
        return segmentC[i];
    }

    /**
     * Double-double sum of {@code term(k)} (float64 inputs): per lane {@code (s, e) = TwoSum(s, x)},
     * {@code c = c + e}.
     */
    Pair compensated(int cols, IntToDoubleFunction term) {
        return doubleDouble(cols, term, null);
    }

    /**
     * Double-double sum of the products {@code a(k) * b(k)} (float64 inputs): per lane
     * {@code p = a*b}, {@code q = fma(a, b, -p)} (TwoProd: {@code p + q} is the exact product),
     * {@code (s, e) = TwoSum(s, p)}, {@code c = c + (q + e)}.
     */
    Pair compensatedDot(int cols, IntToDoubleFunction a, IntToDoubleFunction b) {
        return doubleDouble(cols, a, b);
    }

    private Pair doubleDouble(int cols, IntToDoubleFunction a, IntToDoubleFunction b) {
        if (cols == 0) {
            return new Pair(0.0, 0.0);
        }
        int segments = doubleDoubleSegments(cols, a, b);
        RowNumerics.reduceSegments(segmentS, segmentC, segments);
        return new Pair(segmentS[0], segmentC[0]);
    }

    /**
     * The segment pairs of {@link #compensated} ({@code b == null}) or {@link #compensatedDot} before
     * the segment tree: fills {@link #segment(int)} and {@link #segmentError(int)} for every segment of
     * a non-empty row and returns how many there are (phase 1 of a shard).
     */
    int doubleDoubleSegments(int cols, IntToDoubleFunction a, IntToDoubleFunction b) {
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            Arrays.fill(laneS, 0.0);
            Arrays.fill(laneC, 0.0);
            for (int k = 0; k < length; k++) {
                int lane = k % LANES;
                double x;
                double productError;
                if (b == null) {
                    x = a.applyAsDouble(start + k);
                    productError = Double.NaN; // unused: a plain term has no product error
                } else {
                    double ak = a.applyAsDouble(start + k);
                    double bk = b.applyAsDouble(start + k);
                    x = ak * bk;
                    productError = Math.fma(ak, bk, -x);
                }
                // TwoSum (Knuth): sum is the rounded s + x, error the exact remainder, with no branch.
                double s = laneS[lane];
                double sum = s + x;
                double xVirtual = sum - s;
                double error = (s - (sum - xVirtual)) + (x - xVirtual);
                laneS[lane] = sum;
                laneC[lane] = b == null ? laneC[lane] + error : laneC[lane] + (productError + error);
            }
            RowNumerics.reduceLanes(laneS, laneC);
            segmentS[seg] = laneS[0];
            segmentC[seg] = laneC[0];
        }
        return segments;
    }
}
