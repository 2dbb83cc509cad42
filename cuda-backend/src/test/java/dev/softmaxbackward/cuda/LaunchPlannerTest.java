package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.cuda.LaunchPlan.Variant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The launch configuration for V from 1 to 2^20 and B from 1 to 2^16, on a Turing and a Hopper card. */
class LaunchPlannerTest {
    private static final List<DeviceLimits> DEVICES = List.of(DeviceLimits.t4(), DeviceLimits.h100(),
            new DeviceLimits(1, 1024, 48 * 1024, 64 * 1024, Integer.MAX_VALUE, 65535),
            // an H200 as its driver reported the kernels' block limits, where they capped them, and
            // limits tighter than any seen, down to one warp per block
            DeviceLimits.h100().withKernelMaxThreads(Map.of("sb_block_f64", 416, "sb_reread_f64", 480)),
            DeviceLimits.h100().withKernelMaxThreads(Map.of("sb_block_f32", 100, "sb_reread_f32", 64,
                    "sb_split_partials_f32", 32, "sb_split_partials_f64", 200)));

    /** Every power of two and its neighbours up to 2^20, the issue's sweep, and random values. */
    static List<Integer> columns() {
        Set<Integer> v = new TreeSet<>();
        for (int p = 0; p <= 20; p++) {
            for (int d = -1; d <= 1; d++) {
                v.add((1 << p) + d);
            }
        }
        v.addAll(List.of(32, 128, 1024, 4096, 32000, 50257, 131072, 262144, 4095, 4097, 8191, 8193, 12289));
        for (int c = 1; c <= 1100; c++) {
            v.add(c);
        }
        Random random = new Random(5);
        for (int i = 0; i < 300; i++) {
            v.add(1 + random.nextInt(1 << 20));
        }
        v.remove(0);
        return new ArrayList<>(v);
    }

    static List<Integer> rows() {
        Set<Integer> b = new TreeSet<>();
        for (int p = 0; p <= 16; p++) {
            for (int d = -1; d <= 1; d++) {
                b.add((1 << p) + d);
            }
        }
        b.addAll(List.of(1, 2, 3, 5, 7, 63, 64, 65, 131, 132, 133, 263, 264, 265, 4096, 65535, 65536));
        b.remove(0);
        return new ArrayList<>(b);
    }

    @Test
    void everyShapeGetsAValidPlan() {
        Map<Variant, Integer> seen = new EnumMap<>(Variant.class);
        int plans = 0;
        for (DeviceLimits limits : DEVICES) {
            for (DType dtype : DType.values()) {
                for (int cols : columns()) {
                    for (int rows : rows()) {
                        if ((long) rows * cols > Integer.MAX_VALUE) {
                            continue;
                        }
                        LaunchPlan plan = LaunchPlanner.plan(rows, cols, dtype, limits);
                        check(plan, rows, cols, dtype, limits);
                        seen.merge(plan.variant(), 1, Integer::sum);
                        plans++;
                    }
                }
            }
        }
        assertTrue(plans > 100_000, "checked " + plans + " plans");
        for (Variant v : List.of(Variant.WARP, Variant.BLOCK, Variant.REREAD, Variant.SPLIT)) {
            assertTrue(seen.getOrDefault(v, 0) > 100, v + " chosen " + seen.get(v) + " times: " + seen);
        }
    }

