package dev.softmaxbackward.dl4j;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The hot index of each one-hot label row, found by comparing the row's bytes with zeros
 * ({@link ByteBuffer#mismatch}, which the JDK vectorises), rows split between the calling thread and
 * the common pool: one read of [B, V], where ND4J's CountNonZero, max and argMax take three.
 */
final class OneHotRows {
    /** Zeros to compare with, shared (read-only, each use a slice of its own). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 16).asReadOnlyBuffer();

    private OneHotRows() {
    }

    /**
     * For dense C-order FLOAT or DOUBLE labels, {@code idx[r]} = the index of row r's one entry 1 if all its
     * other entries are ±0, else -1, and true; false (nothing written) for any other dtype or layout.
     */
    static boolean scan(INDArray labels, int b, int v, int[] idx) {
        DataType t = labels.dataType();
        long bytes = labels.length() * t.width();
        if ((t != DataType.FLOAT && t != DataType.DOUBLE) || labels.ordering() != 'c' || labels.isView()
                || labels.data().length() != labels.length() || bytes > Integer.MAX_VALUE) {
            return false;
        }
        ByteBuffer data = labels.data().asNio().duplicate().order(ByteOrder.nativeOrder()); // ND4J's order
        int w = t.width();
        int parts = b * (long) v > (1 << 18) ? Math.min(b, 2 * Runtime.getRuntime().availableProcessors()) : 1;
        try {
            IntStream all = IntStream.range(0, parts);
            (parts > 1 ? all.parallel() : all).forEach(part -> {
                // one pair of buffers per part, their windows moved per chunk: a slice per chunk was a heap
                // allocation per row that escape analysis did not always remove
                ByteBuffer rows = data.duplicate().order(ByteOrder.nativeOrder());
                ByteBuffer zeros = ZEROS.duplicate();
                for (int r = (int) ((long) b * part / parts), end = (int) ((long) b * (part + 1) / parts); r < end; r++) {
                    idx[r] = hot(rows, zeros, r * v * w, v, w);
                }
            });
        } finally {
            Reference.reachabilityFence(labels); // the ByteBuffer does not keep ND4J's memory allocated
        }
        return true;
    }

    /** The one entry 1 of the row of {@code v} entries of {@code w} bytes at {@code base}, or -1. */
    private static int hot(ByteBuffer rows, ByteBuffer zeros, int base, int v, int w) {
        int hot = -1;
        int chunk = ZEROS.capacity() / w;
        int p = 0;
        while (p < v) {
            int len = Math.min(v - p, chunk);
            rows.limit(base + (p + len) * w).position(base + p * w);
            zeros.limit(len * w).position(0);
            int m = rows.mismatch(zeros);
            if (m < 0) {
                p += len;
                continue;
            }
            int e = p + m / w;
            double value = w == 4 ? rows.getFloat(base + e * 4) : rows.getDouble(base + e * 8);
            if (value != 0) { // -0.0 counts as 0, as in CountNonZero
                if (value != 1 || hot >= 0) {
                    return -1;
                }
                hot = e;
            }
            p = e + 1;
        }
        return hot;
    }
}
