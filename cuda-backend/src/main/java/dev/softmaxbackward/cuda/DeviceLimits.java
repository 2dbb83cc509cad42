package dev.softmaxbackward.cuda;

/**
 * The device attributes the launch planner needs, read once from the driver (or made up in tests).
 *
 * @param multiprocessors        streaming multiprocessors
 * @param maxThreadsPerBlock     at most 1024 on every GPU since Fermi
 * @param maxSharedPerBlock      dynamic shared memory one block may opt in to (bytes)
 * @param maxSharedPerSm         shared memory per multiprocessor (bytes)
 * @param maxGridX               grid.x limit (2^31 - 1)
 * @param maxGridY               grid.y limit (65535)
 */
record DeviceLimits(int multiprocessors, int maxThreadsPerBlock, int maxSharedPerBlock, int maxSharedPerSm,
                    int maxGridX, int maxGridY) {
    DeviceLimits {
        if (multiprocessors < 1 || maxThreadsPerBlock < 32 || maxSharedPerBlock < 16 * 1024
                || maxSharedPerSm < maxSharedPerBlock || maxGridX < 1 || maxGridY < 1) {
            throw new IllegalArgumentException("implausible device limits: " + multiprocessors + " SMs, "
                    + maxThreadsPerBlock + " threads/block, " + maxSharedPerBlock + " B shared/block, "
                    + maxSharedPerSm + " B shared/SM, grid " + maxGridX + " x " + maxGridY);
        }
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