    /** The invariants; each one would break a kernel's assumption (or the canonical order) if violated. */
    static void check(LaunchPlan p, int rows, int cols, DType dtype, DeviceLimits limits) {
        String where = p + " for rows " + rows + " cols " + cols + " " + dtype + " on " + limits;
        assertTrue(CudaRuntime.kernelNames().contains(p.kernel()), "unknown kernel: " + where);
        assertTrue(p.threads() >= 32 && p.threads() <= limits.maxThreadsPerBlock() && p.threads() % 32 == 0,
                "block size: " + where);
        // more threads than the kernel's registers allow fail the launch (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES)
        assertTrue(p.threads() <= limits.maxThreads(p.kernel()), "the kernel's block-size limit: " + where);
        assertTrue(p.gridX() >= 1 && p.gridX() <= limits.maxGridX(), "grid.x: " + where);
        assertTrue(p.gridY() >= 1 && p.gridY() <= limits.maxGridY(), "grid.y: " + where);
        assertTrue(p.sharedBytes() >= 0 && p.sharedBytes() <= limits.maxSharedPerBlock(), "shared memory: " + where);
        int segments = (int) (((long) cols + 4095) / 4096);
        switch (p.variant()) {
            case WARP -> {
                // every row covered once: warps of the grid >= rows, and the last block is not empty
                assertEquals(LaunchPlanner.WARP_ROWS_PER_BLOCK, p.threads() / 32, where);
                assertTrue((long) p.gridX() * p.rowsPerBlock() >= rows, "rows not covered: " + where);
                assertTrue((long) (p.gridX() - 1) * p.rowsPerBlock() < rows, "an empty block: " + where);
                assertEquals(1, p.gridY(), where);
                // the row fits the registers: P entries per lane, P the smallest power of two that holds it
                assertTrue(32L * p.perLane() >= cols && (p.perLane() == 1 || 16L * p.perLane() < cols),
                        "entries per lane: " + where);
                assertTrue(p.perLane() <= LaunchPlanner.maxPerLane(dtype), where);
                assertEquals(1, segments, "the warp variant holds one segment: " + where);
                assertEquals(0, p.sharedBytes(), where);
            }
            case BLOCK -> {
                assertEquals(rows, p.gridX(), "one block per row: " + where);
                assertEquals(LaunchPlanner.blockBytes(cols, dtype), p.sharedBytes(), where);
                // y and g with their alignment shift, whole 16-byte vectors, then the tree
                assertTrue(p.sharedBytes() >= 2L * (cols + dtype.vector() - 1) * dtype.bytes()
                        + 2L * segments * dtype.accumulatorBytes() + 8, where);
                assertEquals(0, LaunchPlanner.rowSlots(cols, dtype) * dtype.bytes() % 16, where);
                assertTrue(p.sharedBytes() <= limits.maxSharedPerSm() / 2, where);
            }
            case REREAD -> {
                assertEquals(rows, p.gridX(), "one block per row: " + where);
                assertEquals(2L * segments * dtype.accumulatorBytes() + 16, p.sharedBytes(), where);
            }
            case SPLIT -> {
                assertEquals(rows, p.gridY(), "one grid row per row: " + where);
                assertEquals(p.splits(), p.gridX(), where);
                // whole segments per block, every segment in exactly one block, no empty block
                assertTrue(p.segmentsPerBlock() >= 1, where);
                assertTrue((long) p.splits() * p.segmentsPerBlock() >= segments, "segments not covered: " + where);
                assertTrue((long) (p.splits() - 1) * p.segmentsPerBlock() < segments, "an empty block: " + where);
                // staged segments: all fit in shared memory, one warp each, never more than a block takes
                assertTrue(p.stagedSegments() >= 0 && p.stagedSegments() <= p.segmentsPerBlock(), where);
                assertEquals(p.stagedSegments() * LaunchPlanner.segmentStageBytes(dtype), p.sharedBytes(), where);
                assertTrue(32 * p.stagedSegments() <= p.threads(), where);
                assertTrue(p.stagedSegments() > 0 || p.threads() <= 32 * p.segmentsPerBlock()
                        || p.threads() == 32 * 8, where);
                assertTrue(LaunchPlanner.segmentStageBytes(dtype) >= 2L * (4096 + dtype.vector() - 1) * dtype.bytes(),
                        where);
                assertEquals((long) rows * 2 * segments * dtype.accumulatorBytes() + 8L * rows, p.workspaceBytes(),
                        where);
                assertTrue(rows <= limits.maxGridY(), where);
                assertTrue(p.finishKernel().startsWith("sb_split_finish_")
                        && CudaRuntime.kernelNames().contains(p.finishKernel()), where);
                assertTrue(CudaRuntime.kernelNames().contains(p.outputKernel()), where);
            }
            default -> throw new AssertionError(where);
        }
    }

