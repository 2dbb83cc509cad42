package dev.softmaxbackward.cpu;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Checks the INDArray arguments and maps each onto ND4J's own off-heap memory, with no copy: a
 * little-endian {@link ByteBuffer} over the array's whole data buffer, the byte offset of entry
 * {@code [0, 0]} and the byte stride between rows. Every check runs before anything is written.
 *
 * <p>The ByteBuffers ND4J hands out ({@code data().asNio()}) do not keep its native memory alive: that
 * memory belongs to the {@link DataBuffer}, and is freed once the DataBuffer is unreachable, which a
 * JIT-compiled caller makes true as soon as it last uses the argument. So each {@link View} holds its
 * INDArray and DataBuffer, and every entry point ends with {@link Batch#keepAlive()} in a
 * {@code finally}, after the last write.
 */
final class NdArrays {
    private NdArrays() {}

    /**
     * One matrix argument: row {@code r} starts at byte {@code offset + r * rowStride}. {@code array} and
     * {@code data} are held only so that the memory behind {@code buffer} stays allocated.
     */
    record View(INDArray array, DataBuffer data, ByteBuffer buffer, int offset, int rowStride) {
        int row(int r) {
            return offset + r * rowStride;
        }
    }

    /** The checked arguments of one call; {@code views} is empty for an empty batch. */
    record Batch(DataType dtype, int rows, int cols, View[] views) {
        View view(int i) {
            return views[i];
        }

        boolean empty() {
            return rows == 0 || cols == 0;
        }

        /** Keeps every argument and its native memory reachable up to this call (see the class comment). */
        void keepAlive() {
            Reference.reachabilityFence(this);
            Reference.reachabilityFence(views);
        }
    }

    /** The arguments of the backward pass: gradOut, softmaxOut, gradIn (views 0, 1, 2). */
    static Batch check(INDArray gradOut, INDArray softmaxOut, INDArray gradIn) {
        return check(new String[] {"gradOut", "softmaxOut", "gradIn"}, 2, gradOut, softmaxOut, gradIn);
    }

    /**
     * Same rank-2 shape and dtype as the first, each one usable (see {@link #requireUsable}) and
     * row-contiguous; the first argument's dtype one of FLOAT, DOUBLE, HALF, BFLOAT16. The arguments from
     * {@code firstOutput} on are written: each must share no entry with any other argument, except that
     * it may be exactly the same view as an input (in place). See {@link #requireApart}.
     */
    static Batch check(String[] names, int firstOutput, INDArray... arrays) {
        for (int i = 0; i < arrays.length; i++) {
            if (arrays[i] == null) {
                throw new NullPointerException(names[i] + " must not be null");
            }
        }
        for (int i = 0; i < arrays.length; i++) {
            requireUsable(arrays[i], names[i]);
        }
        String first = names[0];
        long[] shape = matrixShape(arrays[0], first);
        for (int i = 1; i < arrays.length; i++) {
            if (arrays[i].rank() != 2 || !Arrays.equals(shape, arrays[i].shape())) {
                throw new IllegalArgumentException(names[i] + " shape " + Arrays.toString(arrays[i].shape()) + " != "
                        + first + " shape " + Arrays.toString(shape));
            }
        }
        DataType dtype = arrays[0].dataType();
        if (elementSize(dtype) == 0) {
            throw new IllegalArgumentException(first + " dtype " + dtype
                    + " is not supported (FLOAT, DOUBLE, HALF or BFLOAT16)");
        }
        for (int i = 1; i < arrays.length; i++) {
            if (arrays[i].dataType() != dtype) {
                throw new IllegalArgumentException(names[i] + " dtype " + arrays[i].dataType() + " != " + first
                        + " dtype " + dtype);
            }
        }
        if (shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a dimension over "
                    + Integer.MAX_VALUE);
        }
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        if (rows == 0 || cols == 0) {
            return new Batch(dtype, rows, cols, new View[0]);
        }
        View[] views = new View[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            views[i] = view(arrays[i], names[i], rows, cols, dtype);
        }
        requireApart(names, firstOutput, views, rows, cols * elementSize(dtype));
        return new Batch(dtype, rows, cols, views);
    }

    /**
     * Throws unless each output shares no byte with any other argument, or is exactly the same view (same
     * first byte, same row stride) as an input. A row computed into memory that a later row still reads,
     * or that another output receives, would silently give wrong numbers, and which ones would depend on
     * the order the threads run the rows in. Addresses, not DataBuffer objects, are compared: two
     * INDArrays over the same memory may hold different DataBuffers.
     */
    private static void requireApart(String[] names, int firstOutput, View[] views, int rows, int rowBytes) {
        long[] start = new long[views.length];
        for (int i = 0; i < views.length; i++) {
            start[i] = new Pointer(views[i].buffer()).address() + views[i].offset();
        }
        for (int o = firstOutput; o < views.length; o++) {
            for (int j = 0; j < views.length; j++) {
                if (j == o || (j >= firstOutput && j > o)) {
                    continue; // each pair of outputs once
                }
                View a = views[o];
                View b = views[j];
                if (j < firstOutput && start[o] == start[j] && a.rowStride() == b.rowStride()) {
                    continue; // the same entries: in place, which every kernel supports
                }
                long shared = firstSharedByte(start[o], a.rowStride(), start[j], b.rowStride(), rows, rowBytes);
                if (shared >= 0) {
                    throw new IllegalArgumentException(names[o] + " shares memory with " + names[j] + " (first at byte "
                            + (shared - start[o]) + " of " + names[o] + ", row strides " + a.rowStride() + " and "
                            + b.rowStride() + " bytes) without being the same view of it; pass the same INDArray to"
                            + " compute in place, or " + names[o] + " apart from it");
                }
            }
        }
    }

    /**
     * The lowest address in both sets of rows (each {@code rows} ranges of {@code rowBytes}, from
     * {@code a} {@code strideA} apart and from {@code b} {@code strideB} apart, ascending), or -1: a
     * merge of the two ascending lists of ranges.
     */
    static long firstSharedByte(long a, long strideA, long b, long strideB, int rows, long rowBytes) {
        if (a + (rows - 1L) * strideA + rowBytes <= b || b + (rows - 1L) * strideB + rowBytes <= a) {
            return -1; // the spans are apart: the common case, without the merge
        }
        int i = 0;
        int k = 0;
        while (i < rows && k < rows) {
            long ra = a + i * strideA;
            long rb = b + k * strideB;
            if (ra < rb + rowBytes && rb < ra + rowBytes) {
                return Math.max(ra, rb);
            }
            if (ra < rb) {
                i++;
            } else {
                k++;
            }
        }
        return -1;
    }

    /**
     * Throws unless {@code a}'s memory is still its own: not closed, and either detached or in a
     * workspace whose scope is open and which has not been closed and reopened (a new generation)
     * since {@code a} was allocated, the checks ND4J's own op executor makes. A destroyed or closed
     * workspace's memory is freed or reused, so reading it gives garbage or a crash. Circular
     * workspaces reuse memory by design and are checked for an open scope only, as ND4J does.
     */
    static void requireUsable(INDArray a, String name) {
        if (a.wasClosed()) {
            throw new IllegalArgumentException(name + " was closed (INDArray.close()); its memory is released");
        }
        DataBuffer data = a.data();
        if (data == null || data.wasClosed()) {
            throw new IllegalArgumentException(name + "'s data buffer was closed; its memory is released");
        }
        if (!a.isAttached()) {
            return;
        }
        MemoryWorkspace ws = data.getParentWorkspace();
        if (ws == null) {
            return; // attached to nothing: ND4J treats it as detached
        }
        if (!ws.isScopeActive()) {
            throw new IllegalArgumentException(name + " belongs to workspace '" + ws.getId()
                    + "', which is closed or destroyed, so its memory is reused or freed; use it inside the"
                    + " workspace's scope, or detach() it there");
        }
        if (ws.getWorkspaceType() != MemoryWorkspace.Type.CIRCULAR && ws.getGenerationId() != data.getGenerationId()) {
            throw new IllegalArgumentException(name + " belongs to generation " + data.getGenerationId()
                    + " of workspace '" + ws.getId() + "', which has been closed and reopened since (now generation "
                    + ws.getGenerationId() + "), so its memory holds other arrays now; detach() it before the"
                    + " workspace closes");
        }
    }

    /** Bytes per entry for the dtypes the fused kernel handles; 0 for any other. */
    static int elementSize(DataType dtype) {
        return switch (dtype) {
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case HALF, BFLOAT16 -> 2;
            default -> 0;
        };
    }

    static long[] matrixShape(INDArray a, String name) {
        if (a.rank() != 2) {
            throw new IllegalArgumentException(name + " must be a [B, V] matrix (rank 2), but has rank " + a.rank()
                    + " and shape " + Arrays.toString(a.shape()));
        }
        return a.shape();
    }

    private static View view(INDArray a, String name, int rows, int cols, DataType dtype) {
        long[] stride = a.stride();
        // Each row must be contiguous (the kernel streams it) and rows must not overlap; any row
        // stride, so row slices and column ranges of a larger C-order matrix work in place.
        boolean rowContiguous = cols == 1 || stride[1] == 1;
        boolean rowsApart = rows == 1 || stride[0] >= cols;
        if (!rowContiguous || !rowsApart) {
            throw new IllegalArgumentException(name + " is not row-contiguous: shape " + Arrays.toString(a.shape())
                    + ", strides " + Arrays.toString(stride) + ", order '" + a.ordering()
                    + "'; each row's entries must be adjacent (column stride 1) and rows must not overlap"
                    + " (row stride >= columns); pass " + name + ".dup('c')");
        }
        int size = elementSize(dtype);
        long rowStride = rows == 1 ? cols : stride[0];
        long first = a.offset();
        long end = first + (rows - 1L) * rowStride + cols; // one past the last entry, in elements
        DataBuffer data = a.data();
        ByteBuffer buffer;
        try {
            buffer = data.asNio();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(name + "'s data buffer cannot be mapped as a ByteBuffer: " + e, e);
        }
        if (buffer == null || end * size > buffer.capacity() || end * size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " spans bytes [" + first * size + ", " + end * size
                    + ") of its data buffer, which maps only " + (buffer == null ? 0 : buffer.capacity())
                    + " bytes (the fused kernel addresses at most " + Integer.MAX_VALUE + " bytes per array)");
        }
        // duplicate(): our own byte order and indices, whatever ND4J does with the shared buffer object
        return new View(a, data, buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN), (int) (first * size),
                (int) (rowStride * size));
    }

    /** Row {@code r} of {@code v}, widened exactly to float64, into {@code dst[0, cols)}. */
    static void readRow(DataType dtype, View v, int r, double[] dst, int cols) {
        ByteBuffer b = v.buffer();
        int at = v.row(r);
        switch (dtype) {
            case FLOAT -> {
                for (int k = 0; k < cols; k++) {
                    dst[k] = b.getFloat(at + 4 * k);
                }
            }
            case DOUBLE -> {
                for (int k = 0; k < cols; k++) {
                    dst[k] = b.getDouble(at + 8 * k);
                }
            }
            case HALF, BFLOAT16 -> {
                boolean bf16 = dtype == DataType.BFLOAT16;
                for (int k = 0; k < cols; k++) {
                    dst[k] = Float16.toFloat(bf16, b.getShort(at + 2 * k));
                }
            }
            default -> throw new AssertionError(dtype); // check() admits only these four
        }
    }

    /** {@code src[0, cols)} into row {@code r} of {@code v}, each value rounded once to the dtype. */
    static void writeRow(DataType dtype, View v, int r, double[] src, int cols) {
        ByteBuffer b = v.buffer();
        int at = v.row(r);
        switch (dtype) {
            case FLOAT -> {
                for (int k = 0; k < cols; k++) {
                    b.putFloat(at + 4 * k, (float) src[k]);
                }
            }
            case DOUBLE -> {
                for (int k = 0; k < cols; k++) {
                    b.putDouble(at + 8 * k, src[k]);
                }
            }
            case HALF, BFLOAT16 -> {
                boolean bf16 = dtype == DataType.BFLOAT16;
                for (int k = 0; k < cols; k++) {
                    b.putShort(at + 2 * k, Float16.fromDouble(bf16, src[k]));
                }
            }
            default -> throw new AssertionError(dtype);
        }
    }
}
