package dev.softmaxbackward;

import dev.softmaxbackward.spi.Arguments;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.List;

/**
 * The backward pass for rows cut into column shards (vocab parallel), with the bits of the unsharded
 * pass. A batch of {@code rows} rows of {@code V} columns is cut at the same columns in every row into
 * shards {@code 0..n-1}; every cut is a multiple of {@link RowNumerics#SEGMENT}, so each shard holds
 * whole segments of the canonical order (only the last shard may end in a short segment).
 *
 * <ol>
 *   <li><b>Phase 1</b>, per shard, where the shard lives:
 *       {@link SoftmaxBackwardBackend#shardPartials(float[], float[], int, int)} gives the shard's
 *       {@link ShardPartials}: each row's per-segment sums, and whether its {@code g} is constant.</li>
 *   <li><b>Exchange</b>: bring every shard's partials to one place (per row or per batch), and call
 *       {@link #meansFloat(List)} / {@link #meansDouble(List)} with them <em>in shard order</em>. They
 *       concatenate the segment sums, reduce them with the canonical segment tree (so the sums are
 *       exactly the unsharded row's), and form {@code d} with the unsharded rounding steps, including
 *       the constant-row rule: the whole row is constant exactly when every shard is constant with
 *       an equal ({@code ==}) first value.</li>
 *   <li><b>Phase 2</b>, per shard: {@link SoftmaxBackwardBackend#shardBackward(float[], float[], float[], float[], int, int)}
 *       writes {@code gradIn = y * (g - d)} for the shard's columns.</li>
 * </ol>
 * Per row and shard, the exchange moves {@code segments} partials of 16 bytes (float32: two float64;
 * float64: 32 bytes, two pairs) plus 17 bytes of row summary, against {@code 4} or {@code 8} bytes per
 * column of data.
 *
 * <p>float64 rows whose sums overflow are rescaled without another exchange: phase 1 already
 * recomputes each overflowed segment at its own scale, and the shards' {@code max |g|, max |y|} give
 * the row's scale, so {@link #meansDouble} forms the unsharded row's rescaled {@code d}
 * ({@link RowNumerics#rescaledMean(double, double, int, double[], double[], double[], double[], int[], int[])}).
 * Phase 2's outputs follow {@link RowNumerics#gradIn(double, double, double)}, overflow rule included.
 */
public final class ShardedBackward {
    private ShardedBackward() {}

    /** Each row's {@code d} from float32 shards' partials, given in shard order. */
    public static float[] meansFloat(List<ShardPartials> shards) {
        int rows = check(shards, false);
        float[] means = new float[rows];
        double[] y = new double[totalSegments(shards)];
        double[] yg = new double[y.length];
        for (int r = 0; r < rows; r++) {
            int n = gather(shards, r, y, null, yg, null);
            float d = RowNumerics.weightedMean(RowNumerics.reduceSegments(yg, n), RowNumerics.reduceSegments(y, n));
            means[r] = constantRow(d, shards, r) ? (float) shards.get(0).firstG(r) : d;
        }
        return means;
    }

    /** Each row's {@code d} from float64 shards' partials, given in shard order. */
    public static double[] meansDouble(List<ShardPartials> shards) {
        int rows = check(shards, true);
        double[] means = new double[rows];
        int total = totalSegments(shards);
        double[] yS = new double[total];
        double[] yC = new double[total];
        double[] ygS = new double[total];
        double[] ygC = new double[total];
        for (int r = 0; r < rows; r++) {
            int n = gather(shards, r, yS, yC, ygS, ygC);
            RowNumerics.reduceSegments(yS, yC, n);
            RowNumerics.reduceSegments(ygS, ygC, n);
            double d = RowNumerics.weightedMean(ygS[0], ygC[0], yS[0], yC[0]);
            if (RowNumerics.overflowed(yS[0], ygS[0])) {
                d = rescaledMean(d, shards, r, yS, yC, ygS, ygC);
            }
            means[r] = constantRow(d, shards, r) ? shards.get(0).firstG(r) : d;
        }
        return means;
    }