    @Test
    void emptyBatchesLaunchNothing() {
        assertEquals(Variant.NONE, LaunchPlanner.plan(0, 100, DType.FLOAT32, DeviceLimits.h100()).variant());
        assertEquals(Variant.NONE, LaunchPlanner.plan(100, 0, DType.FLOAT64, DeviceLimits.h100()).variant());
    }

    @Test
    void theIssuesShapesOnAnH100() {
        DeviceLimits h100 = DeviceLimits.h100();
        // short rows: a warp per row, the row in registers
        assertEquals("sb_warp_f32_p1", LaunchPlanner.plan(65536, 32, DType.FLOAT32, h100).kernel());
        assertEquals("sb_warp_bf16_p32", LaunchPlanner.plan(4096, 1024, DType.BFLOAT16, h100).kernel());
        assertEquals("sb_warp_f64_p16", LaunchPlanner.plan(4096, 512, DType.FLOAT64, h100).kernel());
        // a long row alone: split across blocks in whole segments, at least two blocks per SM in all
        LaunchPlan single = LaunchPlanner.plan(1, 262144, DType.FLOAT32, h100);
        assertEquals(Variant.SPLIT, single.variant());
        assertEquals(64, single.splits());
        assertEquals(1, single.segmentsPerBlock());
        // many rows that fit on chip: one block per row, one read of y and g
        assertEquals(Variant.BLOCK, LaunchPlanner.plan(4096, 4096, DType.FLOAT32, h100).variant());
        assertEquals(Variant.BLOCK, LaunchPlanner.plan(4096, 4096, DType.BFLOAT16, h100).variant());
        // many rows too long for half an SM's shared memory: the output sweep re-reads from L2
        assertEquals(Variant.REREAD, LaunchPlanner.plan(4096, 50257, DType.FLOAT32, h100).variant());
        assertEquals(Variant.REREAD, LaunchPlanner.plan(4096, 131072, DType.BFLOAT16, h100).variant());
        // few rows of several segments: split
        assertEquals(Variant.SPLIT, LaunchPlanner.plan(64, 32000, DType.FLOAT32, h100).variant());
    }

    /**
     * On an H200 the float64 block kernel (130 registers) failed to launch with 416 and 512 threads
     * (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, bench/results/gpu-h200-2026-12-04.log): the planner must keep
     * within the block size the driver reports for the kernel, in whole warps.
     */
    @Test
    void blocksStayWithinTheKernelsRegisterLimit() {
        DeviceLimits h100 = DeviceLimits.h100();
        DeviceLimits h200 = h100.withKernelMaxThreads(Map.of("sb_block_f64", 384, "sb_reread_f64", 400));
        for (int[] shape : new int[][] {{8, 3300}, {6, 4000}, {300, 6000}, {300, 200_000}}) {
            LaunchPlan uncapped = LaunchPlanner.plan(shape[0], shape[1], DType.FLOAT64, h100);
            assertTrue(uncapped.threads() > 384, "the shape must ask for more than the cap: " + uncapped);
            LaunchPlan capped = LaunchPlanner.plan(shape[0], shape[1], DType.FLOAT64, h200);
            assertEquals(uncapped.variant(), capped.variant());
            assertEquals(384, capped.threads(), capped.toString());
            assertEquals(uncapped.sharedBytes(), capped.sharedBytes(), capped.toString());
        }
        // other dtypes and kernels keep the device's limit
        assertEquals(LaunchPlanner.plan(8, 3300, DType.FLOAT32, h100), LaunchPlanner.plan(8, 3300, DType.FLOAT32, h200));
    }

