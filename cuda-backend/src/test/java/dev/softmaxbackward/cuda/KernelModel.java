package dev.softmaxbackward.cuda;

import dev.softmaxbackward.cuda.LaunchPlan.Variant;
import dev.softmaxbackward.spi.RowNumerics;

/**
 * A Java model of what the kernels of softmax_backward.cu do, thread by thread, for a given
 * {@link LaunchPlan}: which lane adds which entry in which order, the shfl_down tree as the hardware
 * does it (every lane reads its partner's old value; lanes past the end read their own), the
 * shared-memory staging at the row's alignment shift, the segment tree by one warp with ping-pong
 * buffers, the split variant's blocks and workspace, and which thread writes which output. Each
 * floating-point step is written as the CUDA code writes it (Java's double arithmetic is IEEE round to
 * nearest like __dadd_rn/__dmul_rn/__ddiv_rn, and Math.fma is __fma_rn).
 *
 * <p>It lets the no-GPU build check the kernels' design against the reference backend bit for bit,
 * and gives the GPU tests the expected bf16/fp16 outputs. It cannot catch a CUDA-level bug (a wrong
 * index in the .cu that this model does not share); only a GPU run can.
 */
final class KernelModel {
    static final int SEGMENT = 4096;
    static final int LANES = 32;
    static final int UNROLL = 8;

    private KernelModel() {}

    /** An accumulator: Plain2 {y, yg} or DD2 {sy, cy, syg, cyg}, as in the .cu file. */
    interface Family {
        double[] zero();

        void add(double[] acc, double y, double g);

        /** into = into + from (into first). */
        void combine(double[] into, double[] from);

        double mean(double[] acc);
    }

    static final Family PLAIN = new Family() {
        public double[] zero() {
            return new double[2];
        }

        public void add(double[] a, double y, double g) {
            a[0] = a[0] + y;
            a[1] = a[1] + y * g;
        }

        public void combine(double[] a, double[] o) {
            a[0] = a[0] + o[0];
            a[1] = a[1] + o[1];
        }

        public double mean(double[] a) {
            return a[0] == 0.0 ? 0.0 : (double) (float) (a[1] / a[0]);
        }
    };

    /** TwoSum as the kernel writes it; the error is returned through {@code err[0]}. */
    static double twoSum(double s, double x, double[] err) {
        double sum = s + x;
        double v = sum - s;
        err[0] = (s - (sum - v)) + (x - v);
        return sum;
    }

    /** DD1::add on the pair {@code (a[i], a[i+1])}: s = TwoSum(s, x), c = c + e. */
    private static void addPair(double[] a, int i, double x) {
        double[] e = new double[1];
        a[i] = twoSum(a[i], x, e);
        a[i + 1] = a[i + 1] + e[0];
    }

    /** DD1::combine on the pairs at {@code i}: (s, e) = TwoSum(s1, s2), c = (c1 + c2) + e. */
    private static void combinePair(double[] a, double[] o, int i) {
        double[] e = new double[1];
        a[i] = twoSum(a[i], o[i], e);
        a[i + 1] = (a[i + 1] + o[i + 1]) + e[0];
    }

    static final Family DOUBLE_DOUBLE = new Family() {
        public double[] zero() {
            return new double[4];
        }

        public void add(double[] a, double y, double g) {
            addPair(a, 0, y);
            double p = y * g;
            double q = Math.fma(y, g, -p); // TwoProd: the error goes in with TwoSum's, c = c + (q + e)
            double[] e = new double[1];
            a[2] = twoSum(a[2], p, e);
            a[3] = a[3] + (q + e[0]);
        }

        public void combine(double[] a, double[] o) {
            combinePair(a, o, 0);
            combinePair(a, o, 2);
        }

        /** weighted_mean_dd of the .cu file is RowNumerics.weightedMean line for line: the model uses that one. */
        public double mean(double[] a) {
            return RowNumerics.weightedMean(a[2], a[3], a[0], a[1]);
        }
    };

