package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused kernel on JDK 17's incubating Vector API ({@code --add-modules jdk.incubator.vector}).
 * The 32 canonical lanes are 32/L vectors of L doubles (L = 8 with AVX-512): a vector at lane offset
 * {@code l} holds lanes {@code l..l+L-1} and is fed the entries {@code 32j+l..32j+l+L-1}, so every lane
 * sees exactly the reference's additions in the reference's order; every vector operation is the
 * same IEEE operation lane by lane (float-to-double widening is exact, double-to-float narrowing
 * rounds to nearest even like a Java cast, {@code fma} is one rounding like {@link Math#fma}).
 * Loaded only by name, after checking that the module is in the boot layer.
 */
final class VectorKernel implements RowKernel {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as D, so one float load widens to one double vector. */
    private static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final int L = D.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Whether this machine's preferred shape fits the 32-lane layout (it does on every x86 and ARM). */
    static boolean usable() {
        return L >= 2 && LANES % L == 0;
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

    // ---- float32 ----------------------------------------------------------------------------------

    @Override
    public void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        double[] a = s.aS;
        double[] b = s.bS;
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            Arrays.fill(a, 0.0);
            Arrays.fill(b, 0.0);
            int full = length & -LANES;
            for (int k = 0; k < full; k += LANES) {
                int yi = yo + start + k;
                int gi = go + start + k;
                for (int l = 0; l < LANES; l += L) {
                    DoubleVector yv = widen(FloatVector.fromArray(F, y, yi + l));
                    DoubleVector gv = widen(FloatVector.fromArray(F, g, gi + l));
                    DoubleVector.fromArray(D, a, l).add(yv).intoArray(a, l);
                    DoubleVector.fromArray(D, b, l).add(yv.mul(gv)).intoArray(b, l);
                }
            }
            for (int l = 0; l < length - full; l++) {
                double yv = y[yo + start + full + l];
                a[l] = a[l] + yv;
                b[l] = b[l] + yv * (double) g[go + start + full + l];
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
            s.segBS[seg] = RowNumerics.reduceLanes(b);
        }
        double sumY = RowNumerics.reduceSegments(s.segAS, segments);
        double sumYG = RowNumerics.reduceSegments(s.segBS, segments);
        float d = RowNumerics.constantRowMean(RowNumerics.weightedMean(sumYG, sumY), g, go, go + cols);
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = 0;
        for (int end = cols & -L; i < end; i += L) {
            DoubleVector yv = widen(FloatVector.fromArray(F, y, yo + i));
            DoubleVector gv = widen(FloatVector.fromArray(F, g, go + i));
            narrow(yv.mul(gv.sub(dv))).intoArray(out, oo + i);
        }
        for (; i < cols; i++) {
            out[oo + i] = (float) ((double) y[yo + i] * ((double) g[go + i] - d));
        }
    }

    @Override
    public void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                              Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            segmentFloat(g, go + 4 * start, y, yo + 4 * start, Math.min(SEGMENT, cols - start), s.aS, s.bS);
            s.segAS[seg] = RowNumerics.reduceLanes(s.aS);
            s.segBS[seg] = RowNumerics.reduceLanes(s.bS);
        }
        double sumY = RowNumerics.reduceSegments(s.segAS, segments);
        double sumYG = RowNumerics.reduceSegments(s.segBS, segments);
        float d = ScalarKernel.constantRowMeanFloat(RowNumerics.weightedMean(sumYG, sumY), g, go, cols);
        outputsFloat(g, go, y, yo, out, oo, cols, d);
    }

    /** One segment's 32 lane sums of y and y*g, from byte offsets {@code go}, {@code yo}. Kept small for C2. */
    private static void segmentFloat(ByteBuffer g, int go, ByteBuffer y, int yo, int length, double[] a, double[] b) {
        Arrays.fill(a, 0.0);
        Arrays.fill(b, 0.0);
        int full = length & -LANES;
        for (int k = 0; k < full; k += LANES) {
            for (int l = 0; l < LANES; l += L) {
                DoubleVector yv = widen(FloatVector.fromByteBuffer(F, y, yo + 4 * (k + l), LE));
                DoubleVector gv = widen(FloatVector.fromByteBuffer(F, g, go + 4 * (k + l), LE));
                DoubleVector.fromArray(D, a, l).add(yv).intoArray(a, l);
                DoubleVector.fromArray(D, b, l).add(yv.mul(gv)).intoArray(b, l);
            }
        }
        for (int l = 0; l < length - full; l++) {
            double yv = y.getFloat(yo + 4 * (full + l));
            a[l] = a[l] + yv;
            b[l] = b[l] + yv * (double) g.getFloat(go + 4 * (full + l));
        }
    }

    private static void outputsFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                                     float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = 0;
        for (int end = cols & -L; i < end; i += L) {
            DoubleVector yv = widen(FloatVector.fromByteBuffer(F, y, yo + 4 * i, LE));
            DoubleVector gv = widen(FloatVector.fromByteBuffer(F, g, go + 4 * i, LE));
            narrow(yv.mul(gv.sub(dv))).intoByteBuffer(out, oo + 4 * i, LE);
        }
        for (; i < cols; i++) {
            out.putFloat(oo + 4 * i, (float) ((double) y.getFloat(yo + 4 * i) * ((double) g.getFloat(go + 4 * i) - d)));
        }
    }

    // ---- float64 ----------------------------------------------------------------------------------

    @Override
    public void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
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
                int yi = yo + start + k;
                int gi = go + start + k;
                for (int l = 0; l < LANES; l += L) {
                    DoubleVector yv = DoubleVector.fromArray(D, y, yi + l);
                    DoubleVector gv = DoubleVector.fromArray(D, g, gi + l);
                    // written out here, not in a helper: vectors passed to a call C2 does not inline are boxed
                    // sum(y): TwoSum(s, y), c += e
                    DoubleVector sv = DoubleVector.fromArray(D, aS, l);
                    DoubleVector sum = sv.add(yv);
                    DoubleVector v = sum.sub(sv);
                    DoubleVector e = sv.sub(sum.sub(v)).add(yv.sub(v));
                    sum.intoArray(aS, l);
                    DoubleVector.fromArray(D, aC, l).add(e).intoArray(aC, l);
                    // sum(y*g): TwoProd(y, g) = p + q, TwoSum(s, p), c += q + e
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
                ScalarKernel.accumulate(s, l, y[yo + start + full + l], g[go + start + full + l]);
            }
            ScalarKernel.finishSegment(s, seg);
        }
        double d = RowNumerics.constantRowMean(ScalarKernel.mean64(s, segments), g, go, go + cols);
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = 0;
        for (int end = cols & -L; i < end; i += L) {
            DoubleVector yv = DoubleVector.fromArray(D, y, yo + i);
            DoubleVector gv = DoubleVector.fromArray(D, g, go + i);
            yv.mul(gv.sub(dv)).intoArray(out, oo + i);
        }
        for (; i < cols; i++) {
            out[oo + i] = y[yo + i] * (g[go + i] - d);
        }
    }

    @Override
    public void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                               Scratch s) {
        if (cols == 0) {
            return;
        }
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
                int yi = yo + 8 * (start + k);
                int gi = go + 8 * (start + k);
                for (int l = 0; l < LANES; l += L) {
                    DoubleVector yv = DoubleVector.fromByteBuffer(D, y, yi + 8 * l, LE);
                    DoubleVector gv = DoubleVector.fromByteBuffer(D, g, gi + 8 * l, LE);
                    // as in backward(double[], ...), inline
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
                ScalarKernel.accumulate(s, l, y.getDouble(yo + 8 * (start + full + l)), g.getDouble(go + 8 * (start + full + l)));
            }
            ScalarKernel.finishSegment(s, seg);
        }
        double d = ScalarKernel.constantRowMeanDouble(ScalarKernel.mean64(s, segments), g, go, cols);
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = 0;
        for (int end = cols & -L; i < end; i += L) {
            DoubleVector yv = DoubleVector.fromByteBuffer(D, y, yo + 8 * i, LE);
            DoubleVector gv = DoubleVector.fromByteBuffer(D, g, go + 8 * i, LE);
            yv.mul(gv.sub(dv)).intoByteBuffer(out, oo + 8 * i, LE);
        }
        for (; i < cols; i++) {
            out.putDouble(oo + 8 * i, y.getDouble(yo + 8 * i) * (g.getDouble(go + 8 * i) - d));
        }
    }
}
