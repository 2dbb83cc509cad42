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
        try {
            IntStream rows = IntStream.range(0, b);
            (b * (long) v > (1 << 18) ? rows.parallel() : rows).forEach(r -> idx[r] = hot(data, r * v * w, v, w));
        } finally {
            Reference.reachabilityFence(labels); // the ByteBuffer does not keep ND4J's memory allocated
        }
        return true;
    }

    /** The one entry 1 of the row of {@code v} entries of {@code w} bytes at {@code base}, or -1. */
    private static int hot(ByteBuffer data, int base, int v, int w) {
        int hot = -1;
        int chunk = ZEROS.capacity() / w;
        int p = 0;
        while (p < v) {
            int len = Math.min(v - p, chunk);
            int m = data.slice(base + p * w, len * w).mismatch(ZEROS.slice(0, len * w));
            if (m < 0) {
                p += len;
                continue;
            }
            int e = p + m / w;
            double value = w == 4 ? data.getFloat(base + e * 4) : data.getDouble(base + e * 8);
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
