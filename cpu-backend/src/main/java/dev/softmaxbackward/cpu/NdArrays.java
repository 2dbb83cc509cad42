package dev.softmaxbackward.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Checks the INDArray arguments and maps each onto ND4J's own off-heap memory, with no copy: a
 * little-endian {@link ByteBuffer} over the array's whole data buffer, the byte offset of entry
 * {@code [0, 0]} and the byte stride between rows. Every check runs before anything is written.
 */
final class NdArrays {
    private NdArrays() {}

    /** One matrix argument: where row {@code r} starts is {@code offset + r * rowStride} (bytes). */
    record View(ByteBuffer buffer, int offset, int rowStride) {}

    /** The three arguments of the backward pass, checked. */
    record Batch(DataType dtype, int rows, int cols, View gradOut, View softmaxOut, View gradIn) {}

    static Batch check(INDArray gradOut, INDArray softmaxOut, INDArray gradIn) {
        notNull(gradOut, "gradOut");
        notNull(softmaxOut, "softmaxOut");
        notNull(gradIn, "gradIn");
        long[] shape = matrixShape(gradOut, "gradOut");
        sameShape(shape, softmaxOut, "softmaxOut");
        sameShape(shape, gradIn, "gradIn");
        DataType dtype = gradOut.dataType();
        if (elementSize(dtype) == 0) {
            throw new IllegalArgumentException("gradOut dtype " + dtype
                    + " is not supported (FLOAT, DOUBLE, HALF or BFLOAT16)");
        }
        sameType(dtype, softmaxOut, "softmaxOut");
        sameType(dtype, gradIn, "gradIn");
        if (shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a dimension over "
                    + Integer.MAX_VALUE);
        }
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        if (rows == 0 || cols == 0) {
            return new Batch(dtype, rows, cols, null, null, null);
        }
        return new Batch(dtype, rows, cols, view(gradOut, "gradOut", rows, cols, dtype),
                view(softmaxOut, "softmaxOut", rows, cols, dtype), view(gradIn, "gradIn", rows, cols, dtype));
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

    private static void sameShape(long[] shape, INDArray a, String name) {
        if (a.rank() != 2 || !Arrays.equals(shape, a.shape())) {
            throw new IllegalArgumentException(name + " shape " + Arrays.toString(a.shape()) + " != gradOut shape "
                    + Arrays.toString(shape));
        }
    }

    private static void sameType(DataType dtype, INDArray a, String name) {
        if (a.dataType() != dtype) {
            throw new IllegalArgumentException(name + " dtype " + a.dataType() + " != gradOut dtype " + dtype);
        }
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
        ByteBuffer buffer;
        try {
            buffer = a.data().asNio();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(name + "'s data buffer cannot be mapped as a ByteBuffer: " + e, e);
        }
        if (buffer == null || end * size > buffer.capacity() || end * size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " spans bytes [" + first * size + ", " + end * size
                    + ") of its data buffer, which maps only " + (buffer == null ? 0 : buffer.capacity())
                    + " bytes (the fused kernel addresses at most " + Integer.MAX_VALUE + " bytes per array)");
        }
        // duplicate(): our own byte order and indices, whatever ND4J does with the shared buffer object
        return new View(buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN), (int) (first * size),
                (int) (rowStride * size));
    }

    private static void notNull(Object o, String name) {
        if (o == null) {
            throw new NullPointerException(name + " must not be null");
        }
    }
}
