package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.VectorKernel.D;
import static dev.softmaxbackward.cpu.VectorKernel.F;
import static dev.softmaxbackward.cpu.VectorKernel.GROUP;
import static dev.softmaxbackward.cpu.VectorKernel.L;
import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The JDK 22+ variant of the Vector API kernel for INDArrays (in the multi-release jar's
 * {@code META-INF/versions/22}): ND4J's off-heap rows are read and written in place through
 * {@link MemorySegment#ofBuffer} and {@code fromMemorySegment}/{@code intoMemorySegment}, final API
 * from JDK 22 ({@code FloatVector.fromByteBuffer}, which the JDK 17 kernel uses, was removed in JDK 20).
 * The loops are {@link VectorKernel}'s ByteBuffer loops, access for access (lanes in local vectors for
 * a whole segment, the same trees and rounding steps), so the bits are the reference's. Arrays go to
 * the JDK 17 array kernel unchanged. Loaded by name by {@link Kernels}.
 */
final class SegmentKernel implements RowKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final RowKernel arrays;

    SegmentKernel(RowKernel arrays) {
        this.arrays = arrays;
    }

    @Override
    public String name() {
        return arrays.name() + ", INDArrays through MemorySegment";
    }

    @Override
    public void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        arrays.backward(g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        arrays.backward(g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public void sums(float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        arrays.sums(g, go, y, yo, cols, s);
    }

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
        MemorySegment gm = MemorySegment.ofBuffer(g);
        MemorySegment ym = MemorySegment.ofBuffer(y);
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
                    DoubleVector y0 = widen(FloatVector.fromMemorySegment(F, ym, yi, LE));
                    DoubleVector y1 = widen(FloatVector.fromMemorySegment(F, ym, yi + 4 * L, LE));
                    DoubleVector y2 = widen(FloatVector.fromMemorySegment(F, ym, yi + 8 * L, LE));
                    DoubleVector y3 = widen(FloatVector.fromMemorySegment(F, ym, yi + 12 * L, LE));
                    a0 = a0.add(y0);
                    a1 = a1.add(y1);
                    a2 = a2.add(y2);
                    a3 = a3.add(y3);
                    b0 = b0.add(y0.mul(widen(FloatVector.fromMemorySegment(F, gm, gi, LE))));
                    b1 = b1.add(y1.mul(widen(FloatVector.fromMemorySegment(F, gm, gi + 4 * L, LE))));
                    b2 = b2.add(y2.mul(widen(FloatVector.fromMemorySegment(F, gm, gi + 8 * L, LE))));
                    b3 = b3.add(y3.mul(widen(FloatVector.fromMemorySegment(F, gm, gi + 12 * L, LE))));
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
        MemorySegment gm = MemorySegment.ofBuffer(g);
        MemorySegment ym = MemorySegment.ofBuffer(y);
        for (int seg = from; seg < to; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int full = length & -LANES;
            for (int lo = 0; lo < LANES; lo += GROUP) {
                pass(gm, go + 8L * (start + lo), ym, yo + 8L * (start + lo), full, lo, s);
            }
            for (int l = 0; l < length - full; l++) {
                ScalarKernel.accumulate(s, l, y.getDouble(yo + 8 * (start + full + l)),
                        g.getDouble(go + 8 * (start + full + l)));
            }
            ScalarKernel.finishSegment(s, seg);
        }
    }

    /**
     * Lanes {@code lo..lo+4L-1} of one float64 segment, as {@link VectorKernel}'s {@code pass}: a method
     * of its own so that C2 inlines everything in it and keeps the 16 vectors in registers (inside the
     * segment loop the unit outgrew C2's inlining budget and vectors were boxed).
     */
    private static void pass(MemorySegment gm, long gi0, MemorySegment ym, long yi0, int full, int lo, Scratch s) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        for (int k = 0; k < full; k += LANES) {
            long yi = yi0 + 8L * k;
            long gi = gi0 + 8L * k;
            // per vector: sum(y) by TwoSum(s, y), c += e; sum(y*g) by TwoProd(y, g) = p + q,
            // TwoSum(s, p), c += q + e. Written out: a helper would box its vector arguments.
            DoubleVector y0 = DoubleVector.fromMemorySegment(D, ym, yi, LE);
            DoubleVector g0 = DoubleVector.fromMemorySegment(D, gm, gi, LE);
            DoubleVector t = as0.add(y0), v = t.sub(as0);
            ac0 = ac0.add(as0.sub(t.sub(v)).add(y0.sub(v)));
            as0 = t;
            DoubleVector p = y0.mul(g0), q = y0.fma(g0, p.neg());
            t = bs0.add(p);
            v = t.sub(bs0);
            bc0 = bc0.add(q.add(bs0.sub(t.sub(v)).add(p.sub(v))));
            bs0 = t;

            DoubleVector y1 = DoubleVector.fromMemorySegment(D, ym, yi + 8 * L, LE);
            DoubleVector g1 = DoubleVector.fromMemorySegment(D, gm, gi + 8 * L, LE);
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

            DoubleVector y2 = DoubleVector.fromMemorySegment(D, ym, yi + 16 * L, LE);
            DoubleVector g2 = DoubleVector.fromMemorySegment(D, gm, gi + 16 * L, LE);
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

            DoubleVector y3 = DoubleVector.fromMemorySegment(D, ym, yi + 24 * L, LE);
            DoubleVector g3 = DoubleVector.fromMemorySegment(D, gm, gi + 24 * L, LE);
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
        MemorySegment gm = MemorySegment.ofBuffer(g);
        MemorySegment ym = MemorySegment.ofBuffer(y);
        MemorySegment om = MemorySegment.ofBuffer(out);
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = from;
        for (int end = from + ((to - from) & -L); i < end; i += L) {
            DoubleVector yv = widen(FloatVector.fromMemorySegment(F, ym, yo + 4 * i, LE));
            DoubleVector gv = widen(FloatVector.fromMemorySegment(F, gm, go + 4 * i, LE));
            narrow(yv.mul(gv.sub(dv))).intoMemorySegment(om, oo + 4 * i, LE);
        }
        for (; i < to; i++) {
            out.putFloat(oo + 4 * i, RowNumerics.gradIn(y.getFloat(yo + 4 * i), g.getFloat(go + 4 * i), d));
        }
    }

    static void outputsDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int from, int to,
                              double d) {
        MemorySegment gm = MemorySegment.ofBuffer(g);
        MemorySegment ym = MemorySegment.ofBuffer(y);
        MemorySegment om = MemorySegment.ofBuffer(out);
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = from;
        for (int end = from + ((to - from) & -L); i < end; i += L) {
            DoubleVector yv = DoubleVector.fromMemorySegment(D, ym, yo + 8 * i, LE);
            DoubleVector gv = DoubleVector.fromMemorySegment(D, gm, go + 8 * i, LE);
            yv.mul(gv.sub(dv)).intoMemorySegment(om, oo + 8 * i, LE);
        }
        for (; i < to; i++) {
            out.putDouble(oo + 8 * i, RowNumerics.gradIn(y.getDouble(yo + 8 * i), g.getDouble(go + 8 * i), d));
        }
    }

    private static void store(double[] lanes, int lo, DoubleVector v0, DoubleVector v1, DoubleVector v2,
                              DoubleVector v3) {
        v0.intoArray(lanes, lo);
        v1.intoArray(lanes, lo + L);
        v2.intoArray(lanes, lo + 2 * L);
        v3.intoArray(lanes, lo + 3 * L);
    }

    private static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
    }

    private static FloatVector narrow(DoubleVector v) {
        return (FloatVector) v.convertShape(VectorOperators.D2F, F, 0);
    }
}