    @Test
    void theLongestRowsStillGetAPlan() {
        // one row of 2^31 - 1 entries: its segment tree exceeds shared memory, so it is split
        for (DeviceLimits limits : DEVICES) {
            for (DType dtype : DType.values()) {
                for (int cols : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE / 2, 1 << 24}) {
                    for (int rows = 1; (long) rows * cols <= Integer.MAX_VALUE; rows *= 2) {
                        check(LaunchPlanner.plan(rows, cols, dtype, limits), rows, cols, dtype, limits);
                    }
                }
            }
        }
    }

    @Test
    void theGpuTestShapesTakeEveryVariantForEveryDtype() {
        for (DeviceLimits device : List.of(DeviceLimits.h100(), DeviceLimits.t4())) {
            for (DType dtype : DType.values()) {
                java.util.Set<LaunchPlan.Variant> variants = java.util.EnumSet.noneOf(LaunchPlan.Variant.class);
                for (int[] shape : CudaGpuTest.DEVICE_SHAPES) {
                    variants.add(LaunchPlanner.plan(shape[0], shape[1], dtype, device).variant());
                }
                org.junit.jupiter.api.Assertions.assertEquals(
                        java.util.EnumSet.complementOf(java.util.EnumSet.of(LaunchPlan.Variant.NONE)), variants,
                        dtype + " on " + device);
            }
        }
    }

    @Test
    void deviceResidentShapesPast2To31EntriesGetPlansInRowChunks() {
        // the device-resident API takes rows * cols >= 2^31 (64-bit sizes in every kernel); each
        // launch of rowsPerLaunch rows gets a valid plan, and the chunks cover the rows
        int[][] shapes = {{1 << 20, 4096}, {1 << 16, 1 << 16}, {Integer.MAX_VALUE, 2}, {Integer.MAX_VALUE, 33},
            {70_000, 1 << 24}, {1 << 17, 1 << 15}, {3, Integer.MAX_VALUE}, {100_000, 50257}};
        for (DeviceLimits limits : DEVICES) {
            for (DType dtype : DType.values()) {
                for (int[] shape : shapes) {
                    int rows = shape[0];
                    int cols = shape[1];
                    int chunk = LaunchPlanner.rowsPerLaunch(rows, cols, dtype, limits);
                    assertTrue(chunk >= 1 && chunk <= rows, "chunk " + chunk);
                    long covered = 0;
                    for (long r0 = 0; r0 < rows; r0 += chunk) {
                        int nr = (int) Math.min(chunk, rows - r0);
                        check(LaunchPlanner.plan(nr, cols, dtype, limits), nr, cols, dtype, limits);
                        covered += nr;
                    }
                    assertEquals(rows, covered);
                }
            }
        }
        // only where the segment tree outgrows shared memory (split, rows on grid.y) are rows cut
        DeviceLimits t4 = DeviceLimits.t4();
        assertEquals(65535, LaunchPlanner.rowsPerLaunch(70_000, 1 << 24, DType.FLOAT32, t4));
        assertEquals(Integer.MAX_VALUE, LaunchPlanner.rowsPerLaunch(Integer.MAX_VALUE, 33, DType.FLOAT32, t4));
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> LaunchPlanner.plan(70_000, 1 << 24, DType.FLOAT32, t4));
        assertTrue(e.getMessage().contains("rowsPerLaunch 65535"), e.getMessage());
        // the warp variant's block count does not overflow int for rows near 2^31
        LaunchPlan warp = LaunchPlanner.plan(Integer.MAX_VALUE, 32, DType.FLOAT32, t4);
        assertEquals((Integer.MAX_VALUE / 4) + 1, warp.gridX());
    }

    @Test
    void theSmokeShapesTakeEveryVariantForEveryDtype() {
        // DeviceCheck smoke stops with a mismatch when they do not: check here, before a GPU run
        for (DeviceLimits device : DEVICES) {
            for (DType dtype : DType.values()) {
                java.util.Set<Variant> variants = java.util.EnumSet.noneOf(Variant.class);
                for (int[] shape : DeviceCheck.SMOKE_SHAPES) {
                    variants.add(LaunchPlanner.plan(shape[0], shape[1], dtype, device).variant());
                }
                assertEquals(java.util.EnumSet.complementOf(java.util.EnumSet.of(Variant.NONE)), variants,
                        dtype + " on " + device);
            }
        }
    }
}
