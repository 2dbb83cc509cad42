package dev.softmaxbackward.spi;

/**
 * The canonical summation order and rounding steps of {@code docs/numerics.md}, as building blocks
 * every backend shares, so that every backend produces the bits the {@code reference} backend does.
 *
 * <p>A row's two sums, {@code sum(y*g)} and {@code sum(y)}, are formed in this order and no other:
 * <ol>
 *   <li>the row is cut into segments of {@link #SEGMENT} entries (the last one shorter);</li>
 *   <li>inside a segment, entry {@code k} belongs to lane {@code k % }{@link #LANES}, and each lane adds
 *       its entries' terms in increasing index order, starting from zero;</li>
 *   <li>the 32 lane partials are reduced by {@link #reduceLanes(double[])}'s fixed tree;</li>
 *   <li>the segment sums are reduced by {@link #reduceSegments(double[], int)}'s fixed pairwise tree.</li>
 * </ol>
 * For float32 inputs the accumulators are float64 and a term is {@code (double) y * (double) g}, which
 * is exact. For float64 inputs each accumulator is a pair {@code (s, c)}: {@code s} is the plain float64
 * running sum and {@code c} collects the exact rounding errors of every step (TwoSum, and TwoProd with
 * fma for the products), the "Sum2/Dot2" scheme of Ogita, Rump and Oishi. Keeping {@code s} the plain
 * IEEE sum is what makes NaN and infinities propagate exactly as plain arithmetic would: when {@code s}
 * is not finite, {@code s} alone is the sum.
 */
public final class RowNumerics {
    /** Entries per segment: one warp's share of a row on the GPU. */
    public static final int SEGMENT = 4096;
    /** Lanes per segment: a warp. */
    public static final int LANES = 32;

    private RowNumerics() {}

    /** The number of segments a row of {@code cols} entries is cut into. */
    public static int segments(int cols) {
        return (int) (((long) cols + SEGMENT - 1) / SEGMENT); // long: cols near Integer.MAX_VALUE
    }

    // ---- float64 accumulators (float32 inputs) ----------------------------------------------------

    /**
     * Reduces 32 lane partials to {@code v[0]} with the fixed tree
     * {@code for off in 16,8,4,2,1: v[l] = v[l] + v[l+off] for l < off} (a warp's shfl_down reduction).
     */
    public static double reduceLanes(double[] v) {
        for (int off = LANES / 2; off > 0; off >>= 1) {
            for (int l = 0; l < off; l++) {
                v[l] = v[l] + v[l + off];
            }
        }
        return v[0];
    }

    /**
     * Reduces {@code n >= 1} segment sums with the fixed pairwise tree: neighbours are paired
     * (0+1, 2+3, ...), an odd last one passes up unchanged, and this repeats until one is left.
     * Overwrites {@code v[0..n)}.
     */
    public static double reduceSegments(double[] v, int n) {
        while (n > 1) {
            int half = n / 2;
            for (int i = 0; i < half; i++) {
                v[i] = v[2 * i] + v[2 * i + 1];
            }
            if ((n & 1) != 0) {
                v[half] = v[n - 1];
            }
            n = half + (n & 1);
        }
        return v[0];
    }

    /**
     * {@code d} for float32 inputs: the float64 quotient of the two float64 sums, rounded to float32;
     * zero when the sum of y is exactly zero.
     */
    public static float weightedMean(double sumYG, double sumY) {
        return sumY == 0.0 ? 0.0f : (float) (sumYG / sumY);
    }

    /** One output for float32 inputs: {@code y * (g - d)} in float64, rounded once to float32. */
    public static float gradIn(float y, float g, float d) {
        return (float) ((double) y * ((double) g - (double) d));
    }

    // ---- double-double accumulators (float64 inputs) ----------------------------------------------

    /**
     * Adds the pair at {@code from} into the pair at {@code into}: {@code (s, e) = TwoSum(s1, s2)},
     * {@code c = (c1 + c2) + e}. {@code s} stays the plain float64 sum.
     */
    public static void combine(double[] s, double[] c, int into, int from) {
        double a = s[into];
        double b = s[from];
        double sum = a + b;
        double bVirtual = sum - a;
        double error = (a - (sum - bVirtual)) + (b - bVirtual); // TwoSum: exactly a + b - sum
        s[into] = sum;
        c[into] = (c[into] + c[from]) + error;
    }

