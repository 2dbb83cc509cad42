package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Issue 9, defect 3: on every JDK the kernel Kernels picks has an INDArray path that exists there
 * (FloatVector.fromByteBuffer is gone from JDK 20). Run on JDK 17 and, in CI, on JDK 25, where the
 * multi-release variant (META-INF/versions/22) must be the one chosen.
 */
class KernelChoiceTest {
    @Test
    void theVectorKernelsIndArrayPathFitsTheRunningJdk() {
        RowKernel k = Kernels.vectorKernel();
        int feature = Runtime.version().feature();
        if (feature < 20) {
            assertInstanceOf(ByteBufferKernel.class, k, k.name());
        } else if (Boolean.getBoolean("softmaxbackward.test.segmentKernel")) {
            assertEquals("dev.softmaxbackward.cpu.SegmentKernel", k.getClass().getName(), k.name());
            assertTrue(k.name().endsWith(", INDArrays through MemorySegment"), k.name());
        } else {
            assertInstanceOf(StagedKernel.class, k, k.name());
        }
    }

    @Test
    void theDefaultKernelRunsOnIndArraysOnThisJdk() {
        // surefire starts the JVM with the vector module: this is the kernel users get with the flag
        CpuBackend cpu = new CpuBackend(() -> null, () -> new RowExecutor(1), Kernels.defaultKernel(),
                Strategy.FUSED);
        org.nd4j.linalg.api.ndarray.INDArray a = org.nd4j.linalg.factory.Nd4j.rand(
                org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 100);
        assertEquals(2, cpu.softmaxBackward(a, a).rows());
        assertEquals(2, cpu.softmaxBackward(a.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE),
                a.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)).rows());
    }
}
