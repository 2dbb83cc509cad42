package dev.softmaxbackward.cuda;

import java.util.Map;

/**
 * The device attributes the launch planner needs, read once from the driver (or made up in tests).
 *
 * @param multiprocessors        streaming multiprocessors
 * @param maxThreadsPerBlock     at most 1024 on every GPU since Fermi
 * @param maxSharedPerBlock      dynamic shared memory one block may opt in to (bytes)
 * @param maxSharedPerSm         shared memory per multiprocessor (bytes)
 * @param maxGridX               grid.x limit (2^31 - 1)
 * @param maxGridY               grid.y limit (65535)
 * @param kernelMaxThreads       per kernel, the most threads a block of it may have on this device
 *                               ({@code CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK}): fewer than
 *                               {@code maxThreadsPerBlock} where its registers run out first, as with
 *                               the float64 block kernel's 130 registers on sm_90; kernels not named
 *                               take {@code maxThreadsPerBlock}
 */
record DeviceLimits(int multiprocessors, int maxThreadsPerBlock, int maxSharedPerBlock, int maxSharedPerSm,
                    int maxGridX, int maxGridY, Map<String, Integer> kernelMaxThreads) {
    DeviceLimits {
        if (multiprocessors < 1 || maxThreadsPerBlock < 32 || maxSharedPerBlock < 16 * 1024
                || maxSharedPerSm < maxSharedPerBlock || maxGridX < 1 || maxGridY < 1) {
            throw new IllegalArgumentException("implausible device limits: " + multiprocessors + " SMs, "
                    + maxThreadsPerBlock + " threads/block, " + maxSharedPerBlock + " B shared/block, "
                    + maxSharedPerSm + " B shared/SM, grid " + maxGridX + " x " + maxGridY);
        }
        kernelMaxThreads = Map.copyOf(kernelMaxThreads);
        kernelMaxThreads.forEach((kernel, threads) -> {
            if (threads < 32) {
                throw new IllegalArgumentException("kernel " + kernel + " allows only " + threads
                        + " threads per block: fewer than one warp");
            }
        });
    }

    /** Limits with no kernel below the device's block size (presets and tests). */
    DeviceLimits(int multiprocessors, int maxThreadsPerBlock, int maxSharedPerBlock, int maxSharedPerSm, int maxGridX,
                 int maxGridY) {
        this(multiprocessors, maxThreadsPerBlock, maxSharedPerBlock, maxSharedPerSm, maxGridX, maxGridY, Map.of());
    }

    /** The same device, with per-kernel block-size limits. */
    DeviceLimits withKernelMaxThreads(Map<String, Integer> perKernel) {
        return new DeviceLimits(multiprocessors, maxThreadsPerBlock, maxSharedPerBlock, maxSharedPerSm, maxGridX,
                maxGridY, perKernel);
    }

    /**
     * The most threads, in whole warps, that a block of {@code kernel} may have here: the block-size
     * choices of the planner are capped by this, so that no launch asks for more registers than an SM has.
     */
    int maxThreads(String kernel) {
        int threads = Math.min(maxThreadsPerBlock, kernelMaxThreads.getOrDefault(kernel, maxThreadsPerBlock));
        return threads / 32 * 32;
    }

    /** An H100 SXM (132 SMs, 227 KiB opt-in shared memory per block). */
    static DeviceLimits h100() {
        return new DeviceLimits(132, 1024, 232448, 233472, Integer.MAX_VALUE, 65535);
    }

    /** A Turing T4 (40 SMs, 64 KiB shared memory). */
    static DeviceLimits t4() {
        return new DeviceLimits(40, 1024, 65536, 65536, Integer.MAX_VALUE, 65535);
    }
}
