package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On a GPU only (skipped, with the probe's reason, everywhere else): the kernels give the reference
 * backend's bits for every variant, through the SPI and the device-resident API, for all four dtypes,
 * with row strides and misaligned rows, in place, and under concurrent callers. NOT yet run on a GPU.
 */
class CudaGpuTest {
    private static final CudaBackend CUDA = new CudaBackend();
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    @BeforeEach
    void needsAGpu() {
        Assumptions.assumeTrue(CUDA.isAvailable(), () -> "cuda unavailable: "
                + CUDA.unavailabilityCause().map(Throwable::getMessage).orElse("?"));
        // the tests' own driver calls (streams, synchronisation) need a current context: the
        // backend's calls put back whatever the thread had, so set the primary context here
        CudaRuntime.require().makeCurrent();
    }

    /** Shapes that take every variant on the device at hand (the planner's choice is logged). */
    static int[][] shapes() {
        return new int[][] {
            {1, 1}, {7, 31}, {9, 33}, {65, 512}, {13, 1000}, {5, 1024}, {3, 1025}, {64, 4095}, {33, 4096},
            {2, 4097}, {1, 12289}, {1, 262144}, {4, 131072}, {300, 1500}, {700, 4100}, {400, 9000},
            {300, 40000}, {2, 50257}, {3, 1 << 20},
        };
    }

    @Test
    void spiFloatAndDoubleEqualTheReferenceBitForBit() {
        Random random = new Random(1);
        Set<LaunchPlan.Variant> seen = EnumSet.noneOf(LaunchPlan.Variant.class);
        DeviceLimits limits = CudaRuntime.require().limits();
        for (int[] shape : shapes()) {
            int rows = shape[0];
            int cols = shape[1];
            int n = rows * cols;
            double[] y = new double[n];
            double[] g = new double[n];
            KernelOrderEmulationTest.fillRows(random, y, g, rows, cols, false);
            double[] expected = new double[n];
            REFERENCE.softmaxBackward(g, y, expected, rows, cols);
            double[] actual = new double[n];
            CUDA.softmaxBackward(g, y, actual, rows, cols);
            assertBits(expected, actual, "float64 " + rows + "x" + cols);
            seen.add(LaunchPlanner.plan(rows, cols, DType.FLOAT64, limits).variant());

            KernelOrderEmulationTest.fillRows(random, y, g, rows, cols, true);
            float[] fy = KernelOrderEmulationTest.narrow(y);
            float[] fg = KernelOrderEmulationTest.narrow(g);
            float[] fExpected = new float[n];
            REFERENCE.softmaxBackward(fg, fy, fExpected, rows, cols);
            float[] fActual = new float[n];
            CUDA.softmaxBackward(fg, fy, fActual, rows, cols);
            for (int i = 0; i < n; i++) {
                if (Float.floatToIntBits(fExpected[i]) != Float.floatToIntBits(fActual[i])) {
                    throw new AssertionError("float32 " + rows + "x" + cols + " entry " + i + ": " + fExpected[i]
                            + " != " + fActual[i] + " (" + LaunchPlanner.plan(rows, cols, DType.FLOAT32, limits) + ")");
                }
            }
            // in place: gradIn is gradOut
            CUDA.softmaxBackward(fg, fy, fg, rows, cols);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(fExpected[i]), Float.floatToIntBits(fg[i]), "in place, entry " + i);
            }
            seen.add(LaunchPlanner.plan(rows, cols, DType.FLOAT32, limits).variant());
        }
        assertTrue(seen.size() >= 4, "variants exercised: " + seen);
    }

    /** NaN payloads differ between the GPU (canonical NaN) and Java: NaN is compared as NaN. */
    /** The bits of 1.0 (in the dtype's own layout). */
    static long oneBits(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> Float.floatToRawIntBits(1f) & 0xffffffffL;
            case FLOAT64 -> Double.doubleToRawLongBits(1.0);
            case BFLOAT16 -> 0x3f80;
            case FLOAT16 -> 0x3c00;
        };
    }

    static void assertBits(double[] expected, double[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
                throw new AssertionError(what + " entry " + i + ": " + expected[i] + " != " + actual[i]);
            }
        }
    }

    /** Shapes of the device-resident test: together every variant for every dtype (LaunchPlannerTest checks). */
    static final int[][] DEVICE_SHAPES = {{5, 33}, {64, 1000}, {9, 4097}, {1, 262144}, {300, 2000}, {300, 5000}, {50, 40000},
            {300, 40000}};

    @Test
    void deviceResidentAllDtypesWithStridesAndMisalignedRows() {
        Random random = new Random(2);
        CUstream stream = new CUstream();
        JCudaDriver.cuStreamCreate(stream, 0);
        for (DType dtype : DType.values()) {
            java.util.Set<LaunchPlan.Variant> variants = java.util.EnumSet.noneOf(LaunchPlan.Variant.class);
            for (int[] shape : DEVICE_SHAPES) {
                int rows = shape[0];
                int cols = shape[1];
                for (int pad : new int[] {0, 1, 3}) {
                  for (boolean inPlace : new boolean[] {false, true}) {
                    int stride = cols + pad;
                    int offset = pad; // a pointer `pad` elements past the allocation: rows misaligned
                    long total = (long) rows * stride + offset;
                    double[] y = new double[rows * cols];
                    double[] g = new double[rows * cols];
                    long[] yBits = new long[rows * stride];
                    long[] gBits = new long[rows * stride];
                    for (int r = 0; r < rows; r++) {
                        for (int i = 0; i < cols; i++) {
                            long by = randomBits(random, dtype, true);
                            long bg = randomBits(random, dtype, false);
                            yBits[r * stride + i] = by;
                            gBits[r * stride + i] = bg;
                            y[r * cols + i] = KernelModel.widen(dtype, by);
                            g[r * cols + i] = KernelModel.widen(dtype, bg);
                        }
                        if (r % 5 == 4) {
                            // the in-place race of issue 11: y = [1, 0, ...], g = [c, 0, ...] (d == g[0])
                            for (int i = 0; i < cols; i++) {
                                long by = i == 0 ? oneBits(dtype) : 0;
                                long bg = i == 0 ? oneBits(dtype) : 0;
                                yBits[r * stride + i] = by;
                                gBits[r * stride + i] = bg;
                                y[r * cols + i] = KernelModel.widen(dtype, by);
                                g[r * cols + i] = KernelModel.widen(dtype, bg);
                            }
                        }
                    }
                    LaunchPlan plan = LaunchPlanner.plan(rows, cols, dtype, CudaRuntime.require().limits());
                    variants.add(plan.variant());
                    long[] expected = KernelModel.run(plan, dtype, y, g, rows, cols, 0, new int[rows * cols]);
                    try (DeviceBuffer dy = upload(dtype, yBits, total, offset);
                         DeviceBuffer dg = upload(dtype, gBits, total, offset);
                         DeviceBuffer dout = DeviceBuffer.allocate(total, dtype)) {
                        dout.fill((byte) 0x7f); // poison
                        long shift = (long) offset * dtype.bytes();
                        DeviceBuffer target = inPlace ? dg : dout;
                        CUDA.softmaxBackward(dg.pointer().withByteOffset(shift), dy.pointer().withByteOffset(shift),
                                target.pointer().withByteOffset(shift), rows, cols, stride, dtype, stream);
                        JCudaDriver.cuStreamSynchronize(stream);
                        long[] out = download(dtype, target, total);
                        for (int r = 0; r < rows; r++) {
                            for (int i = 0; i < stride; i++) {
                                long got = out[offset + r * stride + i];
                                if (i < cols) {
                                    long want = expected[r * cols + i];
                                    if (!sameValue(dtype, want, got)) {
                                        throw new AssertionError(dtype + (inPlace ? " in place " : " ") + rows + "x"
                                                + cols + " stride " + stride
                                                + " row " + r + " entry " + i + ": expected " + Long.toHexString(want)
                                                + " got " + Long.toHexString(got) + " (" + plan + ")");
                                    }
                                } else {
                                    long untouched = inPlace ? gBits[r * stride + i] : poison(dtype);
                                    assertEquals(untouched, got, "padding written at row " + r + " col " + i);
                                }
                            }
                        }
                    }
                  }
                }
            }
            assertEquals(java.util.EnumSet.complementOf(java.util.EnumSet.of(LaunchPlan.Variant.NONE)), variants,
                    dtype + ": every variant on the device");
        }
        JCudaDriver.cuStreamDestroy(stream);
    }

    @Test
    void crossEntropyAndForwardEqualTheReference() {
        Random random = new Random(3);
        for (int[] shape : new int[][] {{4, 10}, {64, 1000}, {3, 50257}, {1, 262144}}) {
            int rows = shape[0];
            int cols = shape[1];
            int n = rows * cols;
            double[] dlogits = new double[n];
            for (int i = 0; i < n; i++) {
                dlogits[i] = random.nextGaussian() * 4;
            }
            float[] logits = KernelOrderEmulationTest.narrow(dlogits);
            float[] fRef = new float[n];
            float[] fGpu = new float[n];
            REFERENCE.softmax(logits, fRef, rows, cols);
            CUDA.softmax(logits, fGpu, rows, cols);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(fRef[i]), Float.floatToRawIntBits(fGpu[i]), "float softmax entry "
                        + i + ": " + fRef[i] + " vs " + fGpu[i]);
            }
            double[] dRef = new double[n];
            double[] dGpu = new double[n];
            REFERENCE.softmax(dlogits, dRef, rows, cols);
            CUDA.softmax(dlogits, dGpu, rows, cols);
            assertBits(dRef, dGpu, "double softmax");
            int[] labels = new int[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = r % 3 == 2 ? -100 : random.nextInt(cols);
            }
            float[] ceRef = new float[n];
            float[] ceGpu = new float[n];
            REFERENCE.crossEntropyBackward(fRef, labels, 0.37f, ceRef, rows, cols);
            CUDA.crossEntropyBackward(fRef, labels, 0.37f, ceGpu, rows, cols);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(ceRef[i]), Float.floatToRawIntBits(ceGpu[i]), "ce entry " + i);
            }
            double[] dceRef = new double[n];
            double[] dceGpu = new double[n];
            REFERENCE.crossEntropyBackward(dRef, labels, 1.0 / 3, dceRef, rows, cols);
            CUDA.crossEntropyBackward(dRef, labels, 1.0 / 3, dceGpu, rows, cols);
            assertBits(dceRef, dceGpu, "double ce");
        }
    }

    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                futures.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int call = 0; call < 50; call++) {
                        int rows = 1 + random.nextInt(64);
                        int cols = 1 + random.nextInt(20000);
                        float[] y = new float[rows * cols];
                        float[] g = new float[rows * cols];
                        for (int i = 0; i < y.length; i++) {
                            y[i] = random.nextFloat();
                            g[i] = (float) random.nextGaussian();
                        }
                        float[] expected = new float[y.length];
                        float[] actual = new float[y.length];
                        REFERENCE.softmaxBackward(g, y, expected, rows, cols);
                        CUDA.softmaxBackward(g, y, actual, rows, cols);
                        assertArrayEquals(expected, actual);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theCallersContextIsCurrentAgainAfterEveryCall() throws Exception {
        CudaRuntime runtime = CudaRuntime.require();
        jcuda.driver.CUcontext own = new jcuda.driver.CUcontext();
        assertEquals(0, JCudaDriver.cuCtxCreate(own, 0, runtime.device()), "cuCtxCreate");
        try {
            assertEquals(0, JCudaDriver.cuCtxSetCurrent(own));
            callsLeaveCurrent(own);
            // no context current: a new thread's stack is empty (cuCtxSetCurrent(null) on this thread
            // would only pop the top, and leave current whatever earlier tests pushed below it; on an
            // H200 that made this test expect no context where one was rightly put back)
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread fresh = new Thread(() -> {
                try {
                    jcuda.driver.CUcontext none = new jcuda.driver.CUcontext();
                    assertCurrent(none, "on a new thread, before any call");
                    callsLeaveCurrent(none);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            fresh.start();
            fresh.join();
            if (failure.get() != null) {
                throw new AssertionError("with no context current", failure.get());
            }
        } finally {
            JCudaDriver.cuCtxDestroy(own);
        }
    }

    /**
     * The probe runs on whichever thread first asks for a backend; it must give that thread its own
     * context back, as every call does (it left the primary context current until stop 26).
     */
    @Test
    void theProbeLeavesTheCallersContextCurrent() throws Exception {
        CudaRuntime runtime = CudaRuntime.require();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread prober = new Thread(() -> {
            jcuda.driver.CUcontext own = new jcuda.driver.CUcontext();
            try {
                assertEquals(0, JCudaDriver.cuCtxCreate(own, 0, runtime.device()), "cuCtxCreate");
                assertEquals(0, JCudaDriver.cuCtxSetCurrent(own));
                CudaRuntime.Probe again = CudaRuntime.probe();
                assertTrue(again.runtime() != null, () -> "a second probe failed: " + again.cause());
                try {
                    assertCurrent(own, "after the probe");
                } finally {
                    again.runtime().releaseExtraOpen();
                }
                assertCurrent(own, "after releasing the second open");
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                JCudaDriver.cuCtxDestroy(own);
            }
        });
        prober.start();
        prober.join();
        if (failure.get() != null) {
            throw new AssertionError("the probe on a thread with its own context", failure.get());
        }
    }

    /** SPI, device-buffer and refused calls each leave {@code before} current on this thread. */
    private static void callsLeaveCurrent(jcuda.driver.CUcontext before) {
        float[] out = new float[6];
        CUDA.softmaxBackward(new float[] {1, 2, 3, 4, 5, 6}, new float[] {.5f, .25f, .25f, .5f, .25f, .25f}, out, 2, 3);
        assertCurrent(before, "after an SPI call");
        try (DeviceBuffer b = DeviceBuffer.allocate(64, DType.FLOAT32)) {
            assertCurrent(before, "after DeviceBuffer.allocate");
            b.fill((byte) 0);
            CUDA.softmaxBackward(b.pointer(), b.pointer(), b.pointer(), 4, 16, 16, DType.FLOAT32, null);
            assertCurrent(before, "after a device-resident call");
            // refused before any launch: the backend stays alive, the context is untouched
            assertThrows(IllegalArgumentException.class, () -> CUDA.softmaxBackward(b.pointer().withByteOffset(2),
                    b.pointer(), b.pointer(), 1, 4, 4, DType.FLOAT32, null));
            assertTrue(CUDA.isAvailable());
        }
        assertCurrent(before, "after DeviceBuffer.close");
    }

    private static void assertCurrent(jcuda.driver.CUcontext expected, String when) {
        jcuda.driver.CUcontext now = new jcuda.driver.CUcontext();
        assertEquals(0, JCudaDriver.cuCtxGetCurrent(now));
        assertEquals(DevicePointers.address(expected), DevicePointers.address(now), "the caller's context " + when);
    }

    // ---- helpers ----

    static long randomBits(Random random, DType dtype, boolean positive) {
        return KernelModel.bits(dtype, positive ? random.nextDouble() * 0.01 : random.nextGaussian());
    }

    static long poison(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> 0x7f7f7f7fL;
            case FLOAT64 -> 0x7f7f7f7f7f7f7f7fL;
            default -> 0x7f7fL;
        };
    }

    static boolean sameValue(DType dtype, long want, long got) {
        if (want == got) {
            return true;
        }
        // NaN payloads may differ
        return Double.isNaN(KernelModel.widen(dtype, want)) && Double.isNaN(KernelModel.widen(dtype, got));
    }

    static DeviceBuffer upload(DType dtype, long[] bits, long total, int offset) {
        DeviceBuffer buffer = DeviceBuffer.allocate(total, dtype);
        int n = (int) total;
        switch (dtype) {
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < bits.length; i++) {
                    a[offset + i] = Float.intBitsToFloat((int) bits[i]);
                }
                buffer.copyFrom(a);
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < bits.length; i++) {
                    a[offset + i] = Double.longBitsToDouble(bits[i]);
                }
                buffer.copyFrom(a);
            }
            default -> {
                short[] a = new short[n];
                for (int i = 0; i < bits.length; i++) {
                    a[offset + i] = (short) bits[i];
                }
                buffer.copyFrom(a);
            }
        }
        return buffer;
    }

    static long[] download(DType dtype, DeviceBuffer buffer, long total) {
        int n = (int) total;
        long[] out = new long[n];
        switch (dtype) {
            case FLOAT32 -> {
                float[] a = new float[n];
                buffer.copyTo(a);
                for (int i = 0; i < n; i++) {
                    out[i] = Float.floatToRawIntBits(a[i]) & 0xffffffffL;
                }
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                buffer.copyTo(a);
                for (int i = 0; i < n; i++) {
                    out[i] = Double.doubleToRawLongBits(a[i]);
                }
            }
            default -> {
                short[] a = new short[n];
                buffer.copyTo(a);
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] & 0xffff;
                }
            }
        }
        return out;
    }
}
