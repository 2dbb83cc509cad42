package dev.softmaxbackward.cli;

/**
 * The heap check every command makes before it allocates its arrays: a clear one-line refusal naming the
 * numbers and the {@code -Xmx} that would do, instead of an OutOfMemoryError part way through.
 */
final class Memory {
    /** The share of the maximum heap a command's arrays may take; the rest is the JVM's and the libraries'. */
    static final double USABLE = 0.8;

    /** Headroom the suggested -Xmx adds for everything besides the arrays (classes, picocli, buffers). */
    static final long OVERHEAD = 64L << 20;

    private Memory() {}

    /** Throws a usage error when {@code bytes} for {@code what} do not fit in this JVM's maximum heap. */
    static void require(long bytes, String what) {
        require(bytes, what, Runtime.getRuntime().maxMemory());
    }

    static void require(long bytes, String what, long maxHeap) {
        if (bytes > maxHeap * USABLE) {
            throw new Main.CliException(Main.USAGE, String.format("%s needs about %d MiB of heap, more than this "
                    + "JVM can give it (max heap %d MiB): run with java %s -jar ..., or use a smaller size",
                    what, mib(bytes), maxHeap >> 20, xmx(bytes)));
        }
    }

    /** The -Xmx flag under which {@code bytes} of arrays fit: rounded up to whole GiB (or MiB below 1 GiB). */
    static String xmx(long bytes) {
        long heap = (long) Math.ceil(bytes / USABLE) + OVERHEAD;
        long gib = 1L << 30;
        return heap >= gib ? "-Xmx" + ((heap + gib - 1) / gib) + "g" : "-Xmx" + mib(heap) + "m";
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }
}
