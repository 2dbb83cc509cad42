package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.VectorKernel.D;
import static dev.softmaxbackward.cpu.VectorKernel.GROUP;
import static dev.softmaxbackward.cpu.VectorKernel.L;
import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.Arguments;
import dev.softmaxbackward.spi.RowNumerics;
import java.nio.ByteBuffer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The Vector API kernel on INDArray rows, over one kind of access {@code M} to ND4J's off-heap memory:
 * {@link ByteBufferKernel} ({@code fromByteBuffer}, JDK 17-19) or {@code SegmentKernel}
 * ({@code fromMemorySegment}, JDK 22+, in the multi-release jar). The loops are {@link VectorKernel}'s
 * array loops, access for access (lanes in local vectors for a whole segment, the same trees and
 * rounding steps), on byte offsets, so the bits are the reference's.
 *
 * <p>Only the five access methods differ between the two. A JVM loads at most one subclass (the JDK
 * decides which), so C2 binds them by class-hierarchy analysis and inlines them into the loops: no
 * vector crosses a call that is not inlined, which would box it. Each segment pass is a method of its
 * own, kept small enough for C2 to inline everything in it (see {@link VectorKernel}).
 *
 * <p>Byte offsets are longs, computed as {@code long} from the loop index: C2 then sees each
 * {@code MemorySegment} access as linear in the index and removes its bounds check from the loop. An
 * {@code int} offset widened at each access could overflow before the widening, so JDK 25 kept a
 * compare and branch before every load and store (in cache 15 % slower; bench/results/cpu-history.md, stop 23).
 */
abstract class BufferKernel<M> extends DelegatingKernel {
    private static final int F32 = 4;
    private static final int F64 = 8;

    BufferKernel(RowKernel arrays, String access) {
        super(arrays, "through " + access);
    }

    /** The view of {@code b} that the loads and stores below take, at byte offsets. */
    abstract M memory(ByteBuffer b);

    /** The class of {@link #memory(ByteBuffer)}'s views. */
    abstract Class<M> memoryClass();

    /**
     * {@link #memory(ByteBuffer)}, made once per buffer per task: {@code s} keeps it for the next rows.
     * {@code n}: which of the row's buffers this is, in the order the row asks for them (0, 1, 2), the
     * slot {@link Scratch#view} looks at first.
     */
    final M memory(ByteBuffer b, int n, Scratch s) {
        Object v = s.view(b, n);
        // s also keeps StagedKernel's views of a buffer (the rare float64 rows go through the heap)
        if (!memoryClass().isInstance(v)) {
            v = memory(b);
            s.keepView(b, v);
        }
        return memoryClass().cast(v);
    }

    abstract FloatVector floats(M m, long at);

    abstract DoubleVector doubles(M m, long at);

    abstract void put(M m, long at, FloatVector v);

    abstract void put(M m, long at, DoubleVector v);