    static Family family(DType dtype) {
        return dtype == DType.FLOAT64 ? DOUBLE_DOUBLE : PLAIN;
    }

    /**
     * constant_row_block / constant_row_warp (RowNumerics.constantRowMean): threads scan strided
     * entries, each stopping at its first that differs from g[0]; the group ANDs the flags.
     */
    static double constantRow(double d, double[] g, int base, int cols, int threads) {
        double first = g[base];
        if (d == first) {
            return d;
        }
        boolean same = true;
        for (int t = 0; t < threads; t++) {
            for (int k = t; k < cols; k += threads) {
                if (g[base + k] != first) {
                    same = false;
                    break;
                }
            }
        }
        return same && first == first ? first : d;
    }

    /** d of one row before the constant-row rule: the segments' sums and the segment tree (any variant). */
    static double rowMean(DType dtype, double[] y, double[] g, int cols) {
        Family f = family(dtype);
        int segs = RowNumerics.segments(cols);
        double[][] part = new double[2 * segs][];
        for (int seg = 0; seg < segs; seg++) {
            part[seg] = segment(f, y, g, 0, seg, cols);
        }
        return f.mean(segmentTree(f, part, segs));
    }

    /** Which kernel's constant-row step and output sweep {@link #inPlaceTail} models. */
    enum Tail {
        /** sb_reread: groups are warps, the barrier is __syncthreads_and, the scan reads global memory. */
        REREAD,
        /** sb_warp: groups are lanes, the barrier is __all_sync, the scan reads the row held in registers. */
        WARP
    }

    /**
     * The end of sb_reread or sb_warp computed in place ({@code mem} is both g and out, one row), after
     * d is known, with the groups (warps of {@code threads}, or lanes) run one after another, each as
     * far as it can go before the next starts: the interleaving most hostile to an in-place race.
     * {@code fixed}: the kernels as they are now (first = g[0] read by every thread before the barrier,
     * or before the {@code __syncwarp}); otherwise the old order, where each group read g[0] only when it
     * reached the constant-row step. A group that reaches the barrier while another has already left
     * is a divergent barrier (undefined behaviour): recorded in {@code hazards}; the model then lets the
     * waiting groups through with the AND of their flags, one thing the hardware may do.
     * Returns the raw output bits; mem holds the outputs widened afterwards.
     */
    static long[] inPlaceTail(Tail tail, DType dtype, double[] y, double[] mem, int cols, int threads, double d,
                              boolean fixed, java.util.List<String> hazards) {
        double[] g0 = mem.clone(); // what sb_warp's lanes hold in registers
        int groups = tail == Tail.WARP ? LANES : threads / LANES;
        int perGroup = tail == Tail.WARP ? 1 : LANES;
        int[] owner = new int[cols]; // the thread that writes each output (store_row / the lane mapping)
        if (tail == Tail.WARP) {
            for (int k = 0; k < cols; k++) {
                owner[k] = k % LANES;
            }
        } else {
            forEachStore(dtype, 0, cols, 0, threads, (t, i) -> owner[i] = t);
        }
        long[] out = new long[cols];
        double early = mem[0];                 // the fixed order: read before the barrier, before any write
        java.util.List<Integer> waiting = new java.util.ArrayList<>();
        double[] firstOf = new double[groups];
        boolean[] sameOf = new boolean[groups];
        java.util.List<Integer> left = new java.util.ArrayList<>();
        for (int grp = 0; grp < groups; grp++) {
            double first = fixed ? early : mem[0];
            firstOf[grp] = first;
            if (d == first) {                  // the early return: this group writes its outputs now
                writeGroup(dtype, y, tail == Tail.WARP ? g0 : mem, mem, out, owner, grp, perGroup, d);
                left.add(grp);
                continue;
            }
            boolean same = true;
            for (int t = grp * perGroup; t < (grp + 1) * perGroup; t++) {
                int step = tail == Tail.WARP ? LANES : threads;
                for (int k = t; k < cols; k += step) {
                    double gk = tail == Tail.WARP ? g0[k] : mem[k];
                    if (gk != first) {
                        same = false;
                        break;
                    }
                }
            }
            sameOf[grp] = same;
            waiting.add(grp);
        }
        if (!waiting.isEmpty() && !left.isEmpty()) {
            hazards.add("divergent barrier: groups " + left + " left early, groups " + waiting + " waited");
        }
        boolean all = true;
        for (int grp : waiting) {
            all &= sameOf[grp];
        }
        for (int grp : waiting) {
            double first = firstOf[grp];
            double dg = all && first == first ? first : d;
            writeGroup(dtype, y, tail == Tail.WARP ? g0 : mem, mem, out, owner, grp, perGroup, dg);
        }
        return out;
    }

