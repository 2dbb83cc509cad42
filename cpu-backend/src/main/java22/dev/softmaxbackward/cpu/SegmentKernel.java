package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.VectorKernel.D;
import static dev.softmaxbackward.cpu.VectorKernel.F;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/**
 * {@link BufferKernel} on JDK 22+ (in the multi-release jar's {@code META-INF/versions/22}): ND4J's
 * off-heap rows are read and written in place through {@link MemorySegment#ofBuffer} and
 * {@code fromMemorySegment}/{@code intoMemorySegment}, final API from JDK 22
 * ({@code FloatVector.fromByteBuffer}, which {@link ByteBufferKernel} uses, was removed in JDK 20).
 * Arrays go to the JDK 17 array kernel unchanged. Loaded by name by {@link Kernels}.
 */
final class SegmentKernel extends BufferKernel<MemorySegment> {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    SegmentKernel(RowKernel arrays) {
        super(arrays, "MemorySegment");
    }

    @Override
    MemorySegment memory(ByteBuffer b) {
        return MemorySegment.ofBuffer(b);
    }

    @Override
    Class<MemorySegment> memoryClass() {
        return MemorySegment.class;
    }

    @Override
    FloatVector floats(MemorySegment m, long at) {
        return FloatVector.fromMemorySegment(F, m, at, LE);
    }

    @Override
    DoubleVector doubles(MemorySegment m, long at) {
        return DoubleVector.fromMemorySegment(D, m, at, LE);
    }

    @Override
    void put(MemorySegment m, long at, FloatVector v) {
        v.intoMemorySegment(m, at, LE);
    }

    @Override
    void put(MemorySegment m, long at, DoubleVector v) {
        v.intoMemorySegment(m, at, LE);
    }
}
