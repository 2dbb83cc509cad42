package dev.softmaxbackward.cuda;

/**
 * How one softmaxBackward call is launched: which kernel family, grid, block, shared memory, and for
 * split rows how many segments each block takes. Made by {@link LaunchPlanner}; plain data, so the
 * choice is unit-tested without a GPU.
 *
 * @param variant          the kernel family
 * @param kernel           the kernel name in the PTX (for {@link Variant#SPLIT}: the partial-sums kernel)
 * @param gridX            grid.x of the (first) kernel
 * @param gridY            grid.y of the (first) kernel
 * @param threads          block size of the (first) kernel
 * @param sharedBytes      dynamic shared memory of the (first) kernel
 * @param rowsPerBlock     rows one block handles ({@link Variant#WARP}: one per warp; otherwise 1)
 * @param perLane          {@link Variant#WARP}: entries each lane holds in registers
 * @param segmentsPerBlock {@link Variant#SPLIT}: whole 4096-entry segments per block
 * @param splits           {@link Variant#SPLIT}: blocks per row
 * @param workspaceBytes   {@link Variant#SPLIT}: global scratch (segment sums and tree, then d per row)
 * @param stagedSegments   {@link Variant#SPLIT}: segments staged in shared memory at a time (0: none,
 *                         the warps read global memory directly)
 */
record LaunchPlan(Variant variant, String kernel, int gridX, int gridY, int threads, int sharedBytes,
                  int rowsPerBlock, int perLane, int segmentsPerBlock, int splits, long workspaceBytes,
                  int stagedSegments) {

    /** Kernel families; see the head of softmax_backward.cu. */
    enum Variant {
        /** Nothing to do: zero rows or zero columns. */
        NONE,
        /** One warp per row, the row in registers (short rows). */
        WARP,
        /** One block per row, the row staged in shared memory: y and g read once. */
        BLOCK,
        /** One block per row, too long for shared memory: the output sweep re-reads y and g (L2). */
        REREAD,
        /** Few long rows: each row split over several blocks in whole segments; three kernels. */
        SPLIT
    }

    /** {@link Variant#SPLIT}'s second kernel: one warp per row reduces the segment sums to d. */
    String finishKernel() {
        return kernel.replace("_partials_", "_finish_");
    }

    /** {@link Variant#SPLIT}'s third kernel: the output sweep, on the same (splits, rows) grid. */
    String outputKernel() {
        return kernel.replace("_partials_", "_output_");
    }

    /** Block size of {@link Variant#SPLIT}'s output kernel. */
    static final int SPLIT_OUTPUT_THREADS = 256;

    /** Block size of {@link Variant#SPLIT}'s finish kernel: one warp per row. */
    static final int SPLIT_FINISH_THREADS = 32;
}