    private static void writeGroup(DType dtype, double[] y, double[] g, double[] mem, long[] out, int[] owner,
                                   int group, int perGroup, double d) {
        for (int i = 0; i < owner.length; i++) {
            if (owner[i] / perGroup == group) {
                out[i] = out(dtype, y[i], g[i], d);
                mem[i] = widen(dtype, out[i]);
            }
        }
    }

    /** The raw bits of one output as the double the next read of that memory sees. */
    static double widen(DType dtype, long bits) {
        return switch (dtype) {
            case FLOAT32 -> Float.intBitsToFloat((int) bits);
            case FLOAT64 -> Double.longBitsToDouble(bits);
            case BFLOAT16 -> HalfFloats.bf16ToDouble((short) bits);
            case FLOAT16 -> HalfFloats.fp16ToDouble((short) bits);
        };
    }

    /** DT::out: y * (g - d) in double, rounded once; returned as raw bits of the dtype. */
    static long out(DType dtype, double y, double g, double d) {
        double t = g - d; // F64::out's g - d rule; float32 and 16-bit inputs never overflow here
        return bits(dtype, Double.isInfinite(t) && Double.isFinite(g) && Double.isFinite(d)
                ? 2.0 * (y * (0.5 * g - 0.5 * d)) : y * t);
    }

    /** v rounded once to the dtype (DT::narrow), as the dtype's raw bits. */
    static long bits(DType dtype, double v) {
        return switch (dtype) {
            case FLOAT32 -> Float.floatToRawIntBits((float) v) & 0xffffffffL;
            case FLOAT64 -> Double.doubleToRawLongBits(v);
            case BFLOAT16 -> HalfFloats.doubleToBf16(v) & 0xffff;
            case FLOAT16 -> HalfFloats.doubleToFp16(v) & 0xffff;
        };
    }

    private static double[] copy(double[] a) {
        return a.clone();
    }

    /** lane_sum: entries lane, lane+32, ... of [start, start+len), UNROLL loads then UNROLL adds in order. */
    static double[] laneSum(Family f, double[] y, double[] g, int base, int start, int len, int lane) {
        double[] a = f.zero();
        int k = lane;
        for (; k + (UNROLL - 1) * LANES < len; k += UNROLL * LANES) {
            double[] ty = new double[UNROLL];
            double[] tg = new double[UNROLL];
            for (int u = 0; u < UNROLL; u++) {
                ty[u] = y[base + start + k + u * LANES];
                tg[u] = g[base + start + k + u * LANES];
            }
            for (int u = 0; u < UNROLL; u++) {
                f.add(a, ty[u], tg[u]);
            }
        }
        for (; k < len; k += LANES) {
            f.add(a, y[base + start + k], g[base + start + k]);
        }
        return a;
    }

    /** warp_tree: __shfl_down_sync semantics, all 32 lanes at once. */
    static double[] warpTree(Family f, double[][] lanes) {
        for (int off = LANES / 2; off > 0; off >>= 1) {
            double[][] old = new double[LANES][];
            for (int l = 0; l < LANES; l++) {
                old[l] = copy(lanes[l]);
            }
            for (int l = 0; l < LANES; l++) {
                double[] partner = l + off < LANES ? old[l + off] : old[l];
                f.combine(lanes[l], partner);
            }
        }
        return lanes[0];
    }

