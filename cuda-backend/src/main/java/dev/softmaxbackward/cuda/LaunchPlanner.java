package dev.softmaxbackward.cuda;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;
import static dev.softmaxbackward.spi.RowNumerics.segments;

import dev.softmaxbackward.cuda.LaunchPlan.Variant;

/**
 * Chooses the kernel family and launch configuration of a softmaxBackward call from the shape, the
 * dtype and the device's limits. Plain Java so that it is tested for every shape without a GPU.
 *
 * <p>None of these choices changes a bit of the result: every family follows the canonical order
 * (whole 4096-entry segments per warp, the fixed lane tree, the pairwise segment tree). They only
 * change speed, and they have NOT been tuned on a GPU yet: the thresholds below are first guesses
 * from the memory-bound model (keep at least two waves of blocks, keep a row on chip when it fits).
 *
 * <ul>
 *   <li>{@code cols <= 32 * P} (P = 32 entries per lane, 16 for float64): {@link Variant#WARP}, four
 *       rows per 128-thread block, the row in registers.</li>
 *   <li>rows too few to fill the GPU ({@code rows < 2 * SMs}) and at least two segments per row, or
 *       a segment tree too big for shared memory: {@link Variant#SPLIT}, enough blocks per row in
 *       whole segments to reach two blocks per SM.</li>
 *   <li>y and g of a row fit in half an SM's shared memory: {@link Variant#BLOCK} (one read of each).</li>
 *   <li>otherwise {@link Variant#REREAD}.</li>
 * </ul>
 */
final class LaunchPlanner {
    /** Rows per block of the warp family (128 threads). */
    static final int WARP_ROWS_PER_BLOCK = 4;
    /** Most warps a block-per-row kernel uses for one row's segments. */
    static final int MAX_WARPS = 32;

    private LaunchPlanner() {}

    /** The largest entries-per-lane of the warp family for this dtype (a power of two). */
    static int maxPerLane(DType dtype) {
        return dtype == DType.FLOAT64 ? 16 : 32;
    }

    /** Entries of the shared-memory row buffer of one array: the row, shifted by up to VEC-1, whole vectors. */
    static long rowSlots(int cols, DType dtype) {
        int vec = dtype.vector();
        return ((long) cols + vec + vec - 1) / vec * vec;
    }

    /** Shared memory of the segment tree (2 * segments accumulators) and d (one double). */
    static long treeBytes(int cols, DType dtype) {
        return 2L * segments(cols) * dtype.accumulatorBytes() + 16;
    }

    /** Shared memory of {@link Variant#BLOCK}: y and g rows, then the tree; the kernel lays it out so. */
    static long blockBytes(int cols, DType dtype) {
        return 2 * rowSlots(cols, dtype) * dtype.bytes() + treeBytes(cols, dtype);
    }

    /** Shared memory of one staged segment in the split kernel: y and g, each shifted by up to VEC-1. */
    static long segmentStageBytes(DType dtype) {
        return 2 * rowSlots(SEGMENT, dtype) * dtype.bytes();
    }

    /** Global workspace of {@link Variant#SPLIT}: per row 2 * segments accumulators, then one double per row. */
    static long splitWorkspaceBytes(int rows, int cols, DType dtype) {
        return (long) rows * 2 * segments(cols) * dtype.accumulatorBytes() + 8L * rows;
    }

    /**
     * Rows one launch may take: all of them, except where only the split variant fits a row (its
     * segment tree outgrows shared memory) and grid.y (one row per y) is the limit. The kernels take
     * 64-bit row offsets, so rows * cols may exceed 2^31; the host cuts the rows, never the columns.
     */
    static int rowsPerLaunch(int rows, int cols, DType dtype, DeviceLimits limits) {
        boolean onlySplit = cols > LANES * maxPerLane(dtype) && treeBytes(cols, dtype) > limits.maxSharedPerBlock();
        return onlySplit ? Math.max(1, Math.min(rows, limits.maxGridY())) : Math.max(1, rows);
    }

