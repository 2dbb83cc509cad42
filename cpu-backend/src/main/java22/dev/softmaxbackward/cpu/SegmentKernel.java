package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The JDK 22+ variant of the Vector API kernel for INDArrays (in the multi-release jar's
 * {@code META-INF/versions/22}): ND4J's off-heap rows are read and written in place through
 * {@link MemorySegment#ofBuffer} and {@code fromMemorySegment}/{@code intoMemorySegment}, final API
 * from JDK 22 ({@code FloatVector.fromByteBuffer}, which the JDK 17 kernel uses, was removed in JDK 20).
 * The lanes, trees and rounding steps are those of {@link VectorKernel} (see there), so the bits are
 * the reference's. Arrays go to the JDK 17 array kernel unchanged. Loaded by name by {@link Kernels}.
 */
final class SegmentKernel implements RowKernel {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final int L = D.length();
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

    private static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
    }

    private static FloatVector narrow(DoubleVector v) {
        return (FloatVector) v.convertShape(VectorOperators.D2F, F, 0);
    }

    @Override
    public void backwardFloat(ByteBuffer gb, int go, ByteBuffer yb, int yo, ByteBuffer ob, int oo, int cols,
                              Scratch s) {
        if (cols == 0) {
            return;
        }
        MemorySegment g = MemorySegment.ofBuffer(gb);
        MemorySegment y = MemorySegment.ofBuffer(yb);
        int segments = RowNumerics.segments(cols);
        double[] a = s.aS;
        double[] b = s.bS;
        for (int seg = 0; seg < segments; seg++) {
            long gs = go + 4L * seg * SEGMENT;
            long ys = yo + 4L * seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - seg * SEGMENT);
            Arrays.fill(a, 0.0);
            Arrays.fill(b, 0.0);
            int full = length & -LANES;
            for (int k = 0; k < full; k += LANES) {
                for (int l = 0; l < LANES; l += L) {
                    DoubleVector yv = widen(FloatVector.fromMemorySegment(F, y, ys + 4L * (k + l), LE));
                    DoubleVector gv = widen(FloatVector.fromMemorySegment(F, g, gs + 4L * (k + l), LE));
                    DoubleVector.fromArray(D, a, l).add(yv).intoArray(a, l);
                    DoubleVector.fromArray(D, b, l).add(yv.mul(gv)).intoArray(b, l);
                }
            }
            for (int l = 0; l < length - full; l++) {
                double yv = yb.getFloat((int) (ys + 4L * (full + l)));
                a[l] = a[l] + yv;
                b[l] = b[l] + yv * (double) gb.getFloat((int) (gs + 4L * (full + l)));
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
            s.segBS[seg] = RowNumerics.reduceLanes(b);
        }
        double sumY = RowNumerics.reduceSegments(s.segAS, segments);
        double sumYG = RowNumerics.reduceSegments(s.segBS, segments);
        float d = ScalarKernel.constantRowMeanFloat(RowNumerics.weightedMean(sumYG, sumY), gb, go, cols);
        MemorySegment o = MemorySegment.ofBuffer(ob);
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = 0;
        for (int end = cols & -L; i < end; i += L) {
            DoubleVector yv = widen(FloatVector.fromMemorySegment(F, y, yo + 4L * i, LE));
            DoubleVector gv = widen(FloatVector.fromMemorySegment(F, g, go + 4L * i, LE));
            narrow(yv.mul(gv.sub(dv))).intoMemorySegment(o, oo + 4L * i, LE);
        }
        for (; i < cols; i++) {
            ob.putFloat(oo + 4 * i, (float) ((double) yb.getFloat(yo + 4 * i) * ((double) gb.getFloat(go + 4 * i) - d)));
        }
    }

    @Override
    public void backwardDouble(ByteBuffer gb, int go, ByteBuffer yb, int yo, ByteBuffer ob, int oo, int cols,
                               Scratch s) {
        if (cols == 0) {
            return;
        }
        MemorySegment g = MemorySegment.ofBuffer(gb);
        MemorySegment y = MemorySegment.ofBuffer(yb);
        int segments = RowNumerics.segments(cols);
        double[] aS = s.aS;
        double[] aC = s.aC;
        double[] bS = s.bS;
        double[] bC = s.bC;
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            s.clearLanes();
            int full = length & -LANES;
            for (int k = 0; k < full; k += LANES) {
                long yi = yo + 8L * (start + k);
                long gi = go + 8L * (start + k);
                for (int l = 0; l < LANES; l += L) {
                    DoubleVector yv = DoubleVector.fromMemorySegment(D, y, yi + 8L * l, LE);
                    DoubleVector gv = DoubleVector.fromMemorySegment(D, g, gi + 8L * l, LE);
                    // as in VectorKernel.backward(double[], ...), inline
                    DoubleVector sv = DoubleVector.fromArray(D, aS, l);
                    DoubleVector sum = sv.add(yv);
                    DoubleVector v = sum.sub(sv);
                    DoubleVector e = sv.sub(sum.sub(v)).add(yv.sub(v));
                    sum.intoArray(aS, l);
                    DoubleVector.fromArray(D, aC, l).add(e).intoArray(aC, l);
                    DoubleVector p = yv.mul(gv);
                    DoubleVector q = yv.fma(gv, p.neg());
                    sv = DoubleVector.fromArray(D, bS, l);
                    sum = sv.add(p);
                    v = sum.sub(sv);
                    e = sv.sub(sum.sub(v)).add(p.sub(v));
                    sum.intoArray(bS, l);
                    DoubleVector.fromArray(D, bC, l).add(q.add(e)).intoArray(bC, l);
                }
            }
            for (int l = 0; l < length - full; l++) {
                ScalarKernel.accumulate(s, l, yb.getDouble(yo + 8 * (start + full + l)),
                        gb.getDouble(go + 8 * (start + full + l)));
            }
            ScalarKernel.finishSegment(s, seg);
        }
        double d = ScalarKernel.constantRowMeanDouble(ScalarKernel.mean64(s, segments), gb, go, cols);
        MemorySegment o = MemorySegment.ofBuffer(ob);
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = 0;
        for (int end = cols & -L; i < end; i += L) {
            DoubleVector yv = DoubleVector.fromMemorySegment(D, y, yo + 8L * i, LE);
            DoubleVector gv = DoubleVector.fromMemorySegment(D, g, go + 8L * i, LE);
            yv.mul(gv.sub(dv)).intoMemorySegment(o, oo + 8L * i, LE);
        }
        for (; i < cols; i++) {
            ob.putDouble(oo + 8 * i, yb.getDouble(yo + 8 * i) * (gb.getDouble(go + 8 * i) - d));
        }
    }
}