    /** One warp's segment: the 32 lane sums then the tree (what block_segments does per segment). */
    static double[] segment(Family f, double[] y, double[] g, int base, int seg, int cols) {
        int start = seg * SEGMENT;
        int len = Math.min(SEGMENT, cols - start);
        double[][] lanes = new double[LANES][];
        for (int lane = 0; lane < LANES; lane++) {
            lanes[lane] = laneSum(f, y, g, base, start, len, lane);
        }
        return warpTree(f, lanes);
    }

    /** segment_tree: ping-pong levels; lanes i, i+32, ... of one warp each combine a pair. */
    static double[] segmentTree(Family f, double[][] a, int n) {
        double[][] b = new double[a.length][];
        while (n > 1) {
            int half = n >> 1;
            for (int lane = 0; lane < LANES; lane++) {
                for (int i = lane; i < half; i += LANES) {
                    double[] x = copy(a[2 * i]);
                    f.combine(x, a[2 * i + 1]);
                    b[i] = x;
                }
            }
            if ((n & 1) != 0) {
                b[half] = copy(a[n - 1]);
            }
            double[][] t = a;
            a = b;
            b = t;
            n = half + (n & 1);
        }
        return a[0];
    }

    /**
     * The whole call as the plan launches it. y and g are the widened inputs of a [rows, stride]
     * batch; {@code shift} models a row's misalignment (the staging offset, 0..VEC-1). Returns the
     * outputs' raw bits; {@code written} counts how often each output is written (must be 1).
     */
    static long[] run(LaunchPlan plan, DType dtype, double[] y, double[] g, int rows, int cols, int shift,
                      int[] written) {
        Family f = family(dtype);
        long[] out = new long[rows * cols];
        int segs = RowNumerics.segments(cols);
        switch (plan.variant()) {
            case NONE -> { }
            case WARP -> {
                int rowsPerBlock = plan.threads() / LANES;
                for (int block = 0; block < plan.gridX(); block++) {
                    for (int warp = 0; warp < rowsPerBlock; warp++) {
                        long row = (long) block * rowsPerBlock + warp;
                        if (row >= rows) {
                            continue; // the whole warp leaves
                        }
                        int base = (int) row * cols;
                        double[][] lanes = new double[LANES][];
                        for (int lane = 0; lane < LANES; lane++) {
                            double[] a = f.zero();
                            for (int j = 0; j < plan.perLane(); j++) {
                                int k = lane + j * LANES;
                                if (k < cols) {
                                    f.add(a, y[base + k], g[base + k]);
                                }
                            }
                            lanes[lane] = a;
                        }
                        double[] root = warpTree(f, lanes);
                        double d = constantRow(rescue(f, f.mean(root), root, y, g, base, cols), g, base, cols, LANES);
                        for (int lane = 0; lane < LANES; lane++) {
                            for (int j = 0; j < plan.perLane(); j++) {
                                int k = lane + j * LANES;
                                if (k < cols) {
                                    out[base + k] = out(dtype, y[base + k], g[base + k], d);
                                    written[base + k]++;
                                }
                            }
                        }
                    }
                }
            }
            case BLOCK, REREAD -> {
                int nwarps = plan.threads() / LANES;
                for (int row = 0; row < plan.gridX(); row++) {
                    int base = row * cols;
                    double[] sy = y;
                    double[] sg = g;
                    int sbase = base;
                    if (plan.variant() == Variant.BLOCK) {
                        // stage(): the row lands at the same address mod 16 as in global memory
                        int slots = (int) LaunchPlanner.rowSlots(cols, dtype);
                        sy = new double[slots];
                        sg = new double[slots];
                        System.arraycopy(y, base, sy, shift, cols);
                        System.arraycopy(g, base, sg, shift, cols);
                        sbase = shift;
                    }
                    double[][] part = new double[2 * segs][];
                    for (int warp = 0; warp < nwarps; warp++) {
                        for (int seg = warp; seg < segs; seg += nwarps) {
                            part[seg] = segment(f, sy, sg, sbase, seg, cols);
                        }
                    }
                    double[] root = segmentTree(f, part, segs);
                    double d = constantRow(rescue(f, f.mean(root), root, y, g, base, cols), g, base, cols,
                            plan.threads());
                    storeRow(dtype, y, g, out, written, base, 0, cols, shift, plan.threads(), d);
                }
            }
            case SPLIT -> {
                double[][][] ws = new double[rows][2 * segs][];
                int nwarps = plan.threads() / LANES;
                for (int row = 0; row < plan.gridY(); row++) {
                    for (int bx = 0; bx < plan.gridX(); bx++) {
                        int first = bx * plan.segmentsPerBlock();
                        int last = Math.min(segs, first + plan.segmentsPerBlock());
                        if (plan.stagedSegments() == 0) {
                            for (int warp = 0; warp < nwarps; warp++) {
                                for (int seg = first + warp; seg < last; seg += nwarps) {
                                    ws[row][seg] = segment(f, y, g, row * cols, seg, cols);
                                }
                            }
                        } else {
                            // rounds of `staged` segments copied to shared memory; warp w sums copy w
                            int staged = plan.stagedSegments();
                            int slots = (int) LaunchPlanner.rowSlots(SEGMENT, dtype);
                            for (int base = first; base < last; base += staged) {
                                int count = Math.min(staged, last - base);
                                double[] by = new double[count * slots];
                                double[] bg = new double[count * slots];
                                int[] at = new int[count];
                                for (int s = 0; s < count; s++) {
                                    int start = (base + s) * SEGMENT;
                                    int len = Math.min(SEGMENT, cols - start);
                                    at[s] = s * slots + (shift + start) % dtype.vector();
                                    System.arraycopy(y, row * cols + start, by, at[s], len);
                                    System.arraycopy(g, row * cols + start, bg, at[s], len);
                                }
                                for (int warp = 0; warp < nwarps; warp++) {
                                    if (warp < count) {
                                        int seg = base + warp;
                                        // segment() indexes [base + seg*SEGMENT, ...): shift the base back
                                        ws[row][seg] = segment(f, by, bg, at[warp] - seg * SEGMENT, seg, cols);
                                    }
                                }
                            }
                        }
                    }
                }
                double[] dws = new double[rows];
                for (int row = 0; row < rows; row++) {
                    for (int seg = 0; seg < segs; seg++) {
                        if (ws[row][seg] == null) {
                            throw new AssertionError("segment " + seg + " of row " + row + " has no sum: " + plan);
                        }
                    }
                    double[] root = segmentTree(f, ws[row], segs);
                    dws[row] = constantRow(rescue(f, f.mean(root), root, y, g, row * cols, cols), g, row * cols,
                            cols, LaunchPlan.SPLIT_FINISH_THREADS);
                }
                for (int row = 0; row < plan.gridY(); row++) {
                    for (int bx = 0; bx < plan.gridX(); bx++) {
                        long lo = (long) bx * plan.segmentsPerBlock() * SEGMENT;
                        long hi = Math.min(cols, lo + (long) plan.segmentsPerBlock() * SEGMENT);
                        storeRow(dtype, y, g, out, written, row * cols, (int) lo, (int) (hi - lo), shift,
                                LaunchPlan.SPLIT_OUTPUT_THREADS, dws[row]);
                    }
                }
            }
            default -> throw new AssertionError(plan);
        }
        return out;
    }

