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
        return reduceLanes(v, LANES);
    }

    /**
     * The levels of {@link #reduceLanes(double[])}'s tree below {@code width} (a power of two up to
     * {@link #LANES}): {@code off = width/2, ..., 1}, over lanes {@code 0..width-1}; returns {@code v[0]}.
     * A backend that did the levels {@code off >= width} itself, lane by lane with the same adds, finishes
     * here.
     */
    public static double reduceLanes(double[] v, int width) {
        for (int off = width / 2; off > 0; off >>= 1) {
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
        reduceLanes(s, c, LANES);
    }

    /**
     * The levels of {@link #reduceLanes(double[], double[])}'s tree below {@code width} (a power of two
     * up to {@link #LANES}): {@code off = width/2, ..., 1}, over lanes {@code 0..width-1}. A backend that
     * did the levels {@code off >= width} itself, lane by lane with the same operations, finishes here.
     */
    public static void reduceLanes(double[] s, double[] c, int width) {
        for (int off = width / 2; off > 0; off >>= 1) {
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
        int i = from >= to || d == g[from] ? to + 1 : from + 1; // an empty range first: g[from] may not exist
        while (i < to && g[i] == g[from]) {
            i++;
        }
        return i == to && !Float.isNaN(g[from]) ? g[from] : d;
    }

    /** {@link #constantRowMean(float, float[], int, int)} for float64 rows (the kernels' loop per dtype: no lambda per row). */
    public static double constantRowMean(double d, double[] g, int from, int to) {
        int i = from >= to || d == g[from] ? to + 1 : from + 1;
        while (i < to && g[i] == g[from]) {
            i++;
        }
        return i == to && !Double.isNaN(g[from]) ? g[from] : d;
    }

    /**
     * One output for float64 inputs: {@code fl(y * fl(g - d))}, no fma; where {@code g - d} overflows
     * although {@code g} and {@code d} are finite, {@code 2 * fl(y * fl(g/2 - d/2))}. Then both
     * {@code |g|, |d| >= 2^970}, so the halving is exact and the result is the unscaled formula's in an
     * unbounded exponent range: finite exactly when the output itself is representable.
     */
    public static double gradIn(double y, double g, double d) {
        double t = g - d;
        if (Double.isInfinite(t) && Double.isFinite(g) && Double.isFinite(d)) {
            return 2.0 * (y * (0.5 * g - 0.5 * d));
        }
        return y * t;
    }

    /**
     * Whether {@link #gradIn(double, double, double)} with this {@code d} is {@code fl(y * fl(g - d))} for
     * every {@code y} and {@code g}: when {@code |d| < 2^970}, no {@code g - d} with a finite {@code g}
     * overflows (and a non-finite {@code g} never takes the rescaled branch). A loop over a row that knows it
     * can leave that branch out, and C2 vectorizes the loop only without it.
     */
    public static boolean gradInIsPlain(double d) {
        return Math.abs(d) < WIDE_MEAN;
    }

    // ---- float64 rows near overflow (docs/numerics.md §2, float64 steps 3a and 5) -------------------

    /**
     * Scaled maxima stay below {@code 2^(SCALE_TARGET + 1)}: then a scaled product {@code y*g} is below
     * {@code 2^990}, every sum of a row of fewer than {@code 2^31} entries below {@code 2^1021}, and the
     * scaled sum of y below {@code 2^526}: the rescaled sums cannot overflow.
     */
    public static final int SCALE_TARGET = 494;

    /** With {@code |d|} below this, no {@code g - d} with a finite {@code g} rounds to infinity (numerics §5.5). */
    private static final double WIDE_MEAN = 0x1p970;

    /**
     * Whether a double-double sum's plain parts are not both finite: for a whole row, the row then takes
     * {@link #rescaledMean(double[], int, double[], int, int, double)}; for one segment, its partials are
     * recomputed scaled ({@link #scaledSegment}).
     */
    public static boolean overflowed(double sY, double sYG) {
        return !(Double.isFinite(sY) && Double.isFinite(sYG));
    }

    /**
     * The per-row test the fast kernels run after {@code d} (scalar work, once per row): true when the
     * row's plain sums {@code sY, sYG} are not finite or {@code |d| >= 2^970} (or NaN); such a row is
     * handed whole to {@link #finishRow}. On every other row {@link #finishRow} gives the fast path's
     * bits ({@code fl(y * fl(g - d))}), so the test only decides speed.
     */
    public static boolean needsFinishRow(double sY, double sYG, double d) {
        return overflowed(sY, sYG) || !gradInIsPlain(d);
    }

    /**
     * The steps of a float64 row after its sums (the reference runs it on every row, the fast kernels on
     * the rows {@link #needsFinishRow} picks), given the row's plain sums and its {@code d} (after the
     * constant-row rule): when the sums overflowed, {@code d} is recomputed by
     * {@link #rescaledMean(double[], int, double[], int, int, double)} and the constant-row rule applied
     * again; then every output is {@link #gradIn(double, double, double)}. {@code out} may be {@code g}
     * at the same offset: all of {@code g} is read before the first write.
     */
    public static void finishRow(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols,
                               double sY, double sYG, double d) {
        if (overflowed(sY, sYG)) {
            d = constantRowMean(rescaledMean(g, go, y, yo, cols, d), g, go, go + cols);
        }
        for (int i = 0; i < cols; i++) {
            out[oo + i] = gradIn(y[yo + i], g[go + i], d);
        }
    }

    /**
     * {@code d} of a float64 row whose plain sums overflowed, recomputed scaled (docs/numerics.md §2,
     * float64 step 3a); the given {@code d} when an entry of the row is NaN or infinite (the plain sums
     * then decide, as for every row with special values). Each segment's partials are the canonical
     * ones, or, where those overflowed, {@link #scaledSegment}'s; then
     * {@link #rescaledMean(double, double, int, double[], double[], double[], double[], int[], int[])}.
     */
    public static double rescaledMean(double[] g, int go, double[] y, int yo, int cols, double d) {
        double maxG = maxAbs(g, go, cols);
        double maxY = maxAbs(y, yo, cols);
        if (!(Double.isFinite(maxG) && Double.isFinite(maxY))) {
            return d;
        }
        int n = segments(cols);
        double[] yS = new double[n];
        double[] yC = new double[n];
        double[] ygS = new double[n];
        double[] ygC = new double[n];
        int[] kG = new int[n];
        int[] kY = new int[n];
        double[] seg = new double[6];
        for (int s = 0; s < n; s++) {
            int start = s * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            segmentPairs(g, go + start, y, yo + start, length, 0, 0, seg);
            if (overflowed(seg[0], seg[2])) {
                scaledSegment(g, go + start, y, yo + start, length, seg);
            }
            yS[s] = seg[0];
            yC[s] = seg[1];
            ygS[s] = seg[2];
            ygC[s] = seg[3];
            kG[s] = (int) seg[4];
            kY[s] = (int) seg[5];
        }
        return rescaledMean(maxG, maxY, n, yS, yC, ygS, ygC, kG, kY);
    }

    /**
     * One segment's partials recomputed scaled, for a segment whose canonical partials overflowed: with
     * {@code kG = scaleExponent(max|g|)}, {@code kY = scaleExponent(max|y|)} over the segment, the
     * canonical in-segment sums of {@code y' = fl(y * 2^-kY)} and {@code y' * g'}, {@code g' = fl(g * 2^-kG)},
     * into {@code res = {sY, cY, sYG, cYG, kG, kY}}. Returns false, leaving {@code res} alone, when an
     * entry of the segment is not finite (then the row is never rescaled).
     */
    public static boolean scaledSegment(double[] g, int go, double[] y, int yo, int length, double[] res) {
        double maxG = maxAbs(g, go, length);
        double maxY = maxAbs(y, yo, length);
        if (!(Double.isFinite(maxG) && Double.isFinite(maxY))) {
            return false;
        }
        segmentPairs(g, go, y, yo, length, scaleExponent(maxG), scaleExponent(maxY), res);
        return true;
    }

    /**
     * {@code d} of a rescaled row from its segments' partials in order, each at its own scale
     * ({@code kG[s], kY[s]}: zero for canonical partials) and the row's {@code max|g|, max|y|}: with
     * {@code KG = scaleExponent(maxG)}, {@code KY = scaleExponent(maxY)}, every component of segment
     * {@code s} is multiplied by {@code 2^(kY[s] - KY)} (sums of y) or {@code 2^(kG[s] - KG + kY[s] - KY)}
     * (sums of y*g), the two pair lists are reduced by the segment tree, and {@code d} is
     * {@code weightedMean} of them times {@code 2^KG}. Overwrites the arrays. The sharded path calls this
     * with the partials of every shard, so it gives the unsharded bits.
     */
    public static double rescaledMean(double maxG, double maxY, int n, double[] yS, double[] yC, double[] ygS,
                                      double[] ygC, int[] kG, int[] kY) {
        int rowG = scaleExponent(maxG);
        int rowY = scaleExponent(maxY);
        for (int s = 0; s < n; s++) {
            double fy = pow2(kY[s] - rowY);
            double fyg = pow2(kG[s] - rowG + kY[s] - rowY);
            yS[s] = yS[s] * fy;
            yC[s] = yC[s] * fy;
            ygS[s] = ygS[s] * fyg;
            ygC[s] = ygC[s] * fyg;
        }
        reduceSegments(yS, yC, n);
        reduceSegments(ygS, ygC, n);
        return weightedMean(ygS[0], ygC[0], yS[0], yC[0]) * pow2(rowG);
    }

    /** {@code max(0, exponent(max) - SCALE_TARGET)}: the power of two a row or segment is scaled down by. */
    public static int scaleExponent(double max) {
        return Math.max(0, Math.getExponent(max) - SCALE_TARGET);
    }

    /** {@code 2^e} for {@code -1074 <= e <= 1023}, exactly (subnormal below -1022). */
    static double pow2(int e) {
        return e >= Double.MIN_EXPONENT ? Double.longBitsToDouble((long) (e + 1023) << 52)
                : Double.longBitsToDouble(1L << (e + 1074));
    }

    /** {@code max |x[from, from + n)|}, NaN if one is NaN (Math.max), 0 when empty. */
    public static double maxAbs(double[] x, int from, int n) {
        double max = 0.0;
        for (int i = from; i < from + n; i++) {
            max = Math.max(max, Math.abs(x[i]));
        }
        return max;
    }

    /**
     * The canonical in-segment double-double sums (lanes, lane tree) of {@code y' = fl(y * 2^-kY)} and of
     * {@code y' * g'}, {@code g' = fl(g * 2^-kG)}, into {@code res = {sY, cY, sYG, cYG, kG, kY}}. With
     * {@code kG = kY = 0} these are the fast kernels' segment partials, bit for bit.
     */
    private static void segmentPairs(double[] g, int go, double[] y, int yo, int length, int kG, int kY,
                                     double[] res) {
        double fg = pow2(-kG);
        double fy = pow2(-kY);
        double[] aS = new double[LANES];
        double[] aC = new double[LANES];
        double[] bS = new double[LANES];
        double[] bC = new double[LANES];
        for (int k = 0; k < length; k++) {
            int l = k % LANES;
            double yv = y[yo + k] * fy;
            double gv = g[go + k] * fg;
            double s = aS[l];
            double sum = s + yv;
            double v = sum - s;
            aC[l] = aC[l] + ((s - (sum - v)) + (yv - v));
            aS[l] = sum;
            double p = yv * gv;
            double q = Math.fma(yv, gv, -p);
            s = bS[l];
            sum = s + p;
            v = sum - s;
            bC[l] = bC[l] + (q + ((s - (sum - v)) + (p - v)));
            bS[l] = sum;
        }
        reduceLanes(aS, aC);
        reduceLanes(bS, bC);
        res[0] = aS[0];
        res[1] = aC[0];
        res[2] = bS[0];
        res[3] = bC[0];
        res[4] = kG;
        res[5] = kY;
    }
}