    /** {@link #reduceLanes(double[])}'s tree on pairs; the result is in {@code s[0], c[0]}. */
    public static void reduceLanes(double[] s, double[] c) {
        for (int off = LANES / 2; off > 0; off >>= 1) {
            for (int l = 0; l < off; l++) {
                combine(s, c, l, l + off);
            }
        }
    }

    /** {@link #reduceSegments(double[], int)}'s tree on pairs; the result is in {@code s[0], c[0]}. */
    public static void reduceSegments(double[] s, double[] c, int n) {
        while (n > 1) {
            int half = n / 2;
            for (int i = 0; i < half; i++) {
                s[i] = s[2 * i];
                c[i] = c[2 * i];
                combine(s, c, i, 2 * i + 1);
            }
            if ((n & 1) != 0) {
                s[half] = s[n - 1];
                c[half] = c[n - 1];
            }
            n = half + (n & 1);
        }
    }

    /** A pair rounded to one float64: {@code s + c}, or {@code s} alone when it is not finite. */
    public static double value(double s, double c) {
        return Double.isFinite(s) ? s + c : s;
    }

    /**
     * {@code d} for float64 inputs, from the pairs {@code (sN, cN) = sum(y*g)} and {@code (sD, cD) = sum(y)}:
     * the double-double quotient rounded to float64 (one Newton correction of {@code sN/sD}, with the
     * remainder formed exactly by fma); zero when the sum of y is exactly zero; and the plain IEEE
     * quotient {@code sN/sD} of the plain sums when either is not finite.
     */
    public static double weightedMean(double sN, double cN, double sD, double cD) {
        if (!(Double.isFinite(sN) && Double.isFinite(sD))) {
            return sD == 0.0 ? 0.0 : sN / sD;
        }
        // Normalise both pairs with TwoSum, so hi is the sum rounded to float64 and lo what is left.
        double dh = sD + cD;
        double dv = dh - sD;
        double dl = (sD - (dh - dv)) + (cD - dv);
        if (dh == 0.0) {
            return 0.0;
        }
        double nh = sN + cN;
        double nv = nh - sN;
        double nl = (sN - (nh - nv)) + (cN - nv);
        double q = nh / dh;
        if (!Double.isFinite(q)) {
            return q; // overflow: fma below would turn it into NaN
        }
        double r = Math.fma(-q, dh, nh); // exact: nh - q*dh
        r = r + nl;
        r = Math.fma(-q, dl, r);
        return q + r / dh;
    }

    /**
     * The constant-row rule, applied after {@code d} is computed: when {@code d != g[from]} and every
     * {@code g[i] == g[from]} (IEEE equality: +0 equals -0, a NaN is never equal), {@code d} becomes
     * {@code g[from]}, so that a constant row gives exact zeros even where the products {@code y*g}
     * underflow or overflow (float64 rows of magnitude near 1e-300 or 1e308). The scan stops at the first
     * differing entry, so on ordinary rows it costs one comparison; when {@code d == g[from]} it is skipped.
     */
    public static float constantRowMean(float d, float[] g, int from, int to) {
        if (from >= to || d == g[from]) { // an empty range first: g[from] may not exist
            return d;
        }
        float first = g[from];
        for (int i = from + 1; i < to; i++) {
            if (g[i] != first) {
                return d;
            }
        }
        return first == first ? first : d;
    }

    /** {@link #constantRowMean(float, float[], int, int)} for float64 rows. */
    public static double constantRowMean(double d, double[] g, int from, int to) {
        if (from >= to || d == g[from]) { // an empty range first: g[from] may not exist
            return d;
        }
        double first = g[from];
        for (int i = from + 1; i < to; i++) {
            if (g[i] != first) {
                return d;
            }
        }
        return first == first ? first : d;
    }

    /** One output for float64 inputs: {@code fl(y * fl(g - d))}, no fma. */
    public static double gradIn(double y, double g, double d) {
        return y * (g - d);
    }
}