    @Override
    public final void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                                    Scratch s) {
        if (cols > 0) {
            M gm = memory(g, 0, s);
            M ym = memory(y, 1, s);
            int segments = sums(gm, g, go, ym, y, yo, cols, F32, s);
            float d = (float) ScalarKernel.constantRowMean(ScalarKernel.mean32(s, segments), g, go, cols, F32);
            int end = outputs(gm, go, ym, yo, memory(out, 2, s), oo, cols, d);
            ScalarKernel.outputs(g, go, y, yo, out, oo, end, cols, d);
        }
    }

    // One method per dtype, not one for both widths: a smaller compiled row. With both in one method, C2 on
    // JDK 25 compiled the float64 row in 17 of 39 JVMs so that its output loop allocated vectors (JFR) and
    // the row ran 1.6-1.9 x slower for the whole run ([4096,1024], one thread); split, in 1 of 16. Why C2
    // does so is not found (bench/results/cpu-stop28.md).
    @Override
    public final void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                                     Scratch s) {
        if (cols > 0) {
            M gm = memory(g, 0, s);
            M ym = memory(y, 1, s);
            int segments = sums(gm, g, go, ym, y, yo, cols, F64, s);
            double d = ScalarKernel.constantRowMean(ScalarKernel.mean64(s, segments), g, go, cols, F64);
            if (!ScalarKernel.finishedRare(g, go, y, yo, out, oo, cols, s, d)) {
                int lead = leadOf(out, oo, cols); // the vector stores on 64-byte lines, as VectorKernel's
                ScalarKernel.outputs(g, go, y, yo, out, oo, 0, lead, d);
                int end = outputs(gm, go, ym, yo, memory(out, 2, s), oo, lead, cols, d);
                ScalarKernel.outputs(g, go, y, yo, out, oo, end, cols, d);
            }
        }
    }

    /**
     * The partials of every segment of a row of {@code width}-byte entries into {@code s.seg*}, and the
     * number of segments. Only calls to the passes, which finish their segments themselves: C2 compiles
     * each pass on its own (each is too big to inline), so this loop adds almost nothing to the row's
     * compiled unit when C2 inlines it there. It used to add the segments' tails and lane trees itself; in a
     * JVM that compiled the row before this method, C2 inlined it, the unit reached C2's node budget
     * ({@code NodeCountInliningCutoff}), and the float64 output loop after it was compiled with {@code put}
     * not inlined: a boxed vector per L entries, and the row 1.6-1.9 x slower for the whole run in 1 of 16
     * JVMs (JDK 25, [4096,1024]; bench/results/cpu-stop30.md).
     */
    private int sums(M gm, ByteBuffer g, int go, M ym, ByteBuffer y, int yo, int cols, int width, Scratch s) {
        // the segment walk written out (not SegmentWalk): no lambda around the vector loops
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            for (int lo = 0; lo < LANES; lo += GROUP) {
                if (width == F64) {
                    passDouble(gm, g, go, ym, y, yo, start, length, lo, seg, s);
                } else {
                    passFloat(gm, g, go, ym, y, yo, start, length, lo, seg, s);
                }
            }
        }
        return segments;
    }

    /**
     * After the last pass over segment {@code seg} ({@code length} entries from entry {@code start}): the
     * entries past its full groups of 32 into its lanes, then its lane tree into {@code s.seg*[seg]}.
     */
    private static void finishSegment(ByteBuffer g, int go, ByteBuffer y, int yo, int start, int length, int width,
                                      int seg, Scratch s) {
        int full = length & -LANES;
        int tail = width * (start + full);
        ScalarKernel.addTail(g, go + tail, y, yo + tail, length - full, width == F64, s);
        if (width == F64) {
            VectorKernel.finishSegment64(s, seg);
        } else {
            VectorKernel.finishSegment32(s, seg);
        }
    }

    /**
     * Lanes {@code lo..lo+4L-1} of float32 segment {@code seg} ({@code length} entries from entry
     * {@code start}; {@code g}/{@code y} the views of {@code gb}/{@code yb}) into {@code s.aS/bS}, as
     * {@link VectorKernel}'s; where {@link VectorKernel#treeInRegisters} says so, their lane trees instead,
     * straight into {@code s.segAS/segBS[seg]}. The segment's last pass finishes it ({@link #finishSegment}).
     */
    private void passFloat(M g, ByteBuffer gb, int go, M y, ByteBuffer yb, int yo, int start, int length, int lo,
                           int seg, Scratch s) {
        int full = length & -LANES;
        long gi0 = go + 4L * (start + lo);
        long yi0 = yo + 4L * (start + lo);
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
        DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        // the stride from VectorKernel's unfolded field, as its array loop: with the constant, JDK 25 unrolls
        // the loop into the load order that walks memory downwards (see there). Measured memory-bound
        // ([1024,32000], one thread, paired with C on the same memory): 0.80 x C with the constant, 0.94 with
        // the field; on JDK 17 the same either way (bench/results/cpu-history.md, stop 27)
        int stride = VectorKernel.floatStride;
        for (int k = 0; k < full; k += stride) {
            long yi = yi0 + 4L * k;
            long gi = gi0 + 4L * k;
            DoubleVector y0 = VectorKernel.widen(floats(y, yi));
            DoubleVector y1 = VectorKernel.widen(floats(y, yi + 4L * L));
            DoubleVector y2 = VectorKernel.widen(floats(y, yi + 8L * L));
            DoubleVector y3 = VectorKernel.widen(floats(y, yi + 12L * L));
            a0 = a0.add(y0);
            a1 = a1.add(y1);
            a2 = a2.add(y2);
            a3 = a3.add(y3);
            b0 = y0.fma(VectorKernel.widen(floats(g, gi)), b0); // exact product: the add's rounding, as there
            b1 = y1.fma(VectorKernel.widen(floats(g, gi + 4L * L)), b1);
            b2 = y2.fma(VectorKernel.widen(floats(g, gi + 8L * L)), b2);
            b3 = y3.fma(VectorKernel.widen(floats(g, gi + 12L * L)), b3);
        }
        if (VectorKernel.treeInRegisters(full, length)) { // lo == 0: one pass holds all 32 lanes
            s.segAS[seg] = VectorKernel.reduceLanes(a0, a1, a2, a3);
            s.segBS[seg] = VectorKernel.reduceLanes(b0, b1, b2, b3);
            return;
        }
        a0.intoArray(s.aS, lo); // written out, as in VectorKernel: no helper takes the vectors
        a1.intoArray(s.aS, lo + L);
        a2.intoArray(s.aS, lo + 2 * L);
        a3.intoArray(s.aS, lo + 3 * L);
        b0.intoArray(s.bS, lo);
        b1.intoArray(s.bS, lo + L);
        b2.intoArray(s.bS, lo + 2 * L);
        b3.intoArray(s.bS, lo + 3 * L);
        if (lo + GROUP == LANES) {
            finishSegment(gb, go, yb, yo, start, length, F32, seg, s);
        }
    }

    /**
     * Lanes {@code lo..lo+4L-1} of float64 segment {@code seg} into {@code s.aS/aC/bS/bC}, as {@link VectorKernel}'s
     * (arguments as {@link #passFloat}); the segment's last pass finishes it ({@link #finishSegment}).
     */
    private void passDouble(M g, ByteBuffer gb, int go, M y, ByteBuffer yb, int yo, int start, int length, int lo,
                            int seg, Scratch s) {
        int full = length & -LANES;
        long gi0 = go + 8L * (start + lo);
        long yi0 = yo + 8L * (start + lo);
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1.0), minus = DoubleVector.broadcast(D, -1.0);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        for (int k = 0; k < full; k += LANES) {
            long yi = yi0 + 8L * k;
            long gi = gi0 + 8L * k;
            DoubleVector y0 = doubles(y, yi), y1 = doubles(y, yi + 8L * L);
            DoubleVector y2 = doubles(y, yi + 16L * L), y3 = doubles(y, yi + 24L * L);
            DoubleVector g0 = doubles(g, gi), g1 = doubles(g, gi + 8L * L);
            DoubleVector g2 = doubles(g, gi + 16L * L), g3 = doubles(g, gi + 24L * L);
            // VectorKernel's steps, op by op, but with some adds and subtracts in their fma(1)/fma(-1) forms
            // (one rounding of the same exact sum: the same bits), which issue on the FMA pipes the adds leave
            // idle (stop 24: 15 % less time in cache on Zen 4). The array loop dropped them because C2 on JDK 17
            // spilled its accumulators (see there); on buffers they were kept, untried: these rows met the target
            // sum(y): TwoSum(as, y) = t + e, ac += e
            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = as0.fma(minus, t0), v1 = as1.fma(minus, t1), v2 = as2.fma(minus, t2), v3 = as3.fma(minus, t3);
            ac0 = ac0.add(t0.sub(v0).fma(minus, as0).fma(one, y0.sub(v0)));
            ac1 = ac1.add(t1.sub(v1).fma(minus, as1).fma(one, y1.sub(v1)));
            ac2 = ac2.add(t2.sub(v2).fma(minus, as2).fma(one, y2.sub(v2)));
            ac3 = ac3.add(t3.sub(v3).fma(minus, as3).fma(one, y3.sub(v3)));
            as0 = t0;
            as1 = t1;
            as2 = t2;
            as3 = t3;
            // sum(y*g): TwoProd(y, g) = p + q, TwoSum(bs, p) = u + e, bc += q + e
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = bs0.fma(minus, u0), w1 = bs1.fma(minus, u1), w2 = bs2.fma(minus, u2), w3 = bs3.fma(minus, u3);
            bc0 = bc0.add(q0.add(u0.sub(w0).fma(minus, bs0).fma(one, p0.sub(w0))));
            bc1 = bc1.add(q1.add(u1.sub(w1).fma(minus, bs1).fma(one, p1.sub(w1))));
            bc2 = bc2.add(q2.add(u2.sub(w2).fma(minus, bs2).fma(one, p2.sub(w2))));
            bc3 = bc3.add(q3.add(u3.sub(w3).fma(minus, bs3).fma(one, p3.sub(w3))));
            bs0 = u0;
            bs1 = u1;
            bs2 = u2;
            bs3 = u3;
        }
        // written out, as VectorKernel.pass does (see there)
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
        if (lo + GROUP == LANES) {
            finishSegment(gb, go, yb, yo, start, length, F64, seg, s);
        }
    }

    /** The vector part of a float32 row's outputs {@code y * (g - d)}; returns where the scalar tail starts. */
    private int outputs(M g, int go, M y, int yo, M out, int oo, int cols, float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int end = cols & -L;
        for (int i = 0; i < end; i += L) {
            DoubleVector yv = VectorKernel.widen(floats(y, yo + 4L * i));
            DoubleVector gv = VectorKernel.widen(floats(g, go + 4L * i));
            put(out, oo + 4L * i, VectorKernel.narrow(yv.mul(gv.sub(dv))));
        }
        return end;
    }

    /**
     * The float64 entries of {@code b} from byte {@code at} before the first on a 64-byte line (see
     * {@link VectorKernel#outputs(double[], int, double[], int, double[], int, int, int, double)}), for a row of
     * {@code cols}; 0 for a heap buffer, whose address no API gives, or a short row.
     */
    private static int leadOf(ByteBuffer b, int at, int cols) {
        if (!b.isDirect() || cols < VectorKernel.ALIGNED_MIN) {
            return 0;
        }
        int past = b.alignmentOffset(at, 64);
        return (past & 7) == 0 ? ((64 - past) & 63) >> 3 : 0;
    }

    /** The vector part of entries {@code [from, cols)} of a float64 row's outputs; returns where the scalar tail starts. */
    private int outputs(M g, int go, M y, int yo, M out, int oo, int from, int cols, double d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int end = from + ((cols - from) & -L);
        for (int i = from; i < end; i += L) {
            put(out, oo + 8L * i, doubles(y, yo + 8L * i).mul(doubles(g, go + 8L * i).sub(dv)));
        }
        return end;
    }

    // ---- the forward pass's and the cross-entropy's rows -----------------------------------------

    @Override
    public final double readRow(boolean f64, ByteBuffer b, int at, double[] dst, int cols, Scratch s) {
        int end = cols & -L;
        double max = f64 ? maxOfDoubles(memory(b, 0, s), at, dst, end) : maxOfFloats(memory(b, 0, s), at, dst, end);
        for (int k = end; k < cols; k++) {
            dst[k] = RowKernel.entry(f64, b, at, k);
            max = Math.max(max, dst[k]);
        }
        return max;
    }

    /**
     * The vector part of {@link #readRow} for float32 entries: {@code dst[0, end)} and their max. The max
     * takes no MAX, blend or reduction (see {@link VectorRowOps#max(double[], int)}).
     */
    private double maxOfFloats(M m, int at, double[] dst, int end) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < end; k += L) {
            DoubleVector x = VectorKernel.widen(floats(m, at + 4L * k));
            x.intoArray(dst, k);
            if (x.compare(VectorOperators.GT, DoubleVector.broadcast(D, max)).or(x.compare(VectorOperators.NE, x)).anyTrue()) {
                for (int j = k; j < k + L; j++) { // no call, and no vector carried round the loop:
                    // either boxed the loop's vectors (a box per new max)
                    max = Math.max(max, dst[j]);
                }
            }
        }
        return max;
    }

    private double maxOfDoubles(M m, int at, double[] dst, int end) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < end; k += L) {
            DoubleVector x = doubles(m, at + 8L * k);
            x.intoArray(dst, k);
            if (x.compare(VectorOperators.GT, DoubleVector.broadcast(D, max)).or(x.compare(VectorOperators.NE, x)).anyTrue()) {
                for (int j = k; j < k + L; j++) { // no call, and no vector carried round the loop:
                    // either boxed the loop's vectors (a box per new max)
                    max = Math.max(max, dst[j]);
                }
            }
        }
        return max;
    }

    @Override
    public final void writeQuotients(boolean f64, double[] src, double divisor, ByteBuffer b, int at, int cols,
                                     Scratch s) {
        M m = memory(b, 1, s);
        int end = cols & -L;
        if (f64) {
            for (int k = 0; k < end; k += L) {
                put(m, at + 8L * k, DoubleVector.fromArray(D, src, k).div(divisor));
            }
        } else {
            for (int k = 0; k < end; k += L) {
                put(m, at + 4L * k, VectorKernel.narrow(DoubleVector.fromArray(D, src, k).div(divisor)));
            }
        }
        for (int k = end; k < cols; k++) {
            RowKernel.putEntry(f64, b, at, k, src[k] / divisor);
        }
    }

    @Override
    public final void crossEntropyRow(boolean f64, ByteBuffer y, int yo, int label, double scale, ByteBuffer out,
                                      int oo, int cols, Scratch s) {
        if (label == Arguments.IGNORE_INDEX) { // +0.0 everywhere
            for (int k = 0; k < cols; k++) {
                RowKernel.putEntry(f64, out, oo, k, 0.0);
            }
            return;
        }
        // y[label] before any write: out may be y
        double yl = RowKernel.entry(f64, y, yo, label);
        M ym = memory(y, 0, s);
        M om = memory(out, 1, s);
        DoubleVector sc = DoubleVector.broadcast(D, scale);
        int end = cols & -L;
        // scale * (y - 0.0), RowOps.crossEntropyGradient's operations off the label
        if (f64) {
            for (int k = 0; k < end; k += L) {
                put(om, oo + 8L * k, sc.mul(doubles(ym, yo + 8L * k).sub(0.0)));
            }
        } else {
            for (int k = 0; k < end; k += L) {
                put(om, oo + 4L * k, VectorKernel.narrow(sc.mul(VectorKernel.widen(floats(ym, yo + 4L * k)).sub(0.0))));
            }
        }
        for (int k = end; k < cols; k++) {
            RowKernel.putEntry(f64, out, oo, k,
                    RowOps.crossEntropyGradient(RowKernel.entry(f64, y, yo, k), k, label, scale));
        }
        RowKernel.putEntry(f64, out, oo, label, RowOps.crossEntropyGradient(yl, label, label, scale));
    }

    @Override
    public final void crossEntropyOfQuotients(boolean f64, double[] src, double divisor, int label, double scale,
                                              ByteBuffer out, int oo, int cols, Scratch s) {
        if (label == Arguments.IGNORE_INDEX) {
            crossEntropyRow(f64, out, oo, label, scale, out, oo, cols, s); // +0.0 everywhere, nothing read
            return;
        }
        M om = memory(out, 1, s);
        DoubleVector sc = DoubleVector.broadcast(D, scale);
        int end = cols & -L;
        // scale * (y - 0.0) with y = src / divisor rounded to the dtype, as crossEntropyRow of that row
        if (f64) {
            for (int k = 0; k < end; k += L) {
                put(om, oo + 8L * k, sc.mul(DoubleVector.fromArray(D, src, k).div(divisor).sub(0.0)));
            }
        } else {
            for (int k = 0; k < end; k += L) {
                DoubleVector y = VectorKernel.widen(VectorKernel.narrow(DoubleVector.fromArray(D, src, k).div(divisor)));
                put(om, oo + 4L * k, VectorKernel.narrow(sc.mul(y.sub(0.0))));
            }
        }
        for (int k = end; k < cols; k++) {
            RowKernel.putEntry(f64, out, oo, k,
                    RowOps.crossEntropyGradient(RowKernel.quotient(f64, src[k], divisor), k, label, scale));
        }
        RowKernel.putEntry(f64, out, oo, label,
                RowOps.crossEntropyGradient(RowKernel.quotient(f64, src[label], divisor), label, label, scale));
    }
}
