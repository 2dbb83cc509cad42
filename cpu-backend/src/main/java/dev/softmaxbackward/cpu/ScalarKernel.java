package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;

import dev.softmaxbackward.spi.RowNumerics;
import java.nio.ByteBuffer;

/**
 * The fused kernel in plain Java: used when the Vector API module is not in the boot layer (or is
 * switched off). Same canonical order as the reference. Each segment is swept once per group of a few
 * lanes, whose sums stay in locals for the whole segment (independent chains, no load and store of a
 * lane array per entry), and C2 compiles it to scalar code; except float32 rows on JDK 20+, whose
 * auto-vectoriser converts float to double ({@link #VECTORIZES_FLOATS}). INDArray rows are staged
 * through the heap ({@link StagedKernel}); float16/bfloat16 rows of every kernel go through
 * {@link #backward16}.
 */
final class ScalarKernel implements RowKernel {
    static final ScalarKernel INSTANCE = new ScalarKernel();

    private ScalarKernel() {}

    @Override
    public String name() {
        return "scalar";
    }

    // ---- float32 ----------------------------------------------------------------------------------

    @Override
    public void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        if (cols > 0) {
            sums(g, go, y, yo, cols, s);
            float mean = mean32(s, RowNumerics.segments(cols));
            outputs(g, go, y, yo, out, oo, cols, RowNumerics.constantRowMean(mean, g, go, go + cols));
        }
    }

    /**
     * A float32 row's outputs {@code y * (g - d)}, each rounded once (given {@code d}). On JDK 20+ C2 compiles
     * the plain loop to vector code ({@link #VECTORIZES_FLOATS}). On JDK 17-19 it is scalar, and with the plain
     * loop the row ran 2.5 x slower for the whole run in about half the JVMs, with the same compilations
     * logged: [4096,1024], one thread, 15.0-16.8 ms a call against 6.0-7.2, in 7 of 15 JVMs (why, not found).
     * With only this loop changed to four entries a step, their loads first, 15 of 15 ran 5.7-9.4 ms
     * (bench/results/cpu-stop31.md §2). On JDK 25 that form is not vectorized: 5.2 ms against 3.6.
     */
    static void outputs(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, float d) {
        int i = 0;
        if (!VECTORIZES_FLOATS) {
            double dd = d;
            for (int end = cols & -4; i < end; i += 4) {
                double y0 = y[yo + i], y1 = y[yo + i + 1], y2 = y[yo + i + 2], y3 = y[yo + i + 3];
                double g0 = g[go + i], g1 = g[go + i + 1], g2 = g[go + i + 2], g3 = g[go + i + 3];
                out[oo + i] = (float) (y0 * (g0 - dd)); // RowNumerics.gradIn, written out
                out[oo + i + 1] = (float) (y1 * (g1 - dd));
                out[oo + i + 2] = (float) (y2 * (g2 - dd));
                out[oo + i + 3] = (float) (y3 * (g3 - dd));
            }
        }
        for (; i < cols; i++) {
            out[oo + i] = RowNumerics.gradIn(y[yo + i], g[go + i], d);
        }
    }

    /**
     * Whether C2 compiles the plain float32 loops to vector code: since JDK 20 its auto-vectoriser converts
     * float to double (JDK-8283091). Then the sums sweep each segment once, 32 entries at a time into the
     * lane arrays ({@link #addTail(float[], int, float[], int, int, Scratch)}); otherwise they take eight
     * passes of four lanes in locals, scalar code. Measured (bench/results/cpu-stop31.md §1, one thread,
     * [4096,1024], paired with C): on JDK 25 the sweep ran at 0.52-0.55 x C against 0.49-0.57 for the
     * passes (the sums alone, [1024,32768]: 0.70 ns an entry against 1.31; a row in L1, 0.59 against
     * 0.81); on JDK 17, scalar, at 0.24-0.28 against 0.41-0.43, so JDK 17-19 keep the passes. The same
     * lanes in the same order either way. JDK 21 was not measured.
     */
    private static final boolean VECTORIZES_FLOATS = Runtime.version().feature() >= 20;

    @Override
    public void sums(float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        if (VECTORIZES_FLOATS) {
            SegmentWalk.walk(cols, (seg, start, full, length) -> {
                s.clearLanes32();
                for (int k = 0; k < length; k += LANES) {
                    addTail(g, go + start + k, y, yo + start + k, Math.min(LANES, length - k), s);
                }
                finish32(s, seg);
            });
        } else {
            SegmentWalk.walk(cols, (seg, start, full, length) -> {
                for (int lo = 0; lo < LANES; lo += 4) {
                    pass(g, go + start + lo, y, yo + start + lo, full, lo, s);
                }
                finishSegment(g, go + start + full, y, yo + start + full, length - full, seg, s);
            });
        }
    }

    /**
     * The last {@code n < 32} entries of a float32 segment into lanes {@code 0..n-1} (after the passes
     * over its full groups of 32), then the segment's partials into {@code s.segAS/segBS}.
     */
    static void finishSegment(float[] g, int gi, float[] y, int yi, int n, int seg, Scratch s) {
        addTail(g, gi, y, yi, n, s);
        finish32(s, seg);
    }

    /** {@code n <= 32} consecutive entries of a float32 segment, the first in lane 0, into lanes {@code 0..n-1}. */
    static void addTail(float[] g, int gi, float[] y, int yi, int n, Scratch s) {
        for (int l = 0; l < n; l++) {
            add(s, l, y[yi + l], g[gi + l]);
        }
    }

    /** {@link #finishSegment(float[], int, float[], int, int, int, Scratch)} for float64 (double-double). */
    static void finishSegment(double[] g, int gi, double[] y, int yi, int n, int seg, Scratch s) {
        addTail(g, gi, y, yi, n, s);
        finishSegment(s, seg);
    }

    /** The last {@code n < 32} entries of a float64 segment into lanes {@code 0..n-1}. */
    static void addTail(double[] g, int gi, double[] y, int yi, int n, Scratch s) {
        addTail(g, gi, y, yi, n, 0, s);
    }

    /** {@code n} entries of a float64 segment into lane positions {@code first..first+n-1}. */
    static void addTail(double[] g, int gi, double[] y, int yi, int n, int first, Scratch s) {
        for (int l = 0; l < n; l++) {
            accumulate(s, first + l, y[yi + l], g[gi + l]);
        }
    }

    /** {@link #addTail} on a buffer row of float64 ({@code f64}) or float32 entries, at byte offsets. */
    static void addTail(ByteBuffer g, int gi, ByteBuffer y, int yi, int n, boolean f64, Scratch s) {
        if (f64) {
            for (int l = 0; l < n; l++) {
                accumulate(s, l, y.getDouble(yi + 8 * l), g.getDouble(gi + 8 * l));
            }
        } else {
            for (int l = 0; l < n; l++) {
                add(s, l, y.getFloat(yi + 4 * l), g.getFloat(gi + 4 * l));
            }
        }
    }

    /** One float32 entry into lane {@code l} of both float64 sums. */
    private static void add(Scratch s, int l, double yv, double gv) {
        s.aS[l] = s.aS[l] + yv;
        s.bS[l] = s.bS[l] + yv * gv;
    }

    /** Reduces the float32 rows' lanes into segment {@code seg}'s partials. */
    static void finish32(Scratch s, int seg) {
        s.segAS[seg] = RowNumerics.reduceLanes(s.aS);
        s.segBS[seg] = RowNumerics.reduceLanes(s.bS);
    }

    /**
     * Lanes {@code lo..lo+3} of one float32 segment ({@code full} entries from {@code gi0}/{@code yi0})
     * into {@code s.aS/bS}. Four lanes in locals for the whole segment, not 32 in an array: each lane is
     * still its own sum in the reference's order, but no lane is loaded and stored at every entry, and
     * the four sums are independent chains.
     */
    private static void pass(float[] g, int gi0, float[] y, int yi0, int full, int lo, Scratch s) {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        for (int k = 0; k < full; k += LANES) {
            int yi = yi0 + k;
            int gi = gi0 + k;
            double y0 = y[yi], y1 = y[yi + 1], y2 = y[yi + 2], y3 = y[yi + 3];
            a0 += y0;
            a1 += y1;
            a2 += y2;
            a3 += y3;
            b0 += y0 * (double) g[gi];
            b1 += y1 * (double) g[gi + 1];
            b2 += y2 * (double) g[gi + 2];
            b3 += y3 * (double) g[gi + 3];
        }
        store(s.aS, lo, a0, a1, a2, a3);
        store(s.bS, lo, b0, b1, b2, b3);
    }

    private static void store(double[] lanes, int lo, double v0, double v1, double v2, double v3) {
        lanes[lo] = v0;
        lanes[lo + 1] = v1;
        lanes[lo + 2] = v2;
        lanes[lo + 3] = v3;
    }

    /** Staged through the heap: a bulk copy and the array loop beat {@code getFloat} per entry. */
    @Override
    public void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                              Scratch s) {
        StagedKernel.backwardFloat(this, g, go, y, yo, out, oo, cols, s);
    }

    /**
     * float16 ({@code bf16 == false}) or bfloat16 rows: entries widen exactly to float, then exactly the
     * float32 steps (float64 sums, {@code d} rounded to float32), and each output {@code y * (g - d)},
     * evaluated in float64, is rounded once, to nearest even, to the 16-bit format.
     */
    static void backward16(RowKernel kernel, boolean bf16, ByteBuffer g, int go, ByteBuffer y, int yo,
                           ByteBuffer out, int oo, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        // Widened once into float rows (exact), so the sums run in the float32 kernel (vectorised when
        // it is), and the outputs read floats; out may alias g, which is read in full first.
        float[] gr = s.floats(0);
        float[] yr = s.floats(1);
        for (int i = 0; i < cols; i++) {
            gr[i] = Float16.toFloat(bf16, g.getShort(go + 2 * i));
            yr[i] = Float16.toFloat(bf16, y.getShort(yo + 2 * i));
        }
        kernel.sums(gr, 0, yr, 0, cols, s);
        float d = RowNumerics.constantRowMean(mean32(s, RowNumerics.segments(cols)), gr, 0, cols);
        for (int i = 0; i < cols; i++) {
            out.putShort(oo + 2 * i, Float16.fromDouble(bf16, (double) yr[i] * ((double) gr[i] - d)));
        }
    }

    // ---- float64 ----------------------------------------------------------------------------------

    @Override
    public void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        if (cols > 0) {
            sums(g, go, y, yo, cols, s);
            double d = RowNumerics.constantRowMean(mean64(s, RowNumerics.segments(cols)), g, go, go + cols);
            if (!finishedRare(g, go, y, yo, out, oo, cols, s, d)) {
                outputs(g, go, y, yo, out, oo, cols, d);
            }
        }
    }

    /** The double-double sums of a float64 row, segment by segment, into {@code s.segAS/segAC/segBS/segBC}. */
    static void sums(double[] g, int go, double[] y, int yo, int cols, Scratch s) {
        SegmentWalk.walk(cols, (seg, start, full, length) -> {
            for (int lo = 0; lo < LANES; lo += 4) {
                pass(g, go + start + lo, y, yo + start + lo, full, lo, s);
            }
            finishSegment(g, go + start + full, y, yo + start + full, length - full, seg, s);
        });
    }

    /** A float64 row's outputs {@code y * (g - d)} (given {@code d}). */
    static void outputs(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, double d) {
        if (RowNumerics.gradInIsPlain(d)) {
            // gradIn without its rescaled branch, which it never takes here: C2 vectorizes this loop, not
            // gradIn's (in cache 0.24-0.30 ns an entry against 0.97-1.64; bench/results/cpu-stop31.md §6)
            for (int i = 0; i < cols; i++) {
                out[oo + i] = y[yo + i] * (g[go + i] - d);
            }
        } else {
            for (int i = 0; i < cols; i++) {
                out[oo + i] = RowNumerics.gradIn(y[yo + i], g[go + i], d);
            }
        }
    }

    /**
     * Lanes {@code lo..lo+3} of one float64 segment into {@code s.aS/aC/bS/bC}, as {@link #accumulate} step
     * for step, with the sixteen sums in locals for the whole segment. Four lanes, not two: eight passes
     * over a segment instead of sixteen. The sums alone (bench/results/probes/LaneSweepProbe.java, one
     * thread): memory-bound 2.95-2.96 ns an entry against 3.30-3.43, in L1 2.08-2.13 against 2.19-2.20
     * (JDK 17 and 25); with {@code -XX:UseAVX=2} (16 vector registers, as on AVX2 machines) 3.30 against
     * 3.49, and the same in L1.
     */
    private static void pass(double[] g, int gi0, double[] y, int yi0, int full, int lo, Scratch s) {
        double as0 = 0, ac0 = 0, bs0 = 0, bc0 = 0, as1 = 0, ac1 = 0, bs1 = 0, bc1 = 0;
        double as2 = 0, ac2 = 0, bs2 = 0, bc2 = 0, as3 = 0, ac3 = 0, bs3 = 0, bc3 = 0;
        for (int k = 0; k < full; k += LANES) {
            int yi = yi0 + k;
            int gi = gi0 + k;
            double y0 = y[yi], g0 = g[gi], y1 = y[yi + 1], g1 = g[gi + 1];
            double y2 = y[yi + 2], g2 = g[gi + 2], y3 = y[yi + 3], g3 = g[gi + 3];
            // per lane: TwoSum(as, y), ac += e; TwoProd(y, g) = p + q, TwoSum(bs, p), bc += q + e
            double t = as0 + y0, v = t - as0;
            ac0 = ac0 + ((as0 - (t - v)) + (y0 - v));
            as0 = t;
            double p = y0 * g0, q = Math.fma(y0, g0, -p);
            t = bs0 + p;
            v = t - bs0;
            bc0 = bc0 + (q + ((bs0 - (t - v)) + (p - v)));
            bs0 = t;
            t = as1 + y1;
            v = t - as1;
            ac1 = ac1 + ((as1 - (t - v)) + (y1 - v));
            as1 = t;
            p = y1 * g1;
            q = Math.fma(y1, g1, -p);
            t = bs1 + p;
            v = t - bs1;
            bc1 = bc1 + (q + ((bs1 - (t - v)) + (p - v)));
            bs1 = t;
            t = as2 + y2;
            v = t - as2;
            ac2 = ac2 + ((as2 - (t - v)) + (y2 - v));
            as2 = t;
            p = y2 * g2;
            q = Math.fma(y2, g2, -p);
            t = bs2 + p;
            v = t - bs2;
            bc2 = bc2 + (q + ((bs2 - (t - v)) + (p - v)));
            bs2 = t;
            t = as3 + y3;
            v = t - as3;
            ac3 = ac3 + ((as3 - (t - v)) + (y3 - v));
            as3 = t;
            p = y3 * g3;
            q = Math.fma(y3, g3, -p);
            t = bs3 + p;
            v = t - bs3;
            bc3 = bc3 + (q + ((bs3 - (t - v)) + (p - v)));
            bs3 = t;
        }
        store(s.aS, lo, as0, as1, as2, as3);
        store(s.aC, lo, ac0, ac1, ac2, ac3);
        store(s.bS, lo, bs0, bs1, bs2, bs3);
        store(s.bC, lo, bc0, bc1, bc2, bc3);
    }

    /** Staged through the heap, as {@link #backwardFloat}. */
    @Override
    public void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                               Scratch s) {
        StagedKernel.backwardDouble(this, g, go, y, yo, out, oo, cols, s);
    }

    /** One entry into lane {@code l} of both double-double sums, exactly the reference's steps. */
    static void accumulate(Scratch s, int l, double yv, double gv) {
        // sum(y): TwoSum(s, y), c += e
        s.aC[l] = s.aC[l] + twoSum(s.aS, l, yv);
        // sum(y*g): TwoProd(y, g) = p + q, TwoSum(s, p), c += q + e
        double p = yv * gv;
        double q = Math.fma(yv, gv, -p);
        s.bC[l] = s.bC[l] + (q + twoSum(s.bS, l, p));
    }

    /** TwoSum: {@code sums[l] + x} into {@code sums[l]}; returns the rounding error of that sum. */
    static double twoSum(double[] sums, int l, double x) {
        double s = sums[l];
        double sum = s + x;
        double v = sum - s;
        sums[l] = sum;
        return (s - (sum - v)) + (x - v);
    }

    /** Reduces the lanes of both double-double sums into segment {@code seg}'s partials. */
    static void finishSegment(Scratch s, int seg) {
        finishSegment(s, seg, LANES);
    }

    /**
     * {@link #finishSegment(Scratch, int)} with only the levels of the lane tree below {@code width}: the
     * Vector API kernels do the levels above on vectors ({@link VectorKernel#finishSegment64}).
     */
    static void finishSegment(Scratch s, int seg, int width) {
        RowNumerics.reduceLanes(s.aS, s.aC, width);
        RowNumerics.reduceLanes(s.bS, s.bC, width);
        s.segAS[seg] = s.aS[0];
        s.segAC[seg] = s.aC[0];
        s.segBS[seg] = s.bS[0];
        s.segBC[seg] = s.bC[0];
    }

    // ---- the constant-row rule (RowNumerics.constantRowMean) on buffers ------------------------------

    /**
     * RowNumerics.constantRowMean on a buffer row of {@code width}-byte entries (8: float64, 4: float32,
     * widened exactly, which keeps IEEE equality): when {@code d != g[0]} and every {@code g[i] == g[0]},
     * {@code d} becomes {@code g[0]} (unless it is NaN), so a constant row gives exact zeros whatever
     * the sums did. A float32 {@code d} comes back exactly.
     */
    static double constantRowMean(double d, ByteBuffer g, int go, int cols, int width) {
        if (cols <= 0) {
            return d;
        }
        double first = entry(g, go, width);
        if (d == first) {
            return d;
        }
        for (int i = 1; i < cols; i++) {
            if (entry(g, go + width * i, width) != first) {
                return d;
            }
        }
        return !Double.isNaN(first) ? first : d;
    }

    private static double entry(ByteBuffer b, int at, int width) {
        return width == 8 ? b.getDouble(at) : b.getFloat(at);
    }

    /** The scalar outputs {@code y * (g - d)} of entries {@code [from, to)} of a float32 buffer row. */
    static void outputs(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int from, int to, float d) {
        for (int i = from; i < to; i++) {
            out.putFloat(oo + 4 * i, RowNumerics.gradIn(y.getFloat(yo + 4 * i), g.getFloat(go + 4 * i), d));
        }
    }

    static void outputs(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int from, int to,
                        double d) {
        for (int i = from; i < to; i++) {
            out.putDouble(oo + 8 * i, RowNumerics.gradIn(y.getDouble(yo + 8 * i), g.getDouble(go + 8 * i), d));
        }
    }

    /** The segment tree over both float64 sums, then {@code d} for float32 (and 16-bit) inputs. */
    static float mean32(Scratch s, int segments) {
        double sumY = RowNumerics.reduceSegments(s.segAS, segments);
        double sumYG = RowNumerics.reduceSegments(s.segBS, segments);
        return RowNumerics.weightedMean(sumYG, sumY);
    }

    /**
     * Every float64 kernel's one test per row after {@link #mean64} (which leaves the plain sums in
     * {@code segAS[0]}, {@code segBS[0]}): when {@link RowNumerics#needsFinishRow} picks the row (sums
     * that overflowed, {@code |d| >= 2^970}, NaN), core's {@link RowNumerics#finishRow} computes its
     * outputs and this returns true; the fast output loop is never reached for it.
     */
    static boolean finishedRare(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s,
                                double d) {
        if (!RowNumerics.needsFinishRow(s.segAS[0], s.segBS[0], d)) {
            return false;
        }
        RowNumerics.finishRow(g, go, y, yo, out, oo, cols, s.segAS[0], s.segBS[0], d);
        return true;
    }

    /** {@link #finishedRare(double[], int, double[], int, double[], int, int, Scratch, double)} on INDArray rows, via the heap. */
    static boolean finishedRare(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                                Scratch s, double d) {
        if (!RowNumerics.needsFinishRow(s.segAS[0], s.segBS[0], d)) {
            return false;
        }
        double[] gr = StagedKernel.copy(g, go, s.doubles(0), cols, 0, s);
        double[] yr = StagedKernel.copy(y, yo, s.doubles(1), cols, 1, s);
        RowNumerics.finishRow(gr, 0, yr, 0, gr, 0, cols, s.segAS[0], s.segBS[0], d);
        StagedKernel.copy(gr, out, oo, cols, 2, s);
        return true;
    }

    /** The segment tree over both sums, then {@code d} for float64 inputs. */
    static double mean64(Scratch s, int segments) {
        RowNumerics.reduceSegments(s.segAS, s.segAC, segments);
        RowNumerics.reduceSegments(s.segBS, s.segBC, segments);
        return RowNumerics.weightedMean(s.segBS[0], s.segBC[0], s.segAS[0], s.segAC[0]);
    }
}
