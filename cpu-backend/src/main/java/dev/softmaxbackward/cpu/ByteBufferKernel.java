package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.VectorKernel.D;
import static dev.softmaxbackward.cpu.VectorKernel.F;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/**
 * {@link BufferKernel} on JDK 17-19: ND4J's rows in place through {@code fromByteBuffer} and
 * {@code intoByteBuffer}, which JDK 20 removed. Never loaded on JDK 20+. The offsets come as longs
 * (see {@link BufferKernel}) but always lie in a buffer, so within an int.
 */
final class ByteBufferKernel extends BufferKernel<ByteBuffer> {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    ByteBufferKernel(RowKernel arrays) {
        super(arrays, "ByteBuffer");
    }

    @Override
    ByteBuffer memory(ByteBuffer b) {
        return b;
    }

    @Override
    Class<ByteBuffer> memoryClass() {
        return ByteBuffer.class;
    }

    @Override
    FloatVector floats(ByteBuffer m, long at) {
        return FloatVector.fromByteBuffer(F, m, (int) at, LE);
    }

    @Override
    DoubleVector doubles(ByteBuffer m, long at) {
        return DoubleVector.fromByteBuffer(D, m, (int) at, LE);
    }

    @Override
    void put(ByteBuffer m, long at, FloatVector v) {
        v.intoByteBuffer(m, (int) at, LE);
    }

    @Override
    void put(ByteBuffer m, long at, DoubleVector v) {
        v.intoByteBuffer(m, (int) at, LE);
    }
}
