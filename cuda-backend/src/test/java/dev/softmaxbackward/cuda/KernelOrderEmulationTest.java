package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.cuda.LaunchPlan.Variant;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The kernels' reduction scheme, modelled thread by thread in Java ({@link KernelModel}) for the plan
 * the planner picks, equals the reference backend bit for bit: every variant (warp, block with the
 * staged row, reread, split across blocks), several devices (so the same shape takes different
 * variants and splits), float32 and float64, ordinary and hostile rows. Also: every output is written
 * exactly once.
 */
class KernelOrderEmulationTest {
    private static final List<DeviceLimits> DEVICES = List.of(DeviceLimits.h100(), DeviceLimits.t4(),
            new DeviceLimits(1, 1024, 48 * 1024, 64 * 1024, Integer.MAX_VALUE, 65535));

    /** {@link #fill} for rows {@code [0, rows)}. */
    static void fillRows(Random random, double[] y, double[] g, int rows, int cols, boolean single) {
        for (int r = 0; r < rows; r++) {
            fill(random, y, g, r, cols, single);
        }
    }

    /** x rounded to float32, entry by entry. */
    static float[] narrow(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    /** Row kinds: softmax-like, constant g, zero y, cancelling magnitudes, non-finite, subnormal. */
    static void fill(Random random, double[] y, double[] g, int row, int cols, boolean single) {
        int kind = row % 7;
        int base = row * cols;
        double max = Double.NEGATIVE_INFINITY;
        double[] x = new double[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = random.nextGaussian() * 3;
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < cols; i++) {
            x[i] = Math.exp(x[i] - max);
            sum += x[i];
        }
        // constant rows (kind 1): an easy value, an awkward one (d != g before the constant-row rule),
        // one whose products underflow (float64), NaN, and "constant but the last entry"
        int variant = (row / 7) % 5;
        double constant = switch (variant) {
            case 0 -> 0.75;
            case 1 -> single ? (float) (0.1 + random.nextDouble()) : 0.1 + random.nextDouble();
            case 2 -> single ? 0x1p-120 : 1e-310;                   // float64: the products underflow
            case 3 -> Double.NaN;
            default -> single ? (float) random.nextGaussian() : random.nextGaussian();
        };
        for (int i = 0; i < cols; i++) {
            double yi = x[i] / sum;
            double gi = random.nextGaussian();
            switch (kind) {
                case 1 -> gi = constant;                                // constant g: exact zeros
                case 2 -> yi = 0.0;                                     // sum(y) == 0: d = 0
                case 3 -> gi = Math.copySign(Math.scalb(1.0, single ? random.nextInt(200) - 100
                        : random.nextInt(1200) - 600), gi);
                case 4 -> {
                    if (i == cols / 2) {
                        gi = random.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NaN;
                    }
                }
                case 5 -> yi = yi * 0x1p-140;                           // float32 subnormal territory
                default -> { }
            }
            y[base + i] = single ? (float) yi : yi;
            g[base + i] = single ? (float) gi : gi;
        }
        if (kind == 1 && variant == 4 && cols >= 2) {
            g[base + cols - 1] = single ? (float) (constant * 1.5) : constant * 1.5; // not constant after all
        }
        if (kind == 6 && cols >= 2) {
            // Order-sensitive: constant y, and huge +B/-B pairs that cancel exactly overall, among
            // ordinary g. What survives of the ordinary terms depends on which partial sums held a B
            // when they were added, i.e. on the lane mapping and both trees: the float64 (or
            // double-double) sums cannot hide a change of order here, so d changes with it.
            double big = single ? 0x1p60 : 0x1p300;
            for (int i = 0; i < cols; i++) {
                y[base + i] = single ? (float) (1.0 / cols) : 1.0 / cols;
                g[base + i] = single ? (float) random.nextGaussian() : random.nextGaussian();
            }
            List<Integer> places = new ArrayList<>();
            for (int i = 0; i < cols; i++) {
                places.add(i);
            }
            Collections.shuffle(places, random); // distinct places: the +B and -B must balance exactly
            if ((row / 7) % 2 == 0) {
                for (int p = 0; p < Math.max(1, cols / 8); p++) {
                    g[base + places.get(2 * p)] = big;
                    g[base + places.get(2 * p + 1)] = -big;
                }
            } else {
                // one pair, first and last segment: only the segment tree's shape decides what survives
                int last = (cols - 1) / 4096 * 4096;
                int plus = random.nextInt(Math.min(cols, 4096));
                int minus = last + random.nextInt(cols - last);
                if (plus == minus) {
                    minus = (minus + 1) % cols;
                }
                g[base + plus] = big;
                g[base + minus] = -big;
            }
        }
    }

    @Test
    void everyVariantEqualsTheReferenceBitForBit() {
        int[][] shapes = {
            {1, 1}, {5, 31}, {9, 33}, {3, 100}, {6, 512}, {4, 513}, {5, 1024}, {3, 1025}, {2, 4095}, {3, 4096},
            {2, 4097}, {1, 8193}, {7, 12289}, {1, 20000}, {300, 1500}, {90, 4100}, {2, 40000}, {1, 70000},
            {200, 9000},
        };
        Random random = new Random(2026);
        Set<Variant> seen = EnumSet.noneOf(Variant.class);
        ReferenceBackend reference = new ReferenceBackend();
        int compared = 0;
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            int n = rows * cols;
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
                boolean single = dtype == DType.FLOAT32;
                double[] y = new double[n];
                double[] g = new double[n];
                fillRows(random, y, g, rows, cols, single);
                long[] expected = new long[n];
                if (single) {
                    float[] o = new float[n];
                    reference.softmaxBackward(narrow(g), narrow(y), o, rows, cols);
                    for (int i = 0; i < n; i++) {
                        expected[i] = Float.floatToRawIntBits(o[i]) & 0xffffffffL;
                    }
                } else {
                    double[] o = new double[n];
                    reference.softmaxBackward(g, y, o, rows, cols);
                    for (int i = 0; i < n; i++) {
                        expected[i] = Double.doubleToRawLongBits(o[i]);
                    }
                }
                for (DeviceLimits limits : DEVICES) {
                    LaunchPlan plan = LaunchPlanner.plan(rows, cols, dtype, limits);
                    seen.add(plan.variant());
                    int shift = random.nextInt(dtype.vector());
                    int[] written = new int[n];
                    long[] actual = KernelModel.run(plan, dtype, y, g, rows, cols, shift, written);
                    for (int i = 0; i < n; i++) {
                        int at = i;
                        assertEquals(1, written[i], () -> "output " + at + " written " + written[at] + " times by " + plan);
                        if (expected[i] != actual[i]) {
                            throw new AssertionError(plan + " rows " + rows + " cols " + cols + " " + dtype
                                    + ": entry " + i + " (row " + i / cols + ") expected bits "
                                    + Long.toHexString(expected[i]) + " but the kernel model gives "
                                    + Long.toHexString(actual[i]));
                        }
                    }
                    compared += n;
                }
            }
        }
        assertEquals(EnumSet.of(Variant.WARP, Variant.BLOCK, Variant.REREAD, Variant.SPLIT), seen);
        assertTrue(compared > 1_000_000, "compared " + compared);
    }

    /**
     * float64 rows whose plain sums overflow although every entry is finite (docs/numerics.md §2, step
     * 3a): every variant, split included, must rescale them exactly as the reference does. Row kinds:
     * the two rows repeated, [MAX, -MAX] under y = [3/4, 1/4], huge y times ordinary g, and one
     * overflowing segment among ordinary ones (so segments at different scales meet in the tree).
     */
    @Test
    void float64RowsWhoseSumsOverflowEqualTheReferenceInEveryVariant() {
        int[][] shapes = {{4, 2}, {6, 100}, {5, 1025}, {4, 8193}, {3, 20000}, {2, 40000}, {1, 70000}};
        double max = Double.MAX_VALUE;
        Random random = new Random(77);
        Set<Variant> seen = EnumSet.noneOf(Variant.class);
        ReferenceBackend reference = new ReferenceBackend();
        int overflowing = 0;
        int finite = 0;
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            double[] y = new double[rows * cols];
            double[] g = new double[rows * cols];
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                int hot = random.nextInt(cols);
                for (int i = 0; i < cols; i++) {
                    double[] yg = switch (r % 5) {
                        case 0 -> i % 2 == 0 ? new double[] {0.5, max} : new double[] {Math.nextUp(0.5), Math.nextDown(max)};
                        case 1 -> new double[] {1e5, i % 2 == 0 ? 1e304 : Math.nextUp(1e304)};
                        case 2 -> new double[] {i % 2 == 0 ? 0.75 : 0.25, i % 2 == 0 ? max : -max};
                        case 3 -> new double[] {1e300 * (1 + random.nextDouble()), 1e10 * random.nextGaussian()};
                        default -> new double[] {random.nextDouble(), Math.abs(i - hot) < 64
                                ? max * (0.5 + random.nextDouble() / 2) : random.nextGaussian()};
                    };
                    y[base + i] = yg[0];
                    g[base + i] = yg[1];
                }
                double plain = 0;
                for (int i = base; i < base + cols; i++) {
                    plain += y[i] * g[i];
                }
                overflowing += Double.isFinite(plain) ? 0 : 1;
            }
            double[] o = new double[rows * cols];
            reference.softmaxBackward(g, y, o, rows, cols);
            for (double v : o) {
                finite += Double.isFinite(v) ? 1 : 0;
            }
            for (DeviceLimits limits : DEVICES) {
                LaunchPlan plan = LaunchPlanner.plan(rows, cols, DType.FLOAT64, limits);
                seen.add(plan.variant());
                int shift = random.nextInt(DType.FLOAT64.vector());
                int[] written = new int[rows * cols];
                long[] actual = KernelModel.run(plan, DType.FLOAT64, y, g, rows, cols, shift, written);
                for (int i = 0; i < rows * cols; i++) {
                    if (Double.doubleToRawLongBits(o[i]) != actual[i]) {
                        throw new AssertionError(plan + " rows " + rows + " cols " + cols + ": entry " + i + " (row "
                                + i / cols + ") expected " + o[i] + " but the kernel model gives "
                                + Double.longBitsToDouble(actual[i]));
                    }
                }
            }
        }
        assertEquals(EnumSet.of(Variant.WARP, Variant.BLOCK, Variant.REREAD, Variant.SPLIT), seen);
        assertTrue(overflowing >= 20, "rows whose plain sum overflows: " + overflowing);
        assertTrue(finite > 100_000, "finite reference outputs: " + finite);
    }

    @Test
    void anyWholeSegmentSplitGivesTheSameBits() {
        // the same long row under every split the kernels could be given: 1..all segments per block
        int cols = 9 * 4096 + 123;
        Random random = new Random(7);
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            double[] y = new double[cols];
            double[] g = new double[cols];
            fill(random, y, g, 0, cols, dtype == DType.FLOAT32);
            long[] first = null;
            for (int perBlock = 1; perBlock <= 10; perBlock++) {
                for (int warps = 1; warps <= 8; warps *= 2) {
                    int splits = (10 + perBlock - 1) / perBlock;
                    LaunchPlan plan = new LaunchPlan(Variant.SPLIT, "sb_split_partials_" + dtype.suffix(), splits, 1,
                            32 * warps, 0, 1, 0, perBlock, splits, LaunchPlanner.splitWorkspaceBytes(1, cols, dtype),
                            warps % 3);
                    long[] out = KernelModel.run(plan, dtype, y, g, 1, cols, 0, new int[cols]);
                    if (first == null) {
                        first = out;
                    } else {
                        for (int i = 0; i < cols; i++) {
                            assertEquals(first[i], out[i], "entry " + i + " with " + plan);
                        }
                    }
                }
            }
        }
    }

    @Test
    void forwardSumOrderEqualsTheReferenceWithTheSameExp() {
        Random random = new Random(11);
        ReferenceBackend reference = new ReferenceBackend();
        for (int[] shape : new int[][] {{3, 1}, {5, 100}, {4, 4097}, {2, 20000}, {1, 70000}}) {
            int rows = shape[0];
            int cols = shape[1];
            int n = rows * cols;
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                // wide logits: many exps underflow or sit near 1, so the summation order shows in the bits
                x[i] = random.nextGaussian() * (i % 3 == 0 ? 30 : 2);
            }
            float[] fx = narrow(x);
            double[] dOut = new double[n];
            reference.softmax(x, dOut, rows, cols);
            float[] fOut = new float[n];
            reference.softmax(fx, fOut, rows, cols);
            double[] fxWide = new double[n];
            for (int i = 0; i < n; i++) {
                fxWide[i] = fx[i];
            }
            int threads = LaunchPlanner.rowKernelThreads(cols);
            long[] d = KernelModel.forward(DType.FLOAT64, x, rows, cols, threads);
            long[] f = KernelModel.forward(DType.FLOAT32, fxWide, rows, cols, threads);
            for (int i = 0; i < n; i++) {
                assertEquals(Double.doubleToRawLongBits(dOut[i]), d[i], "float64 softmax entry " + i);
                assertEquals(Float.floatToRawIntBits(fOut[i]) & 0xffffffffL, f[i], "float32 softmax entry " + i);
            }
        }
    }
}
