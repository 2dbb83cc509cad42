package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.FdlibmExp.INV_LN2;
import static dev.softmaxbackward.cpu.FdlibmExp.LN2_HI;
import static dev.softmaxbackward.cpu.FdlibmExp.LN2_LO;
import static dev.softmaxbackward.cpu.FdlibmExp.ONE;
import static dev.softmaxbackward.cpu.FdlibmExp.O_THRESHOLD;
import static dev.softmaxbackward.cpu.FdlibmExp.P1;
import static dev.softmaxbackward.cpu.FdlibmExp.P2;
import static dev.softmaxbackward.cpu.FdlibmExp.P3;
import static dev.softmaxbackward.cpu.FdlibmExp.P4;
import static dev.softmaxbackward.cpu.FdlibmExp.P5;
import static dev.softmaxbackward.cpu.FdlibmExp.TWOM1000;
import static dev.softmaxbackward.cpu.FdlibmExp.U_THRESHOLD;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FdlibmExp#exp} on JDK 17's incubating Vector API, lane by lane the same IEEE operations, so
 * the same bits ({@code FdlibmExpTest} compares both against {@link StrictMath#exp}). Every lane runs the
 * general path of {@code e_exp.c}, with its branches turned into selections:
 * <ul>
 *   <li>the high-word tests ({@code hx > 0x3fd62e42} and so on) are comparisons of {@code |x|} with the
 *       doubles whose high word is that bound and whose low word is 0;</li>
 *   <li>k is kept as a double {@code t}: {@code (int)(INV_LN2*x ± 0.5)} is the round-to-nearest of the
 *       1.5*2^52 trick, stepped one towards zero where it rounded away (exact for |v| < 2^51, and lanes
 *       beyond that are replaced by the overflow/underflow results); ±1 in fdlibm's middle range, +0
 *       below it. With {@code t = +0}, {@code hi = x} and {@code lo = +0}, and fdlibm's k == 0 formula
 *       {@code 1-((x*c)/(c-2)-x)} equals the general {@code 1-((lo-(x*c)/(2-c))-hi)} exactly ({@code c-2}
 *       is {@code -(2-c)} exactly, and the quotient is not 0 there);</li>
 *   <li>adding k to the exponent is a 64-bit add of {@code k << 52} to y's bits (the high-word add of the
 *       C, since the low word is untouched), k read from the bits of {@code t + 1.5*2^52};</li>
 *   <li>|x| < 2^-28, overflow, underflow, ±Inf and NaN lanes take fdlibm's early returns last.</li>
 * </ul>
 * No FMA: each multiply and add is its own rounding, as in the C. Loaded by name only (see FdlibmExp).
 */
final class VectorExp implements FdlibmExp.Rows {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int L = D.length();
    private static final double MAGIC = 0x1.8p52;
    private static final long MAGIC_BITS = Double.doubleToRawLongBits(MAGIC);
    /** hx > 0x3fd62e42: |x| > 0.5 ln2. */
    private static final double REDUCE = Double.longBitsToDouble(0x3fd62e43_00000000L);
    /** hx < 0x3FF0A2B2: |x| < 1.5 ln2. */
    private static final double MIDDLE = Double.longBitsToDouble(0x3FF0A2B2_00000000L);
    /** hx < 0x3e300000: |x| < 2^-28. */
    private static final double TINY = Double.longBitsToDouble(0x3e300000_00000000L);

    @Override
    public void expShifted(double[] in, double shift, double[] out, int n) {
        int bound = D.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            DoubleVector x = DoubleVector.fromArray(D, in, i).sub(shift);
            DoubleVector ax = x.abs();
            VectorMask<Double> neg = x.compare(VectorOperators.LT, 0.0);
            VectorMask<Double> reduce = ax.compare(VectorOperators.GE, REDUCE);
            VectorMask<Double> middle = reduce.and(ax.compare(VectorOperators.LT, MIDDLE));

            // k = (int)(INV_LN2*x + halF[xsb]) as a double, truncated towards zero
            DoubleVector v = x.mul(INV_LN2).add(DoubleVector.broadcast(D, 0.5).blend(-0.5, neg));
            DoubleVector r = v.add(MAGIC).sub(MAGIC);
            VectorMask<Double> away = r.compare(VectorOperators.GT, v).and(neg.not())
                    .or(r.compare(VectorOperators.LT, v).and(neg));
            r = r.blend(r.sub(DoubleVector.broadcast(D, 1.0).blend(-1.0, neg)), away);
            DoubleVector t = DoubleVector.zero(D).blend(r, reduce)
                    .blend(DoubleVector.broadcast(D, 1.0).blend(-1.0, neg), middle);

            DoubleVector hi = x.sub(t.mul(LN2_HI));
            DoubleVector lo = t.mul(LN2_LO);
            DoubleVector xr = hi.sub(lo);
            DoubleVector tt = xr.mul(xr);
            DoubleVector p = tt.mul(P5).add(P4).mul(tt).add(P3).mul(tt).add(P2).mul(tt).add(P1).mul(tt);
            DoubleVector c = xr.sub(p);
            DoubleVector q = xr.mul(c).div(DoubleVector.broadcast(D, 2.0).sub(c));
            DoubleVector y = DoubleVector.broadcast(D, ONE).sub(lo.sub(q).sub(hi));

            VectorMask<Double> normal = t.compare(VectorOperators.GE, -1021.0);
            DoubleVector kk = t.blend(t.add(1000.0), normal.not());
            LongVector k = kk.add(MAGIC).viewAsIntegralLanes();
            k = k.sub(MAGIC_BITS).lanewise(VectorOperators.LSHL, 52);
            DoubleVector res = y.viewAsIntegralLanes().add(k).viewAsFloatingLanes();
            res = res.blend(res.mul(TWOM1000), normal.not());

            res = res.blend(x.add(ONE), ax.compare(VectorOperators.LT, TINY));
            res = res.blend(Double.POSITIVE_INFINITY, x.compare(VectorOperators.GT, O_THRESHOLD));
            res = res.blend(0.0, x.compare(VectorOperators.LT, U_THRESHOLD));
            res = res.blend(x.add(x), x.compare(VectorOperators.NE, x));
            res.intoArray(out, i);
        }
        FdlibmExp.scalarExpShifted(in, shift, out, i, n);
    }

    @Override
    public String toString() {
        return "vector(" + D.vectorBitSize() + "-bit)";
    }
}
