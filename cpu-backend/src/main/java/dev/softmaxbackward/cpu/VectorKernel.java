package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused kernel on JDK 17's incubating Vector API ({@code --add-modules jdk.incubator.vector}).
 *
 * <p>The 32 canonical lanes of a segment are held in local vectors for the whole segment: four
 * vectors of L doubles per sum (L = 8 with AVX-512: lanes 0-7, 8-15, 16-23, 24-31), fed the entries
 * {@code 32j+l..32j+l+L-1}; with L < 8 a segment takes 32/(4L) passes, each over its own group of
 * 4L lanes (lanes are independent sums, so the order within each lane is still the reference's). Only
 * at the segment's end are the lanes stored, then reduced by the fixed tree. Every vector operation is
 * the same IEEE operation lane by lane (float-to-double widening is exact, double-to-float narrowing
 * rounds to nearest even like a Java cast, {@code fma} is one rounding like {@link Math#fma}), so the
 * bits are the reference's.
 *
 * <p>Each dtype has two package-private pieces, so that rows can also be split by segments: the
 * partial sums of a range of segments of one row ({@code sums}), and the outputs of a range of entries
 * given {@code d} ({@code outputs}). Vectors are never passed to a helper: C2 boxes a vector argument
 * of a call it does not inline. Loaded only by name, after checking that the module is in the boot layer.
 */
final class VectorKernel implements RowKernel {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as D, so one float load widens to one double vector. */
    static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    static final int L = D.length();
    /** Lanes held in local vectors per pass over a segment: four vectors. */
    static final int GROUP = 4 * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Whether this machine's preferred shape fits the 32-lane layout (it does on every x86 and ARM). */
    static boolean usable() {
        return L >= 2 && GROUP <= LANES && LANES % GROUP == 0;
    }

    @Override
    public String name() {
        return "vector(" + D.vectorBitSize() + "-bit, " + L + " doubles)";
    }

    private static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
    }

    private static FloatVector narrow(DoubleVector v) {
        return (FloatVector) v.convertShape(VectorOperators.D2F, F, 0);
    }

    // ---- arrays -----------------------------------------------------------------------------------

    @Override
    public void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        sums(g, go, y, yo, cols, 0, segments, s);
        float d = RowNumerics.constantRowMean(ScalarKernel.mean32(s, segments), g, go, go + cols);
        outputs(g, go, y, yo, out, oo, 0, cols, d);
    }

    @Override
    public void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        sums(g, go, y, yo, cols, 0, segments, s);
        double d = RowNumerics.constantRowMean(ScalarKernel.mean64(s, segments), g, go, go + cols);
        if (ScalarKernel.finishedRare(g, go, y, yo, out, oo, cols, s, d)) {
            return;
        }
        outputs(g, go, y, yo, out, oo, 0, cols, d);
    }

    @Override
    public void sums(float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        sums(g, go, y, yo, cols, 0, RowNumerics.segments(cols), s);
    }

    /** Segments {@code [from, to)} of a float32 row of {@code cols}: their partials into {@code s.segAS/segBS}. */
    static void sums(float[] g, int go, float[] y, int yo, int cols, int from, int to, Scratch s) {
        for (int seg = from; seg < to; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int full = length & -LANES;
            for (int lo = 0; lo < LANES; lo += GROUP) {
                DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
                DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                for (int k = 0; k < full; k += LANES) {
                    int yi = yo + start + k + lo;
                    int gi = go + start + k + lo;
                    DoubleVector y0 = widen(FloatVector.fromArray(F, y, yi));
                    DoubleVector y1 = widen(FloatVector.fromArray(F, y, yi + L));
                    DoubleVector y2 = widen(FloatVector.fromArray(F, y, yi + 2 * L));
                    DoubleVector y3 = widen(FloatVector.fromArray(F, y, yi + 3 * L));
                    a0 = a0.add(y0);
                    a1 = a1.add(y1);
                    a2 = a2.add(y2);
                    a3 = a3.add(y3);
                    b0 = b0.add(y0.mul(widen(FloatVector.fromArray(F, g, gi))));
                    b1 = b1.add(y1.mul(widen(FloatVector.fromArray(F, g, gi + L))));
                    b2 = b2.add(y2.mul(widen(FloatVector.fromArray(F, g, gi + 2 * L))));
                    b3 = b3.add(y3.mul(widen(FloatVector.fromArray(F, g, gi + 3 * L))));
                }
                store(s.aS, lo, a0, a1, a2, a3);
                store(s.bS, lo, b0, b1, b2, b3);
            }
            for (int l = 0; l < length - full; l++) {
                double yv = y[yo + start + full + l];
                s.aS[l] = s.aS[l] + yv;
                s.bS[l] = s.bS[l] + yv * (double) g[go + start + full + l];
            }
            s.segAS[seg] = RowNumerics.reduceLanes(s.aS);
            s.segBS[seg] = RowNumerics.reduceLanes(s.bS);
        }
    }

    /** Segments {@code [from, to)} of a float64 row: their double-double partials into {@code s.seg*}. */
    static void sums(double[] g, int go, double[] y, int yo, int cols, int from, int to, Scratch s) {
        for (int seg = from; seg < to; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int full = length & -LANES;
            for (int lo = 0; lo < LANES; lo += GROUP) {
                pass(g, go + start + lo, y, yo + start + lo, full, lo, s);
            }
            for (int l = 0; l < length - full; l++) {
                ScalarKernel.accumulate(s, l, y[yo + start + full + l], g[go + start + full + l]);
            }
            ScalarKernel.finishSegment(s, seg);
        }
    }

    /**
     * Lanes {@code lo..lo+4L-1} of one float64 segment ({@code full} entries, from {@code gi0}/{@code yi0}),
     * into {@code s.aS/aC/bS/bC}. A method of its own, with the stores written out: inside the segment loop
     * the compiled unit grew past C2's inlining node budget, so helpers taking vectors were not inlined and
     * their arguments were boxed (measured: 12 ns per entry instead of 3 on AVX2).
     */
    private static void pass(double[] g, int gi0, double[] y, int yi0, int full, int lo, Scratch s) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        for (int k = 0; k < full; k += LANES) {
            int yi = yi0 + k;
            int gi = gi0 + k;
            // per vector: sum(y) by TwoSum(s, y), c += e; sum(y*g) by TwoProd(y, g) = p + q,
            // TwoSum(s, p), c += q + e. Written out: a helper would box its vector arguments.
            DoubleVector y0 = DoubleVector.fromArray(D, y, yi);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi);
            DoubleVector t = as0.add(y0), v = t.sub(as0);
            ac0 = ac0.add(as0.sub(t.sub(v)).add(y0.sub(v)));
            as0 = t;
            DoubleVector p = y0.mul(g0), q = y0.fma(g0, p.neg());
            t = bs0.add(p);
            v = t.sub(bs0);
            bc0 = bc0.add(q.add(bs0.sub(t.sub(v)).add(p.sub(v))));
            bs0 = t;

            DoubleVector y1 = DoubleVector.fromArray(D, y, yi + L);
            DoubleVector g1 = DoubleVector.fromArray(D, g, gi + L);
            t = as1.add(y1);
            v = t.sub(as1);
            ac1 = ac1.add(as1.sub(t.sub(v)).add(y1.sub(v)));
            as1 = t;
            p = y1.mul(g1);
            q = y1.fma(g1, p.neg());
            t = bs1.add(p);
            v = t.sub(bs1);
            bc1 = bc1.add(q.add(bs1.sub(t.sub(v)).add(p.sub(v))));
            bs1 = t;

            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 2 * L);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 2 * L);
            t = as2.add(y2);
            v = t.sub(as2);
            ac2 = ac2.add(as2.sub(t.sub(v)).add(y2.sub(v)));
            as2 = t;
            p = y2.mul(g2);
            q = y2.fma(g2, p.neg());
            t = bs2.add(p);
            v = t.sub(bs2);
            bc2 = bc2.add(q.add(bs2.sub(t.sub(v)).add(p.sub(v))));
            bs2 = t;

            DoubleVector y3 = DoubleVector.fromArray(D, y, yi + 3 * L);
            DoubleVector g3 = DoubleVector.fromArray(D, g, gi + 3 * L);
            t = as3.add(y3);
            v = t.sub(as3);
            ac3 = ac3.add(as3.sub(t.sub(v)).add(y3.sub(v)));
            as3 = t;
            p = y3.mul(g3);
            q = y3.fma(g3, p.neg());
            t = bs3.add(p);
            v = t.sub(bs3);
            bc3 = bc3.add(q.add(bs3.sub(t.sub(v)).add(p.sub(v))));
            bs3 = t;
        }
        as0.intoArray(s.aS, lo);
        as1.intoArray(s.aS, lo + L);
        as2.intoArray(s.aS, lo + 2 * L);
        as3.intoArray(s.aS, lo + 3 * L);
        ac0.intoArray(s.aC, lo);
        ac1.intoArray(s.aC, lo + L);
        ac2.intoArray(s.aC, lo + 2 * L);
        ac3.intoArray(s.aC, lo + 3 * L);
        bs0.intoArray(s.bS, lo);
        bs1.intoArray(s.bS, lo + L);
        bs2.intoArray(s.bS, lo + 2 * L);
        bs3.intoArray(s.bS, lo + 3 * L);
        bc0.intoArray(s.bC, lo);
        bc1.intoArray(s.bC, lo + L);
        bc2.intoArray(s.bC, lo + 2 * L);
        bc3.intoArray(s.bC, lo + 3 * L);
    }

    /** Entries {@code [from, to)} of a float32 row: {@code y * (g - d)} in float64, rounded once. */
    static void outputs(float[] g, int go, float[] y, int yo, float[] out, int oo, int from, int to, float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = from;
        for (int end = from + ((to - from) & -L); i < end; i += L) {
            DoubleVector yv = widen(FloatVector.fromArray(F, y, yo + i));
            DoubleVector gv = widen(FloatVector.fromArray(F, g, go + i));
            narrow(yv.mul(gv.sub(dv))).intoArray(out, oo + i);
        }
        for (; i < to; i++) {
            out[oo + i] = RowNumerics.gradIn(y[yo + i], g[go + i], d);
        }
    }

    /** Entries {@code [from, to)} of a float64 row: {@code y * (g - d)}. */
    static void outputs(double[] g, int go, double[] y, int yo, double[] out, int oo, int from, int to, double d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = from;
        for (int end = from + ((to - from) & -L); i < end; i += L) {
            DoubleVector yv = DoubleVector.fromArray(D, y, yo + i);
            DoubleVector gv = DoubleVector.fromArray(D, g, go + i);
            yv.mul(gv.sub(dv)).intoArray(out, oo + i);
        }
        for (; i < to; i++) {
            out[oo + i] = RowNumerics.gradIn(y[yo + i], g[go + i], d);
        }
    }

    /** Lanes {@code lo..lo+4L-1} from four vectors, at a segment's end. */
    private static void store(double[] lanes, int lo, DoubleVector v0, DoubleVector v1, DoubleVector v2,
                              DoubleVector v3) {
        v0.intoArray(lanes, lo);
        v1.intoArray(lanes, lo + L);
        v2.intoArray(lanes, lo + 2 * L);
        v3.intoArray(lanes, lo + 3 * L);
    }

    // ---- ND4J's off-heap memory, JDK 17-19 (ByteBuffer; fromByteBuffer is gone from JDK 20) --------
    // The same loops as the arrays' above, on byte offsets.

    @Override
    public void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                              Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        sumsFloat(g, go, y, yo, cols, 0, segments, s);
        float d = ScalarKernel.constantRowMeanFloat(ScalarKernel.mean32(s, segments), g, go, cols);
        outputsFloat(g, go, y, yo, out, oo, 0, cols, d);
    }

    @Override
    public void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                               Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        sumsDouble(g, go, y, yo, cols, 0, segments, s);
        double d = ScalarKernel.constantRowMeanDouble(ScalarKernel.mean64(s, segments), g, go, cols);
        if (ScalarKernel.finishedRare(g, go, y, yo, out, oo, cols, s, d)) {
            return;
        }
        outputsDouble(g, go, y, yo, out, oo, 0, cols, d);
    }

    static void sumsFloat(ByteBuffer g, int go, ByteBuffer y, int yo, int cols, int from, int to, Scratch s) {
        for (int seg = from; seg < to; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int full = length & -LANES;
            for (int lo = 0; lo < LANES; lo += GROUP) {
                DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
                DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                for (int k = 0; k < full; k += LANES) {
                    int yi = yo + 4 * (start + k + lo);
                    int gi = go + 4 * (start + k + lo);
                    DoubleVector y0 = widen(FloatVector.fromByteBuffer(F, y, yi, LE));
                    DoubleVector y1 = widen(FloatVector.fromByteBuffer(F, y, yi + 4 * L, LE));
                    DoubleVector y2 = widen(FloatVector.fromByteBuffer(F, y, yi + 8 * L, LE));
                    DoubleVector y3 = widen(FloatVector.fromByteBuffer(F, y, yi + 12 * L, LE));
                    a0 = a0.add(y0);
                    a1 = a1.add(y1);
                    a2 = a2.add(y2);
                    a3 = a3.add(y3);
                    b0 = b0.add(y0.mul(widen(FloatVector.fromByteBuffer(F, g, gi, LE))));
                    b1 = b1.add(y1.mul(widen(FloatVector.fromByteBuffer(F, g, gi + 4 * L, LE))));
                    b2 = b2.add(y2.mul(widen(FloatVector.fromByteBuffer(F, g, gi + 8 * L, LE))));
                    b3 = b3.add(y3.mul(widen(FloatVector.fromByteBuffer(F, g, gi + 12 * L, LE))));
                }
                store(s.aS, lo, a0, a1, a2, a3);
                store(s.bS, lo, b0, b1, b2, b3);
            }
            for (int l = 0; l < length - full; l++) {
                double yv = y.getFloat(yo + 4 * (start + full + l));
                s.aS[l] = s.aS[l] + yv;
                s.bS[l] = s.bS[l] + yv * (double) g.getFloat(go + 4 * (start + full + l));
            }
            s.segAS[seg] = RowNumerics.reduceLanes(s.aS);
            s.segBS[seg] = RowNumerics.reduceLanes(s.bS);
        }
    }

    static void sumsDouble(ByteBuffer g, int go, ByteBuffer y, int yo, int cols, int from, int to, Scratch s) {
        for (int seg = from; seg < to; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int full = length & -LANES;
            for (int lo = 0; lo < LANES; lo += GROUP) {
                pass(g, go + 8 * (start + lo), y, yo + 8 * (start + lo), full, lo, s);
            }
            for (int l = 0; l < length - full; l++) {
                ScalarKernel.accumulate(s, l, y.getDouble(yo + 8 * (start + full + l)),
                        g.getDouble(go + 8 * (start + full + l)));
            }
            ScalarKernel.finishSegment(s, seg);
        }
    }

    /** {@link #pass(double[], int, double[], int, int, int, Scratch)} on byte offsets into ND4J's memory. */
    private static void pass(ByteBuffer g, int gi0, ByteBuffer y, int yi0, int full, int lo, Scratch s) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        for (int k = 0; k < full; k += LANES) {
            int yi = yi0 + 8 * k;
            int gi = gi0 + 8 * k;
            // per vector: sum(y) by TwoSum(s, y), c += e; sum(y*g) by TwoProd(y, g) = p + q,
            // TwoSum(s, p), c += q + e. Written out: a helper would box its vector arguments.
            DoubleVector y0 = DoubleVector.fromByteBuffer(D, y, yi, LE);
            DoubleVector g0 = DoubleVector.fromByteBuffer(D, g, gi, LE);
            DoubleVector t = as0.add(y0), v = t.sub(as0);
            ac0 = ac0.add(as0.sub(t.sub(v)).add(y0.sub(v)));
            as0 = t;
            DoubleVector p = y0.mul(g0), q = y0.fma(g0, p.neg());
            t = bs0.add(p);
            v = t.sub(bs0);
            bc0 = bc0.add(q.add(bs0.sub(t.sub(v)).add(p.sub(v))));
            bs0 = t;

            DoubleVector y1 = DoubleVector.fromByteBuffer(D, y, yi + 8 * L, LE);
            DoubleVector g1 = DoubleVector.fromByteBuffer(D, g, gi + 8 * L, LE);
            t = as1.add(y1);
            v = t.sub(as1);
            ac1 = ac1.add(as1.sub(t.sub(v)).add(y1.sub(v)));
            as1 = t;
            p = y1.mul(g1);
            q = y1.fma(g1, p.neg());
            t = bs1.add(p);
            v = t.sub(bs1);
            bc1 = bc1.add(q.add(bs1.sub(t.sub(v)).add(p.sub(v))));
            bs1 = t;

            DoubleVector y2 = DoubleVector.fromByteBuffer(D, y, yi + 16 * L, LE);
            DoubleVector g2 = DoubleVector.fromByteBuffer(D, g, gi + 16 * L, LE);
            t = as2.add(y2);
            v = t.sub(as2);
            ac2 = ac2.add(as2.sub(t.sub(v)).add(y2.sub(v)));
            as2 = t;
            p = y2.mul(g2);
            q = y2.fma(g2, p.neg());
            t = bs2.add(p);
            v = t.sub(bs2);
            bc2 = bc2.add(q.add(bs2.sub(t.sub(v)).add(p.sub(v))));
            bs2 = t;

            DoubleVector y3 = DoubleVector.fromByteBuffer(D, y, yi + 24 * L, LE);
            DoubleVector g3 = DoubleVector.fromByteBuffer(D, g, gi + 24 * L, LE);
            t = as3.add(y3);
            v = t.sub(as3);
            ac3 = ac3.add(as3.sub(t.sub(v)).add(y3.sub(v)));
            as3 = t;
            p = y3.mul(g3);
            q = y3.fma(g3, p.neg());
            t = bs3.add(p);
            v = t.sub(bs3);
            bc3 = bc3.add(q.add(bs3.sub(t.sub(v)).add(p.sub(v))));
            bs3 = t;
        }
        as0.intoArray(s.aS, lo);
        as1.intoArray(s.aS, lo + L);
        as2.intoArray(s.aS, lo + 2 * L);
        as3.intoArray(s.aS, lo + 3 * L);
        ac0.intoArray(s.aC, lo);
        ac1.intoArray(s.aC, lo + L);
        ac2.intoArray(s.aC, lo + 2 * L);
        ac3.intoArray(s.aC, lo + 3 * L);
        bs0.intoArray(s.bS, lo);
        bs1.intoArray(s.bS, lo + L);
        bs2.intoArray(s.bS, lo + 2 * L);
        bs3.intoArray(s.bS, lo + 3 * L);
        bc0.intoArray(s.bC, lo);
        bc1.intoArray(s.bC, lo + L);
        bc2.intoArray(s.bC, lo + 2 * L);
        bc3.intoArray(s.bC, lo + 3 * L);
    }

    static void outputsFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int from, int to,
                             float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = from;
        for (int end = from + ((to - from) & -L); i < end; i += L) {
            DoubleVector yv = widen(FloatVector.fromByteBuffer(F, y, yo + 4 * i, LE));
            DoubleVector gv = widen(FloatVector.fromByteBuffer(F, g, go + 4 * i, LE));
            narrow(yv.mul(gv.sub(dv))).intoByteBuffer(out, oo + 4 * i, LE);
        }
        for (; i < to; i++) {
            out.putFloat(oo + 4 * i, RowNumerics.gradIn(y.getFloat(yo + 4 * i), g.getFloat(go + 4 * i), d));
        }
    }

    static void outputsDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int from, int to,
                              double d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = from;
        for (int end = from + ((to - from) & -L); i < end; i += L) {
            DoubleVector yv = DoubleVector.fromByteBuffer(D, y, yo + 8 * i, LE);
            DoubleVector gv = DoubleVector.fromByteBuffer(D, g, go + 8 * i, LE);
            yv.mul(gv.sub(dv)).intoByteBuffer(out, oo + 8 * i, LE);
        }
        for (; i < to; i++) {
            out.putDouble(oo + 8 * i, RowNumerics.gradIn(y.getDouble(yo + 8 * i), g.getDouble(go + 8 * i), d));
        }
    }
}
