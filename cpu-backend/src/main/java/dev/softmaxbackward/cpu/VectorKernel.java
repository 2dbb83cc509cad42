package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import java.nio.ByteBuffer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
 * rounds to nearest even like a Java cast, {@code fma} is one rounding like {@link Math#fma}, and where an
 * {@code fma} stands for an add, it rounds the same exact sum once, as the add does), so the bits are the
 * reference's.
 *
 * <p>Each dtype has two package-private pieces: the partial sums of a row's segments
 * ({@code segmentSums}), and the outputs of a range of entries given {@code d} ({@code outputs}). Vectors are never passed to a helper that C2 might not inline: it
 * boxes a vector argument of a call it does not inline. INDArray rows run the same loops in
 * {@link BufferKernel}. Loaded only by name, after checking that the module is in the boot layer.
 */
final class VectorKernel implements RowKernel {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as D, so one float load widens to one double vector. */
    static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    static final int L = D.length();
    /** Lanes held in local vectors per pass over a segment: four vectors. */
    static final int GROUP = 4 * L;

    /**
     * {@link RowNumerics#LANES}, as the stride of the float32 sums loops (arrays here, INDArrays in
     * {@link BufferKernel}), in a field that C2 does not fold
     * (it folds only static finals). With a constant stride the loop is a counted loop, and C2 on JDK 25
     * unrolls it eight times and issues its 32 loads in an order that walks each 1 KiB block of a row
     * downwards; the body is the same. Measured memory-bound on JDK 25 ([4096,4096], one thread), the
     * sums took 18.5-19.8 ms a call with the constant and 7.6-11.1 with this field, the same in cache.
     * A stride that is not a constant leaves the loop uncounted: not unrolled, its bounds checked at
     * every load. Never written.
     */
    @SuppressWarnings("FieldCanBeFinal") // a final field is folded: the point is that this one is not
    static int floatStride = LANES;

    /** Whether this machine's preferred shape fits the 32-lane layout (it does on every x86 and ARM). */
    static boolean usable() {
        return L >= 2 && GROUP <= LANES && LANES % GROUP == 0;
    }

    @Override
    public String name() {
        return "vector(" + D.vectorBitSize() + "-bit, " + L + " doubles)";
    }