    /**
     * Row {@code r}'s segment partials of every shard, laid side by side in shard order (which is the
     * unsharded row's segment order, so that reducing them follows the canonical order); the error
     * terms too unless {@code yC} and {@code ygC} are null (float32). Returns how many segments.
     */
    private static int gather(List<ShardPartials> shards, int r, double[] yS, double[] yC, double[] ygS,
                              double[] ygC) {
        int n = 0;
        for (ShardPartials p : shards) {
            for (int s = 0; s < p.segments(); s++, n++) {
                yS[n] = p.sumY(r, s);
                ygS[n] = p.sumYG(r, s);
                if (yC != null) {
                    yC[n] = p.sumYErr(r, s);
                    ygC[n] = p.sumYGErr(r, s);
                }
            }
        }
        return n;
    }

    /**
     * Row {@code r}'s rescaled {@code d} from every shard's segments (the scaled partials where phase 1
     * made them), or {@code d} itself when an entry of the row is NaN or infinite.
     */
    private static double rescaledMean(double d, List<ShardPartials> shards, int r, double[] yS, double[] yC,
                                       double[] ygS, double[] ygC) {
        double maxG = 0.0;
        double maxY = 0.0;
        for (ShardPartials p : shards) {
            maxG = Math.max(maxG, p.maxAbsG(r));
            maxY = Math.max(maxY, p.maxAbsY(r));
        }
        if (!(Double.isFinite(maxG) && Double.isFinite(maxY))) {
            return d;
        }
        int[] kG = new int[yS.length];
        int[] kY = new int[yS.length];
        int n = 0;
        for (ShardPartials p : shards) {
            for (int s = 0; s < p.segments(); s++, n++) {
                boolean scaled = p.scaled(r, s);
                yS[n] = scaled ? p.scaledPartial(r, s, 0) : p.sumY(r, s);
                yC[n] = scaled ? p.scaledPartial(r, s, 1) : p.sumYErr(r, s);
                ygS[n] = scaled ? p.scaledPartial(r, s, 2) : p.sumYG(r, s);
                ygC[n] = scaled ? p.scaledPartial(r, s, 3) : p.sumYGErr(r, s);
                kG[n] = scaled ? p.scaleG(r, s) : 0;
                kY[n] = scaled ? p.scaleY(r, s) : 0;
            }
        }
        return RowNumerics.rescaledMean(maxG, maxY, n, yS, yC, ygS, ygC, kG, kY);
    }

    /**
     * Checks that a cut at {@code column} (the first column of shard {@code shard}) is a multiple of
     * {@link RowNumerics#SEGMENT}; the message names the shard and the column.
     */
    public static void requireAlignedCut(int shard, long column) {
        if (column % RowNumerics.SEGMENT != 0) {
            throw new IllegalArgumentException("shard " + shard + " starts at column " + column
                    + ", a cut that is not a multiple of " + RowNumerics.SEGMENT + " (RowNumerics.SEGMENT)");
        }
    }

    /**
     * The constant-row rule of {@link RowNumerics#constantRowMean(double, double[], int, int)} across
     * shards: {@code d != g[0]} of the row and every shard is constant with a first value {@code ==} it.
     */
    private static boolean constantRow(double d, List<ShardPartials> shards, int r) {
        double first = shards.get(0).firstG(r);
        if (d == first) {
            return false;
        }
        for (ShardPartials p : shards) {
            if (!p.constantG(r) || p.firstG(r) != first) {
                return false;
            }
        }
        return true;
    }

    private static int check(List<ShardPartials> shards, boolean float64) {
        Arguments.notNull(shards, "shards");
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("shards is empty: a row has at least one shard");
        }
        int rows = Arguments.notNull(shards.get(0), "shards[0]").rows();
        long column = 0;
        for (int i = 0; i < shards.size(); i++) {
            ShardPartials p = Arguments.notNull(shards.get(i), "shards[" + i + "]");
            if (p.isFloat64() != float64) {
                throw new IllegalArgumentException("shards[" + i + "] holds " + (p.isFloat64() ? "float64" : "float32")
                        + " partials, expected " + (float64 ? "float64" : "float32"));
            }
            if (p.rows() != rows) {
                throw new IllegalArgumentException("shards[" + i + "].rows " + p.rows() + " != shards[0].rows " + rows);
            }
            requireAlignedCut(i, column);
            column += p.cols();
        }
        return rows;
    }

    private static int totalSegments(List<ShardPartials> shards) {
        long n = 0;
        for (ShardPartials p : shards) {
            n += p.segments();
        }
        return Math.toIntExact(n);
    }
}