    static LaunchPlan plan(int rows, int cols, DType dtype, DeviceLimits limits) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("rows " + rows + " and cols " + cols + " must be >= 0");
        }
        String suffix = dtype.suffix();
        if (rows == 0 || cols == 0) {
            return new LaunchPlan(Variant.NONE, "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        }
        if (cols <= LANES * maxPerLane(dtype)) {
            int perLane = Integer.highestOneBit((cols + LANES - 1) / LANES);
            if (perLane * LANES < cols) {
                perLane <<= 1;
            }
            int blocks = (int) (((long) rows + WARP_ROWS_PER_BLOCK - 1) / WARP_ROWS_PER_BLOCK); // rows near 2^31
            return new LaunchPlan(Variant.WARP, "sb_warp_" + suffix + "_p" + perLane, blocks, 1,
                    WARP_ROWS_PER_BLOCK * LANES, 0, WARP_ROWS_PER_BLOCK, perLane, 0, 0, 0, 0);
        }
        int segments = segments(cols);
        long tree = treeBytes(cols, dtype);
        int targetBlocks = 2 * limits.multiprocessors();
        boolean fewRows = rows < targetBlocks && segments >= 2;
        boolean treeTooBig = tree > limits.maxSharedPerBlock();
        if ((fewRows || treeTooBig) && rows <= limits.maxGridY()) {
            int splits = Math.min(segments, (targetBlocks + rows - 1) / rows);
            int perBlock = (segments + splits - 1) / splits;
            splits = (segments + perBlock - 1) / perBlock;
            // stage up to 8 whole segments at a time in at most half an SM's shared memory (see
            // split_partials); when not even one fits, the warps read global memory directly
            long perSegment = segmentStageBytes(dtype);
            long room = Math.min(limits.maxSharedPerBlock(), limits.maxSharedPerSm() / 2);
            // a warp per staged segment, within the kernel's block-size limit
            String kernel = "sb_split_partials_" + suffix;
            int maxThreads = limits.maxThreads(kernel);
            int staged = (int) Math.min(Math.min(Math.min(perBlock, 8), room / perSegment), maxThreads / LANES);
            int threads = Math.min(maxThreads, staged > 0 ? 256 : LANES * Math.min(perBlock, 8));
            return new LaunchPlan(Variant.SPLIT, kernel, splits, rows, threads,
                    (int) (staged * perSegment), 1, 0, perBlock, splits, splitWorkspaceBytes(rows, cols, dtype), staged);
        }
        if (treeTooBig) {
            // the caller launches at most rowsPerLaunch rows at a time
            throw new IllegalStateException("no launch plan for rows " + rows + " cols " + cols + " " + dtype
                    + " on " + limits + ": more rows than rowsPerLaunch " + rowsPerLaunch(rows, cols, dtype, limits));
        }
        int warps = Math.min(MAX_WARPS, Math.max(8, segments));
        long block = blockBytes(cols, dtype);
        if (block <= Math.min(limits.maxSharedPerBlock(), limits.maxSharedPerSm() / 2)) {
            // every thread stages about four 16-byte vectors of y and of g; a warp per segment at least
            long perThread = 4L * dtype.vector();
            long wanted = ((cols + perThread - 1) / perThread + LANES - 1) / LANES * LANES;
            String kernel = "sb_block_" + suffix;
            int threads = (int) Math.min(limits.maxThreads(kernel), Math.max((long) LANES * warps, wanted));
            return new LaunchPlan(Variant.BLOCK, kernel, rows, 1, threads, (int) block, 1, 0, 0, 0, 0, 0);
        }
        String kernel = "sb_reread_" + suffix;
        int threads = Math.min(limits.maxThreads(kernel), LANES * warps);
        return new LaunchPlan(Variant.REREAD, kernel, rows, 1, threads, (int) tree, 1, 0, 0, 0, 0, 0);
    }

    /** Block size of the forward-softmax and cross-entropy kernels (one block per row). */
    static int rowKernelThreads(int cols) {
        return (int) Math.min(256, ((long) cols + LANES - 1) / LANES * LANES);
    }

    /** Global workspace of the forward-softmax kernel: per row 2 * segments one-sum accumulators. */
    static long forwardWorkspaceBytes(int rows, int cols, DType dtype) {
        return (long) rows * 2 * segments(cols) * dtype.forwardAccumulatorBytes();
    }
}
