package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Bad input gets the same exception, with the same message, from cuda as from reference, before
 * anything is written and before the backend's availability matters.
 */
class ArgumentValidationTest {

    private static Throwable thrown(Runnable call) {
        try {
            call.run();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    /** Each bad call by name, in a fixed order. */
    private static Map<String, Consumer<SoftmaxBackwardBackend>> cases() {
        Map<String, Consumer<SoftmaxBackwardBackend>> cases = new LinkedHashMap<>();
        float[] f6 = new float[6];
        float[] f5 = new float[5];
        double[] d6 = new double[6];
        double[] d7 = new double[7];
        int[] labels2 = {0, 1};
        cases.put("float gradOut null", b -> b.softmaxBackward(null, f6, f6.clone(), 2, 3));
        cases.put("float softmaxOut null", b -> b.softmaxBackward(f6, null, f6.clone(), 2, 3));
        cases.put("float gradIn null", b -> b.softmaxBackward(f6, f6.clone(), null, 2, 3));
        cases.put("float negative rows", b -> b.softmaxBackward(f6, f6.clone(), f6.clone(), -1, 3));
        cases.put("float negative cols", b -> b.softmaxBackward(f6, f6.clone(), f6.clone(), 2, -3));
        cases.put("float overflow", b -> b.softmaxBackward(f6, f6.clone(), f6.clone(), 1 << 16, 1 << 16));
        cases.put("float gradOut short", b -> b.softmaxBackward(f5, f6, f6.clone(), 2, 3));
        cases.put("float softmaxOut short", b -> b.softmaxBackward(f6, f5, f6.clone(), 2, 3));
        cases.put("float gradIn short", b -> b.softmaxBackward(f6, f6.clone(), f5, 2, 3));
        cases.put("double gradOut long", b -> b.softmaxBackward(d7, d6, d6.clone(), 2, 3));
        cases.put("double null", b -> b.softmaxBackward(d6, null, d6.clone(), 2, 3));
        cases.put("double overflow", b -> b.softmaxBackward(d6, d6.clone(), d6.clone(), Integer.MAX_VALUE, 2));
        cases.put("softmax float logits null", b -> b.softmax((float[]) null, f6, 2, 3));
        cases.put("softmax float out short", b -> b.softmax(f6, f5, 2, 3));
        cases.put("softmax double negative", b -> b.softmax(d6, d6.clone(), -2, 3));
        cases.put("softmax double out null", b -> b.softmax(d6, null, 2, 3));
        cases.put("ce float labels null", b -> b.crossEntropyBackward(f6, null, 1f, f6.clone(), 2, 3));
        cases.put("ce float labels length", b -> b.crossEntropyBackward(f6, new int[3], 1f, f6.clone(), 2, 3));
        cases.put("ce float label too big", b -> b.crossEntropyBackward(f6, new int[] {0, 3}, 1f, f6.clone(), 2, 3));
        cases.put("ce double label negative",
                b -> b.crossEntropyBackward(d6, new int[] {-1, 0}, 1.0, d6.clone(), 2, 3));
        cases.put("ce double softmaxOut short",
                b -> b.crossEntropyBackward(new double[5], labels2, 1.0, d6.clone(), 2, 3));
        cases.put("ce double gradIn null", b -> b.crossEntropyBackward(d6, labels2, 1.0, null, 2, 3));
        return cases;
    }

    @TestFactory
    List<DynamicTest> sameExceptionAndMessageAsReference() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, Consumer<SoftmaxBackwardBackend>> c : cases().entrySet()) {
            String name = c.getKey();
            Consumer<SoftmaxBackwardBackend> call = c.getValue();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Throwable expected = thrown(() -> call.accept(new ReferenceBackend()));
                assertNotNull(expected, "the reference backend accepted " + name);
                Throwable actual = thrown(() -> call.accept(new CudaBackend()));
                assertNotNull(actual, "cuda accepted " + name);
                assertEquals(expected.getClass(), actual.getClass(), String.valueOf(actual));
                assertEquals(expected.getMessage(), actual.getMessage());
            }));
        }
        return tests;
    }

    @Test
    void nothingIsWrittenWhenValidationFails() {
        float[] gradIn = {1, 2, 3, 4, 5, 6};
        assertThrows(IllegalArgumentException.class,
                () -> new CudaBackend().softmaxBackward(new float[6], new float[5], gradIn, 2, 3));
        assertEquals("[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]", Arrays.toString(gradIn));
    }

    @Test
    void deviceResidentArgumentsAreValidatedFirst() {
        CudaBackend cuda = new CudaBackend();
        CUdeviceptr p = new CUdeviceptr();
        assertEquals("gradOut must not be null", assertThrows(NullPointerException.class,
                () -> cuda.softmaxBackward(null, p, p, 1, 1, 1, DType.FLOAT32, null)).getMessage());
        assertEquals("dtype must not be null", assertThrows(NullPointerException.class,
                () -> cuda.softmaxBackward(p, p, p, 1, 1, 1, null, null)).getMessage());
        assertEquals("rows -1 < 0", assertThrows(IllegalArgumentException.class,
                () -> cuda.softmaxBackward(p, p, p, -1, 1, 1, DType.BFLOAT16, null)).getMessage());
        assertEquals("rowStride 3 < cols 4", assertThrows(IllegalArgumentException.class,
                () -> cuda.softmax(p, p, 2, 4, 3, DType.FLOAT16, null)).getMessage());
        assertEquals("labels must not be null", assertThrows(NullPointerException.class,
                () -> cuda.crossEntropyBackward(p, null, 1.0, p, 2, 4, 4, DType.FLOAT64, null)).getMessage());
        assertEquals("bytes 0 < 1", assertThrows(IllegalArgumentException.class,
                () -> DeviceBuffer.allocate(0)).getMessage());
    }

    private static String rejected(Runnable call) {
        return assertThrows(IllegalArgumentException.class, call::run).getMessage();
    }

    @Test
    void deviceResidentPointersMustBeAlignedToTheirDtype() {
        CudaBackend cuda = new CudaBackend();
        CUdeviceptr base = new CUdeviceptr().withByteOffset(1L << 20); // a plausible, aligned address
        CUdeviceptr odd = base.withByteOffset(6);                        // 2-byte aligned only
        assertEquals("gradIn address 0x100006 is not aligned to 4 bytes (FLOAT32 elements)",
                rejected(() -> cuda.softmaxBackward(base, base, odd, 2, 3, 3, DType.FLOAT32, null)));
        assertEquals("softmaxOut address 0x100006 is not aligned to 8 bytes (FLOAT64 elements)",
                rejected(() -> cuda.softmaxBackward(base, odd, base, 2, 3, 3, DType.FLOAT64, null)));
        assertEquals("logits address 0x100001 is not aligned to 2 bytes (BFLOAT16 elements)",
                rejected(() -> cuda.softmax(base.withByteOffset(1), base, 2, 3, 3, DType.BFLOAT16, null)));
        assertEquals("labels address 0x100006 is not aligned to 4 bytes (int32 labels)",
                rejected(() -> cuda.crossEntropyBackward(base, odd, 1.0, base, 2, 3, 3, DType.FLOAT16, null)));
        assertEquals("gradOut is a null device pointer (address 0x0)",
                rejected(() -> cuda.softmaxBackward(new CUdeviceptr(), base, base, 2, 3, 3, DType.FLOAT32, null)));
        // 2-byte alignment is all the 16-bit types need (the kernels read up to the 16-byte boundary
        // with scalar loads): accepted here, then refused only because there is no GPU
        assertUnavailableNotRejected(() -> cuda.softmaxBackward(odd, odd, odd, 2, 3, 3, DType.FLOAT16, null));
    }

    /** Past validation: without a GPU the call then fails for want of the backend, never with an IAE. */
    private static void assertUnavailableNotRejected(Runnable call) {
        Assumptions.assumeFalse(new CudaBackend().isAvailable(), "needs a machine without a GPU");
        assertThrows(BackendUnavailableException.class, call::run);
    }

    @Test
    void deviceResidentShapesMayPass2To31Entries() {
        CudaBackend cuda = new CudaBackend();
        CUdeviceptr p = new CUdeviceptr().withByteOffset(1L << 20);
        // 2^20 x 4096 = 2^32 entries: the SPI's int limit does not apply to device memory
        assertUnavailableNotRejected(() -> cuda.softmaxBackward(p, p, p, 1 << 20, 4096, 4096, DType.BFLOAT16, null));
        assertUnavailableNotRejected(() -> cuda.softmax(p, p, Integer.MAX_VALUE, 2, 2, DType.FLOAT32, null));
        assertUnavailableNotRejected(() -> cuda.crossEntropyBackward(p, p, 1.0, p, 1 << 16, 1 << 16, 1 << 16,
                DType.FLOAT64, null));
        // what must still fit is the extent's byte count
        assertEquals("rows 3, cols 4, rowStride 2305843009213693952 of FLOAT32: (rows - 1) * rowStride + cols "
                        + "elements overflow a 64-bit byte count",
                rejected(() -> cuda.softmaxBackward(p, p, p, 3, 4, 1L << 61, DType.FLOAT32, null)));
        assertTrue(CudaBackend.deviceShape(1, 4, Long.MAX_VALUE, DType.FLOAT64), "one row: the stride is never used");
        assertEquals("cols -4 < 0", rejected(() -> cuda.softmax(p, p, 2, -4, 3, DType.FLOAT16, null)));
    }

    @Test
    void emptyDeviceResidentShapesNeedNoPointers() {
        // an empty tensor may have address 0 (PyTorch's do): nothing is touched, so nothing is checked
        assertFalse(CudaBackend.deviceShape(0, 5, 5, DType.FLOAT32));
        assertFalse(CudaBackend.deviceShape(5, 0, 0, DType.FLOAT32));
        assertUnavailableNotRejected(() -> new CudaBackend().softmaxBackward(new CUdeviceptr(), new CUdeviceptr(),
                new CUdeviceptr(), 0, 5, 5, DType.FLOAT32, null));
    }
}