    /** DT::rescue: float64 rows whose plain sums overflowed get rescaled_mean (every variant, split in split_finish). */
    static double rescue(Family f, double d, double[] root, double[] y, double[] g, int base, int cols) {
        if (f != DOUBLE_DOUBLE || (Double.isFinite(root[0]) && Double.isFinite(root[2]))) {
            return d;
        }
        return rescaledMean(y, g, base, cols, d);
    }

    /** rescaled_mean of the .cu file, line for line: one thread, the segment tree as a binary counter. */
    static double rescaledMean(double[] y, double[] g, int base, int cols, double d) {
        // abs_max's running maxima: NaN once a NaN is seen, else max |x| (RowNumerics.maxAbs's values)
        double mg = RowNumerics.maxAbs(g, base, cols);
        double my = RowNumerics.maxAbs(y, base, cols);
        if (!(Double.isFinite(mg) && Double.isFinite(my))) {
            return d;
        }
        int rowG = RowNumerics.scaleExponent(mg);
        int rowY = RowNumerics.scaleExponent(my);
        double[][] stack = new double[32][];
        int[] level = new int[32];
        int top = 0;
        int segs = RowNumerics.segments(cols);
        for (int s = 0; s < segs; s++) {
            int start = base + s * SEGMENT;
            int len = Math.min(SEGMENT, cols - s * SEGMENT);
            double[] p = segmentPairs(y, g, start, len, 0, 0);
            int kG = 0;
            int kY = 0;
            if (!(Double.isFinite(p[0]) && Double.isFinite(p[2]))) {
                kG = RowNumerics.scaleExponent(RowNumerics.maxAbs(g, start, len));
                kY = RowNumerics.scaleExponent(RowNumerics.maxAbs(y, start, len));
                p = segmentPairs(y, g, start, len, kG, kY);
            }
            double fy = pow2(kY - rowY);
            double fyg = pow2(kG - rowG + kY - rowY);
            p[0] *= fy;
            p[1] *= fy;
            p[2] *= fyg;
            p[3] *= fyg;
            stack[top] = p;
            level[top++] = 0;
            while (top >= 2 && level[top - 1] == level[top - 2]) {
                DOUBLE_DOUBLE.combine(stack[top - 2], stack[top - 1]);
                level[top - 2]++;
                top--;
            }
        }
        double[] r = stack[top - 1];
        for (int i = top - 2; i >= 0; i--) {
            double[] x = copy(stack[i]);
            DOUBLE_DOUBLE.combine(x, r);
            r = x;
        }
        return DOUBLE_DOUBLE.mean(r) * pow2(rowG);
    }

