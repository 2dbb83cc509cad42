package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.FdlibmExp.INV_LN2;
import static dev.softmaxbackward.cpu.FdlibmExp.LN2_HI;
import static dev.softmaxbackward.cpu.FdlibmExp.LN2_LO;
import static dev.softmaxbackward.cpu.FdlibmExp.ONE;
import static dev.softmaxbackward.cpu.FdlibmExp.P1;
import static dev.softmaxbackward.cpu.FdlibmExp.P2;
import static dev.softmaxbackward.cpu.FdlibmExp.P3;
import static dev.softmaxbackward.cpu.FdlibmExp.P4;
import static dev.softmaxbackward.cpu.FdlibmExp.P5;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RowOps}' loops on JDK 17's incubating Vector API: the max, the exps and the sums of a
 * forward softmax row, each the same IEEE operations lane by lane as the scalar loops, so the same bits.
 *
 * <p>The exp is {@link FdlibmExp#exp}, whose bits {@code FdlibmExpTest} compares with
 * {@link StrictMath#exp}. A vector whose lanes all lie in {@code [-708, -2^-28]} or are 0 (a softmax's
 * {@code x - max}, but for the rare vector with a tiny, underflowing or non-finite lane) runs the general
 * path of {@code e_exp.c} with no branch: there
 * <ul>
 *   <li>k = {@code (int)(INV_LN2*x - 0.5)} is the round-to-nearest of the 1.5*2^52 trick, stepped up one
 *       where it rounded down (truncation of a negative number), kept as a double {@code t}. In fdlibm's
 *       middle range ({@code |x| < 1.5 ln2}) that is -1, fdlibm's own k there; below it, +0, set to +0
 *       also where fdlibm's high-word test still takes k = 0 ({@link #K0_MAX}), and with
 *       {@code t = +0}, {@code hi = x} and {@code lo = +0}, fdlibm's k == 0 formula
 *       {@code 1-((x*c)/(c-2)-x)} equals the general {@code 1-((lo-(x*c)/(2-c))-hi)} exactly ({@code c-2}
 *       is {@code -(2-c)} exactly); for x = ±0 the general formula gives exactly 1, fdlibm's {@code 1+x};</li>
 *   <li>k >= -1021 there, so adding k to the exponent is a 64-bit add of {@code k << 52} to y's bits (the
 *       high-word add of the C, since the low word is untouched), k read from the bits of
 *       {@code t + 1.5*2^52}.</li>
 * </ul>
 * Every other vector runs the scalar {@link FdlibmExp#exp} lane by lane: a branchy vector version of
 * all of fdlibm's cases ran 2x slower on the common vectors.
 * No FMA: each multiply and add is its own rounding, as in the C. Loaded by name only (see RowOps).
 */
final class VectorRowOps implements RowOps.Loops {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int L = D.length();
    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, D.vectorShape());
    private static final double MAGIC = 0x1.8p52;
    private static final long MAGIC_BITS = Double.doubleToRawLongBits(MAGIC);
    /** hx < 0x3e300000: |x| < 2^-28. */
    private static final double TINY = Double.longBitsToDouble(0x3e300000_00000000L);
    /**
     * The largest |x| for which e_exp.c takes k = 0: it tests the high word only ({@code hx > 0x3fd62e42}), so
     * k = 0 holds up to {@code 0x3fd62e42_ffffffff}, past 0.5 ln2 ({@code 0x3fd62e42_fefa39ef}), where
     * {@code (int)(INV_LN2*x - 0.5)} is already -1. The two reductions round differently for about one
     * input in 15 of the 17 million between.
     */
    private static final double K0_MAX = Double.longBitsToDouble(0x3fd62e42_ffffffffL);
    /** Above this x, (int)(INV_LN2*x - 0.5) >= -1021: exp(x) is normal, y scaled by adding k to its exponent. */
    private static final double LOW = -708.0;

    /**
     * The general path on every vector of {@code [from, to)}; returns whether every lane was in it
     * ({@link #general}), else some results are wrong. No MIN, MAX or lane reduction here or in any
     * Vector API loop of this backend: once any code had run DoubleVector's {@code max} or
     * {@code reduceLanes(MAX)}, C2 compiled this loop 6x slower (the lanewise operations of the JDK
     * share their profile). No call to scalar code either, which C2 might inline until it runs out of
     * nodes.
     */
    @Override
    public boolean expShiftedVectors(double[] in, double shift, double[] out, int from, int to) {
        DoubleVector special = DoubleVector.zero(D);
        for (int i = from; i < to; i += L) {
            DoubleVector x = DoubleVector.fromArray(D, in, i).sub(shift);
            DoubleVector v = x.mul(INV_LN2).sub(0.5);
            DoubleVector r = v.add(MAGIC).sub(MAGIC); // v rounded to nearest
            DoubleVector t = r.blend(r.add(1.0), r.compare(VectorOperators.LT, v)) // towards zero
                    .blend(0.0, x.compare(VectorOperators.GE, -K0_MAX)); // fdlibm's k = 0, by its high word
            LongVector k = bits(t.add(MAGIC)).sub(MAGIC_BITS);
            DoubleVector hi = x.sub(t.mul(LN2_HI));
            DoubleVector lo = t.mul(LN2_LO);
            DoubleVector xr = hi.sub(lo);
            DoubleVector tt = xr.mul(xr);
            DoubleVector p = tt.mul(P5).add(P4).mul(tt).add(P3).mul(tt).add(P2).mul(tt).add(P1).mul(tt);
            DoubleVector c = xr.sub(p);
            DoubleVector q = xr.mul(c).div(DoubleVector.broadcast(D, 2.0).sub(c));
            DoubleVector y = DoubleVector.broadcast(D, ONE).sub(lo.sub(q).sub(hi));
            // fdlibm's add of k to y's exponent
            ((DoubleVector) bits(y).add(k.lanewise(VectorOperators.LSHL, 52))
                    .convertShape(VectorOperators.REINTERPRET_L2D, D, 0)).intoArray(out, i);
            // special(x), written out: no helper takes the loop's vectors
            special = special.blend(1.0, x.compare(VectorOperators.GT, -TINY).and(x.compare(VectorOperators.NE, 0.0))
                    .or(x.compare(VectorOperators.LT, LOW)).or(x.compare(VectorOperators.NE, x)));
        }
        return !special.compare(VectorOperators.NE, 0.0).anyTrue();
    }

    /** The lanes outside the general path: in (-2^-28, 0) or positive, below -708, NaN. */
    private static VectorMask<Double> special(DoubleVector x) {
        return x.compare(VectorOperators.GT, -TINY).and(x.compare(VectorOperators.NE, 0.0))
                .or(x.compare(VectorOperators.LT, LOW)).or(x.compare(VectorOperators.NE, x));
    }

    /**
     * The bits of each lane, as a vector of the long species of the same shape (spelled out, so that C2
     * knows the result's class where it compiles the loop; inlined there, as it is this small).
     */
    private static LongVector bits(DoubleVector v) {
        return (LongVector) v.convertShape(VectorOperators.REINTERPRET_D2L, LONGS, 0);
    }

    /**
     * Whether every lane of the vector at {@code i} lies in {@code [-708, -2^-28]} or is 0 after the
     * shift: negative (or zero), in e_exp.c's general case, with a normal result (k >= -1021).
     */
    @Override
    public boolean general(double[] in, double shift, int i) {
        return !special(DoubleVector.fromArray(D, in, i).sub(shift)).anyTrue();
    }

    @Override
    public int length() {
        return L;
    }

    /**
     * The running max takes a scalar step only for a vector with a lane above it or a NaN (after the
     * first vectors, rarely): no MAX (see {@link #expShiftedVectors}), and no blend, which C2 left
     * unintrinsified in these loops (a box per vector). The result is {@link Math#max}'s, but for the
     * sign of a zero (+0 does not replace -0), which changes no {@code x - max} but that of a zero,
     * and exp(+0) = exp(-0).
     */
    @Override
    public double max(double[] x, int n) {
        int bound = D.loopBound(n);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < bound; i += L) {
            DoubleVector v = DoubleVector.fromArray(D, x, i);
            if (v.compare(VectorOperators.GT, DoubleVector.broadcast(D, max)).or(v.compare(VectorOperators.NE, v)).anyTrue()) {
                for (int j = i; j < i + L; j++) { // no call, and no vector carried round the loop:
                    // either boxed the loop's vectors (a box per new max)
                    max = Math.max(max, x[j]);
                }
            }
        }
        for (int i = bound; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    /** The canonical plain sums: four vectors hold lanes {@code lo..lo+4L-1} of a segment, as in VectorKernel. */
    @Override
    public int plainSums(double[] e, int cols, Scratch s) {
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int full = length & -LANES;
            for (int lo = 0; lo < LANES; lo += VectorKernel.GROUP) {
                DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
                for (int k = start + lo; k < start + full; k += LANES) {
                    a0 = a0.add(DoubleVector.fromArray(D, e, k));
                    a1 = a1.add(DoubleVector.fromArray(D, e, k + L));
                    a2 = a2.add(DoubleVector.fromArray(D, e, k + 2 * L));
                    a3 = a3.add(DoubleVector.fromArray(D, e, k + 3 * L));
                }
                a0.intoArray(s.aS, lo); // written out: no helper takes the vectors (see VectorKernel)
                a1.intoArray(s.aS, lo + L);
                a2.intoArray(s.aS, lo + 2 * L);
                a3.intoArray(s.aS, lo + 3 * L);
            }
            for (int k = full; k < length; k++) {
                s.aS[k - full] += e[start + k];
            }
            s.segAS[seg] = VectorKernel.reduceLanes(s.aS);
        }
        return segments;
    }

    @Override
    public int compensatedSums(double[] e, int cols, Scratch s) {
        return VectorKernel.segmentSums(e, 0, e, 0, cols, s); // its sum(y) half; sum(y*y) is not read
    }

    @Override
    public String toString() {
        return "vector(" + D.vectorBitSize() + "-bit)";
    }
}