    static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
    }

    static FloatVector narrow(DoubleVector v) {
        return (FloatVector) v.convertShape(VectorOperators.D2F, F, 0);
    }

    // ---- arrays -----------------------------------------------------------------------------------

    @Override
    public void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        if (cols > 0) {
            float mean = ScalarKernel.mean32(s, segmentSums(g, go, y, yo, cols, s));
            outputs(g, go, y, yo, out, oo, 0, cols, RowNumerics.constantRowMean(mean, g, go, go + cols));
        }
    }

    @Override
    public void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        if (cols > 0) {
            double mean = ScalarKernel.mean64(s, segmentSums(g, go, y, yo, cols, s));
            double d = RowNumerics.constantRowMean(mean, g, go, go + cols);
            if (!ScalarKernel.finishedRare(g, go, y, yo, out, oo, cols, s, d)) {
                outputs(g, go, y, yo, out, oo, 0, cols, d);
            }
        }
    }

    @Override
    public void sums(float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        segmentSums(g, go, y, yo, cols, s);
    }

    /** The segment partials of a float32 row of {@code cols > 0} into {@code s.segAS/segBS}; returns their number. */
    static int segmentSums(float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        // the segment walk written out (not SegmentWalk): no lambda around the vector loops
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int full = length & -LANES;
            int stride = floatStride;
            boolean inRegisters = treeInRegisters(full, length);
            for (int lo = 0; lo < LANES; lo += GROUP) {
                DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
                DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                for (int k = 0; k < full; k += stride) {
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
                    // b + y*g in one fma: the product of two floats is exact in a double, so the fma's one
                    // rounding is the add's (measured in cache: 7 % less time per float32 row)
                    b0 = y0.fma(widen(FloatVector.fromArray(F, g, gi)), b0);
                    b1 = y1.fma(widen(FloatVector.fromArray(F, g, gi + L)), b1);
                    b2 = y2.fma(widen(FloatVector.fromArray(F, g, gi + 2 * L)), b2);
                    b3 = y3.fma(widen(FloatVector.fromArray(F, g, gi + 3 * L)), b3);
                }
                if (inRegisters) {
                    s.segAS[seg] = reduceLanes(a0, a1, a2, a3);
                    s.segBS[seg] = reduceLanes(b0, b1, b2, b3);
                } else {
                    a0.intoArray(s.aS, lo); // written out, as in pass: no helper takes the vectors
                    a1.intoArray(s.aS, lo + L);
                    a2.intoArray(s.aS, lo + 2 * L);
                    a3.intoArray(s.aS, lo + 3 * L);
                    b0.intoArray(s.bS, lo);
                    b1.intoArray(s.bS, lo + L);
                    b2.intoArray(s.bS, lo + 2 * L);
                    b3.intoArray(s.bS, lo + 3 * L);
                }
            }
            if (!inRegisters) {
                ScalarKernel.addTail(g, go + start + full, y, yo + start + full, length - full, s);
                finishSegment32(s, seg);
            }
        }
        return segments;
    }

    /**
     * Whether a float32 segment's lane tree runs on its pass's own vectors ({@link #reduceLanes(DoubleVector,
     * DoubleVector, DoubleVector, DoubleVector)}): with L = 8 one pass holds all 32 lanes, and a segment of
     * whole groups of 32 has no tail to add to them after the pass. Otherwise the lanes go through
     * {@code s.aS/bS}. Measured at [4096,32] float32 (JDK 25, the sums of a row): 8.5 ns in registers,
     * 24 through the array with {@link #reduceLanes(double[])}, 33 with the scalar tree.
     */
    static boolean treeInRegisters(int full, int length) {
        return GROUP == LANES && full == length;
    }

    /**
     * {@link RowNumerics#reduceLanes(double[])}'s tree on the 32 lanes held in four vectors of L = 8 (lanes
     * 0-7, 8-15, 16-23, 24-31): {@code off = 16} adds lanes 16-31 to 0-15, that is {@code a0 + a2} and
     * {@code a1 + a3}; {@code off = 8} adds those two; {@code off = 4, 2, 1} run on the 8 lanes as scalars.
     * The same adds in the same order, so the same bits. The lanes never go through memory: the same tree
     * with its 8 lanes stored and read back as scalars took 15-16 ns a row's sums against 8.2-8.6
     * (bench/results/probes/TreeProbe.java). Small, so C2 inlines it: a vector argument of a call it does
     * not inline would be boxed.
     */
    static double reduceLanes(DoubleVector a0, DoubleVector a1, DoubleVector a2, DoubleVector a3) {
        DoubleVector v = a0.add(a2).add(a1.add(a3));
        double e0 = v.lane(0) + v.lane(4);
        double e1 = v.lane(1) + v.lane(5);
        double e2 = v.lane(2) + v.lane(6);
        double e3 = v.lane(3) + v.lane(7);
        return (e0 + e2) + (e1 + e3);
    }

    /**
     * The double-double segment partials of a float64 row into {@code s.seg*}; returns their number.
     *
     * <p>The passes' loads start {@code lead} entries into a segment, on a 64-byte line ({@link #leadOfArray}),
     * as the output stores do (see {@link #outputs(double[], int, double[], int, double[], int, int, int,
     * double)}). The lanes stay the entries' own (entry j in lane j mod 32, each lane in entry order), so the
     * bits do not depend on the lead: the first {@code lead} entries go into their lanes first, held at
     * positions {@code 32..31+lead} of {@link Scratch#aS} and the others, where the passes' rotated vectors
     * (lanes {@code lead..lead+31}) take them up; the tail follows in the same rotation ({@link #tail}); then
     * those lanes move back.
     */
    static int segmentSums(double[] g, int go, double[] y, int yo, int cols, Scratch s) {
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            int lead = length >= ROTATED_MIN ? leadOfArray(yo + start, length) : 0;
            int full = (length - lead) & -LANES;
            int rest = length - lead - full;
            if (lead > 0) {
                s.clearLanes();
                ScalarKernel.addTail(g, go + start, y, yo + start, lead, LANES, s);
            }
            for (int lo = 0; lo < LANES; lo += GROUP) {
                pass(g, go + start + lead + lo, y, yo + start + lead + lo, full, lead + lo, lead > 0, s);
            }
            for (int lo = 0; lo < rest; lo += GROUP) {
                int at = start + lead + full + lo;
                tail(g, go + at, y, yo + at, rest - lo, lead + lo, s);
            }
            if (lead > 0) {
                s.unrotateLanes(lead);
            }
            finishSegment64(s, seg);
        }
        return segments;
    }

    /**
     * {@link ScalarKernel#finishSegment(Scratch, int)} with the levels {@code off >= L} of the lane tree
     * ({@link RowNumerics#reduceLanes(double[], double[])}) on vectors: lanes {@code l..l+L-1} combined with
     * {@code l+off..}, each lane by the same operations as {@link RowNumerics#combine}, so the same bits.
     * Measured at [4096,32] float64 (JDK 25, JFR): the scalar tree took 64 % of a row's time.
     */
    static void finishSegment64(Scratch s, int seg) {
        for (int off = LANES / 2; off >= L; off >>= 1) {
            for (int l = 0; l < off; l += L) {
                combine(s.aS, s.aC, l, l + off);
                combine(s.bS, s.bC, l, l + off);
            }
        }
        ScalarKernel.finishSegment(s, seg, L);
    }

    /** {@link ScalarKernel#finish32(Scratch, int)}, with the lane trees of {@link #reduceLanes(double[])}. */
    static void finishSegment32(Scratch s, int seg) {
        s.segAS[seg] = reduceLanes(s.aS);
        s.segBS[seg] = reduceLanes(s.bS);
    }

    /**
     * {@link RowNumerics#reduceLanes(double[])} with the tree's levels {@code off >= L} on vectors: lanes
     * {@code l..l+L-1} plus {@code l+off..}, the same adds lane by lane, so the same bits. Measured at
     * [4096,32] float32 (JDK 25, JFR): the scalar tree took 48 % of a row's time.
     */
    static double reduceLanes(double[] v) {
        for (int off = LANES / 2; off >= L; off >>= 1) {
            for (int l = 0; l < off; l += L) {
                add(v, l, l + off);
            }
        }
        return RowNumerics.reduceLanes(v, L);
    }

    /** Lanes {@code into..into+L-1} of {@code sums} plus lanes {@code from..from+L-1}. */
    private static void add(double[] sums, int into, int from) {
        DoubleVector.fromArray(D, sums, into).add(DoubleVector.fromArray(D, sums, from)).intoArray(sums, into);
    }

    /** {@link RowNumerics#combine} on lanes {@code into..into+L-1} and {@code from..from+L-1}. */
    private static void combine(double[] sums, double[] errors, int into, int from) {
        DoubleVector a = DoubleVector.fromArray(D, sums, into);
        DoubleVector b = DoubleVector.fromArray(D, sums, from);
        DoubleVector sum = a.add(b);
        DoubleVector bVirtual = sum.sub(a);
        DoubleVector error = a.sub(sum.sub(bVirtual)).add(b.sub(bVirtual)); // TwoSum: exactly a + b - sum
        sum.intoArray(sums, into);
        DoubleVector.fromArray(D, errors, into).add(DoubleVector.fromArray(D, errors, from)).add(error)
                .intoArray(errors, into);
    }

    /**
     * Lanes {@code lo..lo+4L-1} of one float64 segment ({@code full} entries, from {@code gi0}/{@code yi0}),
     * into {@code s.aS/aC/bS/bC}. A method of its own: inside the segment loop the compiled unit grew past
     * C2's inlining node budget, so helpers taking vectors were not inlined and their arguments were boxed
     * (measured: 12 ns per entry instead of 3 on AVX2). {@link BufferKernel} has the same steps on buffers.
     */
    private static void pass(double[] g, int gi0, double[] y, int yi0, int full, int lo, boolean rotated, Scratch s) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        if (rotated) { // from the lane positions: the segment's first entries, or +0.0 (see segmentSums)
            as0 = DoubleVector.fromArray(D, s.aS, lo);
            as1 = DoubleVector.fromArray(D, s.aS, lo + L);
            as2 = DoubleVector.fromArray(D, s.aS, lo + 2 * L);
            as3 = DoubleVector.fromArray(D, s.aS, lo + 3 * L);
            ac0 = DoubleVector.fromArray(D, s.aC, lo);
            ac1 = DoubleVector.fromArray(D, s.aC, lo + L);
            ac2 = DoubleVector.fromArray(D, s.aC, lo + 2 * L);
            ac3 = DoubleVector.fromArray(D, s.aC, lo + 3 * L);
            bs0 = DoubleVector.fromArray(D, s.bS, lo);
            bs1 = DoubleVector.fromArray(D, s.bS, lo + L);
            bs2 = DoubleVector.fromArray(D, s.bS, lo + 2 * L);
            bs3 = DoubleVector.fromArray(D, s.bS, lo + 3 * L);
            bc0 = DoubleVector.fromArray(D, s.bC, lo);
            bc1 = DoubleVector.fromArray(D, s.bC, lo + L);
            bc2 = DoubleVector.fromArray(D, s.bC, lo + 2 * L);
            bc3 = DoubleVector.fromArray(D, s.bC, lo + 3 * L);
        }
        for (int k = 0; k < full; k += LANES) {
            int yi = yi0 + k;
            int gi = gi0 + k;
            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + L);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 2 * L), y3 = DoubleVector.fromArray(D, y, yi + 3 * L);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + L);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 2 * L), g3 = DoubleVector.fromArray(D, g, gi + 3 * L);
            // the four vectors' steps, op by op (C2 schedules the graph itself, whatever the source order);
            // written out because a helper would box its vector arguments. Plain adds and subtracts, not
            // BufferKernel's fma(-1)/fma(1) forms of them (the same bits): with the forms' two constant
            // vectors, C2 on JDK 17 spills seven accumulators to the stack in this loop, and memory-bound
            // the pass ran at 20-33 GB/s against 33-44 with these (2 threads, bench/results/probes/PassProbe.java);
            // on JDK 25 (no spills either way) 0.96 x the forms' time memory-bound, 1.04 in cache.
            // sum(y): TwoSum(as, y) = t + e, ac += e
            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = t0.sub(as0), v1 = t1.sub(as1), v2 = t2.sub(as2), v3 = t3.sub(as3);
            ac0 = ac0.add(as0.sub(t0.sub(v0)).add(y0.sub(v0)));
            ac1 = ac1.add(as1.sub(t1.sub(v1)).add(y1.sub(v1)));
            ac2 = ac2.add(as2.sub(t2.sub(v2)).add(y2.sub(v2)));
            ac3 = ac3.add(as3.sub(t3.sub(v3)).add(y3.sub(v3)));
            as0 = t0;
            as1 = t1;
            as2 = t2;
            as3 = t3;
            // sum(y*g): TwoProd(y, g) = p + q, TwoSum(bs, p) = u + e, bc += q + e
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = u0.sub(bs0), w1 = u1.sub(bs1), w2 = u2.sub(bs2), w3 = u3.sub(bs3);
            bc0 = bc0.add(q0.add(bs0.sub(u0.sub(w0)).add(p0.sub(w0))));
            bc1 = bc1.add(q1.add(bs1.sub(u1.sub(w1)).add(p1.sub(w1))));
            bc2 = bc2.add(q2.add(bs2.sub(u2.sub(w2)).add(p2.sub(w2))));
            bc3 = bc3.add(q3.add(bs3.sub(u3.sub(w3)).add(p3.sub(w3))));
            bs0 = u0;
            bs1 = u1;
            bs2 = u2;
            bs3 = u3;
        }
        // the stores written out: a helper taking the vectors, once C2 has compiled it on its own, can be
        // too big to inline, and then the vectors are boxed through the loop's phis (a box per iteration)
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

    /**
     * The entries of a {@code double[]} from element {@code i} before the first on a 64-byte line, taking the
     * array's elements to start 16 bytes past a line, as HotSpot's G1 puts a large array: at the start of a
     * region of its own, after a 16-byte header (so with compact object headers too). No Java API gives a
     * heap array's address; where the guess is wrong, the stores cross lines as they did before, and the
     * bits never depend on it. 0 for a run of fewer than {@link #ALIGNED_MIN} entries.
     */
    static int leadOfArray(int i, int n) {
        return n >= ALIGNED_MIN ? (6 - i) & 7 : 0;
    }

    /**
     * Segments shorter than this take their sums' loads where they start: the rotation costs a few
     * operations a segment that a short one does not win back. Measured at [4096,1024] (one thread, JDK 17):
     * rotated, 4.46 ms a call against 4.03-4.17 unrotated; at [1024,32000] 28.1 against 38.9.
     */
    static final int ROTATED_MIN = SEGMENT / 2;

    /** Runs shorter than this store where they start: the entries before a line would go one by one. */
    static final int ALIGNED_MIN = 8 * LANES;

    /**
     * The last {@code n} entries of a group of a float64 segment ({@code n < 4L} from this group's start,
     * or more: only the group's {@code 4L} lanes are read) added to lane positions {@code lo..lo+4L-1}: one
     * of {@link #pass}'s steps, vector by vector, on masked loads, so the lanes past the entries take
     * y = g = +0.0. That leaves them as they were: a lane starts at +0.0 and never becomes -0.0 (x + y is
     * -0.0 only for two -0.0), so a finite lane plus +0.0 is itself with an error of +0.0, and a lane that
     * is infinite or NaN already has a NaN error. Lane by lane the operations are
     * {@link ScalarKernel#accumulate}'s, so the bits are the same. Before, the tail went entry by entry:
     * at [4096,1024] with the loads on lines its 26 entries a row took about 0.5 of 3.8 ms a call. Each
     * vector goes from the lane arrays and back within one iteration: no vector is carried round the loop
     * (a loop's vector phis are boxed when C2 does not inline everything in it).
     */
    private static void tail(double[] g, int gi, double[] y, int yi, int n, int lo, Scratch s) {
        for (int j = 0; j < 4 && j * L < n; j++) {
            VectorMask<Double> m = D.indexInRange(j * L, n);
            int at = lo + j * L;
            DoubleVector yv = DoubleVector.fromArray(D, y, yi + j * L, m);
            DoubleVector gv = DoubleVector.fromArray(D, g, gi + j * L, m);
            DoubleVector as = DoubleVector.fromArray(D, s.aS, at), ac = DoubleVector.fromArray(D, s.aC, at);
            DoubleVector bs = DoubleVector.fromArray(D, s.bS, at), bc = DoubleVector.fromArray(D, s.bC, at);
            DoubleVector t = as.add(yv);
            DoubleVector v = t.sub(as);
            DoubleVector acNew = ac.add(as.sub(t.sub(v)).add(yv.sub(v)));
            DoubleVector p = yv.mul(gv);
            DoubleVector q = yv.fma(gv, p.neg());
            DoubleVector u = bs.add(p);
            DoubleVector w = u.sub(bs);
            DoubleVector bcNew = bc.add(q.add(bs.sub(u.sub(w)).add(p.sub(w))));
            t.intoArray(s.aS, at);
            acNew.intoArray(s.aC, at);
            u.intoArray(s.bS, at);
            bcNew.intoArray(s.bC, at);
        }
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

    /**
     * Entries {@code [from, to)} of a float64 row: {@code y * (g - d)}. The vector stores start on a 64-byte
     * line ({@link #leadOfArray}), the entries before it one by one: each output is computed alone, so the bits
     * are the same either way. A store that crosses a line writes both: on rows 16 bytes past a line (where
     * HotSpot puts a large array's elements), [4096,1024] on one thread took 4.1-4.3 ms a call, and 2.9-3.2
     * with the stores on lines (JDK 25; bench/results/cpu-stop30.md).
     */
    static void outputs(double[] g, int go, double[] y, int yo, double[] out, int oo, int from, int to, double d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int i = from;
        for (int lead = from + leadOfArray(oo + from, to - from); i < lead; i++) {
            out[oo + i] = RowNumerics.gradIn(y[yo + i], g[go + i], d);
        }
        for (int end = i + ((to - i) & -L); i < end; i += L) {
            DoubleVector yv = DoubleVector.fromArray(D, y, yo + i);
            DoubleVector gv = DoubleVector.fromArray(D, g, go + i);
            yv.mul(gv.sub(dv)).intoArray(out, oo + i);
        }
        for (; i < to; i++) {
            out[oo + i] = RowNumerics.gradIn(y[yo + i], g[go + i], d);
        }
    }

    /** INDArray rows staged through the heap; the kernels in use wrap this one in a {@link BufferKernel}. */
    @Override
    public void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                              Scratch s) {
        StagedKernel.backwardFloat(this, g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                               Scratch s) {
        StagedKernel.backwardDouble(this, g, go, y, yo, out, oo, cols, s);
    }
}