    /** segment_pairs: 32 lanes in index order over y * 2^-kY, g * 2^-kG, then the lane tree. */
    private static double[] segmentPairs(double[] y, double[] g, int start, int len, int kG, int kY) {
        double fg = pow2(-kG);
        double fy = pow2(-kY);
        double[][] lanes = new double[LANES][];
        for (int l = 0; l < LANES; l++) {
            lanes[l] = DOUBLE_DOUBLE.zero();
        }
        for (int k = 0; k < len; k++) {
            DOUBLE_DOUBLE.add(lanes[k & (LANES - 1)], y[start + k] * fy, g[start + k] * fg);
        }
        for (int off = LANES / 2; off > 0; off >>= 1) {
            for (int l = 0; l < off; l++) {
                DOUBLE_DOUBLE.combine(lanes[l], lanes[l + off]);
            }
        }
        return lanes[0];
    }

    private static double pow2(int e) {
        return e >= -1022 ? Double.longBitsToDouble((long) (e + 1023) << 52) : Double.longBitsToDouble(1L << (e + 1074));
    }

    /** store_row / output_global: scalar head up to the 16-byte boundary, whole vectors, scalar tail. */
    private static void storeRow(DType dtype, double[] y, double[] g, long[] out, int[] written, int base, int from,
                                 int n, int shift, int threads, double d) {
        forEachStore(dtype, from, n, shift, threads, (t, k) -> write(dtype, y, g, out, written, base + k, d));
    }

    /** Which thread of store_row / output_global stores which entry (indices from 0, {@code from} added). */
    static void forEachStore(DType dtype, int from, int n, int shift, int threads,
                             java.util.function.BiConsumer<Integer, Integer> store) {
        int vec = dtype.vector();
        int misalign = (shift + from) % vec;
        int head = Math.min(n, (vec - misalign) % vec);
        int nvec = (n - head) / vec;
        for (int t = 0; t < threads; t++) {
            for (int k = t; k < head; k += threads) {
                store.accept(t, from + k);
            }
            for (int v = t; v < nvec; v += threads) {
                for (int i = 0; i < vec; i++) {
                    store.accept(t, from + head + v * vec + i);
                }
            }
            for (int k = head + nvec * vec + t; k < n; k += threads) {
                store.accept(t, from + k);
            }
        }
    }

    private static void write(DType dtype, double[] y, double[] g, long[] out, int[] written, int i, double d) {
        out[i] = out(dtype, y[i], g[i], d);
        written[i]++;
    }

    /**
     * forward_kernel, with StrictMath.exp for its fdlibm_exp (FdlibmExpPortTest): the max, the canonical sum of the
     * exps (Plain1 for float32, DD1 with value() for float64) by warps over segments and the segment
     * tree, then exp / sum rounded once. It must give the reference's bits. What this checks: the max, the exp argument,
     * the sum's finishing step (value()), the division and the rounding. The summation order itself
     * hardly ever shows in forward outputs (positive terms summed in extra precision), so unlike the
     * backward model this does not pin the order down.
     */
    static long[] forward(DType dtype, double[] x, int rows, int cols, int threads) {
        long[] out = new long[rows * cols];
        int segs = RowNumerics.segments(cols);
        int nwarps = threads / LANES;
        boolean dd = dtype == DType.FLOAT64;
        for (int row = 0; row < rows; row++) {
            int base = row * cols;
            double m = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < threads; t++) { // per-thread maxima, then the tree: max is order-free
                for (int k = t; k < cols; k += threads) {
                    m = Math.max(m, x[base + k]);
                }
            }
            double mm = m;
            double[][] part = new double[2 * segs][];
            for (int warp = 0; warp < nwarps; warp++) {
                for (int seg = warp; seg < segs; seg += nwarps) {
                    int start = seg * SEGMENT;
                    int len = Math.min(SEGMENT, cols - start);
                    double[][] lanes = new double[LANES][];
                    for (int lane = 0; lane < LANES; lane++) {
                        double[] a = new double[2];
                        for (int k = lane; k < len; k += LANES) {
                            double e = StrictMath.exp(x[base + start + k] - mm);
                            (dd ? DD1 : PLAIN1).add(a, e, 0);
                        }
                        lanes[lane] = a;
                    }
                    part[seg] = warpTree(dd ? DD1 : PLAIN1, lanes);
                }
            }
            double[] r = segmentTree(dd ? DD1 : PLAIN1, part, segs);
            double sum = dd ? (Double.isFinite(r[0]) ? r[0] + r[1] : r[0]) : r[0];
            for (int k = 0; k < cols; k++) {
                double v = StrictMath.exp(x[base + k] - mm) / sum;
                out[base + k] = dd ? Double.doubleToRawLongBits(v) : Float.floatToRawIntBits((float) v) & 0xffffffffL;
            }
        }
        return out;
    }

    /** Plain1 (one float64 sum) and DD1 ((s, c) with the plain TwoSum step) as families of width 2. */
    static final Family PLAIN1 = new Family() {
        public double[] zero() {
            return new double[2];
        }

        public void add(double[] a, double y, double g) {
            a[0] = a[0] + y;
        }

        public void combine(double[] a, double[] o) {
            a[0] = a[0] + o[0];
        }

        public double mean(double[] a) {
            throw new UnsupportedOperationException();
        }
    };

    static final Family DD1 = new Family() {
        public double[] zero() {
            return new double[2];
        }

        public void add(double[] a, double y, double g) {
            addPair(a, 0, y);
        }

        public void combine(double[] a, double[] o) {
            combinePair(a, o, 0);
        }

        public double mean(double[] a) {
            throw new UnsupportedOperationException();
        }
    };
}
