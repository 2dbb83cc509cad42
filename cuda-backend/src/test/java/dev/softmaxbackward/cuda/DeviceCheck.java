package dev.softmaxbackward.cuda;

import static dev.softmaxbackward.cuda.CudaException.check;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The GPU-side checks that are programs rather than tests, run by scripts/device-check.sh on the GPU
 * machine (never in CI): {@code smoke} (every kernel family for every dtype, in place and not, against
 * reference; stops at the first mismatch, naming the plan), {@code leak} (10^5 device-resident calls
 * over every variant and 100 host-array calls, device memory must stay put) and {@code bench} (the
 * issue's sweep timed with CUDA events, 10 launches per event pair, L2 flushed outside the events,
 * inputs rotated, next to the device-to-device copy of the same bytes rotated the same way). Prints
 * markdown to stdout. NOT yet run on a GPU.
 */
public final class DeviceCheck {
    private static final PrintStream OUT = System.out;

    private DeviceCheck() {}

    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "";
        CudaBackend cuda = new CudaBackend();
        long t0 = System.nanoTime();
        boolean available = cuda.isAvailable(); // the probe: cuInit, the PTX loaded and JIT-compiled
        OUT.printf("probe (cuInit, PTX load and JIT): %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        if (!available) {
            OUT.println("cuda unavailable: " + cuda.unavailabilityCause().map(Throwable::getMessage).orElse("?"));
            System.exit(2);
        }
        OUT.println("device: " + cuda.deviceDescription().orElse("?"));
        OUT.println("limits: " + CudaRuntime.require().limits());
        switch (mode) {
            case "smoke" -> System.exit(smoke(cuda) ? 0 : 1);
            case "leak" -> System.exit(leak(cuda) ? 0 : 1);
            case "bench" -> bench(cuda);
            default -> {
                OUT.println("usage: DeviceCheck smoke|leak|bench");
                System.exit(2);
            }
        }
    }

    /**
     * Candidate shapes of the smoke step; per variant the smallest that the planner gives it, and the
     * one whose block has the most threads (a block too big for a kernel's registers fails to launch:
     * the float64 block kernel at 416 threads on an H200, which the smallest shapes never reached).
     */
    static final int[][] SMOKE_SHAPES = {{7, 33}, {3, 1000}, {2, 9000}, {300, 2000}, {1, 262144}, {300, 20000},
            {300, 40000}, {8, 3300}, {264, 50000}};

    /**
     * Every softmaxBackward kernel family (warp, block, reread, split) for all four dtypes, in place and
     * not, bitwise against the kernel model (equal to reference bit for bit, checked without a GPU);
     * then sm_fwd and ce_bwd (see {@link #smokeForwardAndCrossEntropy}). Stops at the first mismatch,
     * naming the plan.
     */
    static boolean smoke(CudaBackend cuda) {
        CudaRuntime runtime = CudaRuntime.require();
        CUstream stream = newStream(runtime);
        Random random = new Random(5);
        for (DType dtype : DType.values()) {
            java.util.Map<LaunchPlan.Variant, int[]> smallest = new java.util.EnumMap<>(LaunchPlan.Variant.class);
            java.util.Map<LaunchPlan.Variant, int[]> widest = new java.util.EnumMap<>(LaunchPlan.Variant.class);
            for (int[] shape : SMOKE_SHAPES) {
                LaunchPlan plan = LaunchPlanner.plan(shape[0], shape[1], dtype, runtime.limits());
                smallest.merge(plan.variant(), shape, (a, b) -> (long) a[0] * a[1] <= (long) b[0] * b[1] ? a : b);
                widest.merge(plan.variant(), shape, (a, b) -> threads(a, dtype, runtime) >= threads(b, dtype, runtime)
                        ? a : b);
            }
            java.util.Set<int[]> shapes = new java.util.LinkedHashSet<>(smallest.values());
            shapes.addAll(widest.values());
            if (smallest.size() != 4) {
                OUT.println("smoke MISMATCH " + dtype + ": the smoke shapes take only the variants " + smallest.keySet()
                        + " on this device, not warp, block, reread and split");
                return false;
            }
            for (int[] shape : shapes) {
                int rows = shape[0];
                int cols = shape[1];
                LaunchPlan plan = LaunchPlanner.plan(rows, cols, dtype, runtime.limits());
                int n = rows * cols;
                long[] yBits = new long[n];
                long[] gBits = new long[n];
                double[] y = new double[n];
                double[] g = new double[n];
                for (int i = 0; i < n; i++) {
                    yBits[i] = CudaGpuTest.randomBits(random, dtype, true);
                    gBits[i] = CudaGpuTest.randomBits(random, dtype, false);
                    if (i / cols % 5 == 4) { // the in-place race's row: y = [1, 0, ...], g = [1, 0, ...]
                        yBits[i] = gBits[i] = i % cols == 0 ? CudaGpuTest.oneBits(dtype) : 0;
                    }
                    y[i] = KernelModel.widen(dtype, yBits[i]);
                    g[i] = KernelModel.widen(dtype, gBits[i]);
                }
                long[] expected = KernelModel.run(plan, dtype, y, g, rows, cols, 0, new int[n]);
                for (boolean inPlace : new boolean[] {false, true}) {
                    try (DeviceBuffer dy = CudaGpuTest.upload(dtype, yBits, n, 0);
                         DeviceBuffer dg = CudaGpuTest.upload(dtype, gBits, n, 0);
                         DeviceBuffer dout = DeviceBuffer.allocate(n, dtype)) {
                        dout.fill((byte) 0x7f);
                        DeviceBuffer target = inPlace ? dg : dout;
                        cuda.softmaxBackward(dg.pointer(), dy.pointer(), target.pointer(), rows, cols, cols, dtype,
                                stream);
                        check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
                        long[] out = CudaGpuTest.download(dtype, target, n);
                        String what = dtype + " " + rows + "x" + cols + (inPlace ? " in place" : " out of place")
                                + " " + plan;
                        for (int i = 0; i < n; i++) {
                            if (!CudaGpuTest.sameValue(dtype, expected[i], out[i])) {
                                OUT.println("smoke MISMATCH " + what + ": row " + i / cols + " entry " + i % cols
                                        + " expected " + Long.toHexString(expected[i]) + " got "
                                        + Long.toHexString(out[i]));
                                return false;
                            }
                        }
                        OUT.println("smoke ok " + what);
                    }
                }
            }
        }
        boolean ok = smokeForwardAndCrossEntropy(cuda, stream, random);
        JCudaDriver.cuStreamDestroy(stream);
        return ok;
    }

    private static int threads(int[] shape, DType dtype, CudaRuntime runtime) {
        return LaunchPlanner.plan(shape[0], shape[1], dtype, runtime.limits()).threads();
    }

    /** Shapes of the sm_fwd and ce_bwd smoke: one segment, and several (the segment tree). */
    static final int[][] ROW_KERNEL_SHAPES = {{7, 33}, {3, 9000}};

    /**
     * sm_fwd_* and ce_bwd_* for all four dtypes, in place and not: ce_bwd bitwise against reference
     * (float32, float64; for bf16/fp16 the same double computation rounded once, as contract §2 says);
     * sm_fwd bitwise against reference too (its exp is fdlibm's, as StrictMath.exp).
     */
    static boolean smokeForwardAndCrossEntropy(CudaBackend cuda, CUstream stream, Random random) {
        ReferenceBackend reference = new ReferenceBackend();
        for (DType dtype : DType.values()) {
            for (int[] shape : ROW_KERNEL_SHAPES) {
                int rows = shape[0];
                int cols = shape[1];
                int n = rows * cols;
                long[] xBits = new long[n];
                double[] x = new double[n];
                for (int i = 0; i < n; i++) {
                    xBits[i] = CudaGpuTest.randomBits(random, dtype, false);
                    x[i] = KernelModel.widen(dtype, xBits[i]);
                }
                long[] softmax = expectedSoftmax(reference, dtype, x, rows, cols);
                int[] labels = new int[rows];
                for (int r = 0; r < rows; r++) {
                    labels[r] = r % 3 == 1 ? -100 : r % 3 == 2 ? cols : random.nextInt(cols); // cols: a NaN row
                }
                double scale = 0.37f;
                long[] ce = expectedCrossEntropy(reference, dtype, x, labels, scale, rows, cols);
                for (boolean inPlace : new boolean[] {false, true}) {
                    String how = " " + rows + "x" + cols + (inPlace ? " in place" : " out of place");
                    long[] got;
                    try (DeviceBuffer dx = CudaGpuTest.upload(dtype, xBits, n, 0);
                         DeviceBuffer dout = DeviceBuffer.allocate(n, dtype)) {
                        dout.fill((byte) 0x7f);
                        DeviceBuffer target = inPlace ? dx : dout;
                        cuda.softmax(dx.pointer(), target.pointer(), rows, cols, cols, dtype, stream);
                        check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
                        got = CudaGpuTest.download(dtype, target, n);
                    }
                    String plan = "sm_fwd_" + dtype.suffix() + how;
                    for (int i = 0; i < n; i++) {
                        if (!CudaGpuTest.sameValue(dtype, softmax[i], got[i])) {
                            OUT.println("smoke MISMATCH " + plan + ": row " + i / cols + " entry " + i % cols + " expected "
                                    + Long.toHexString(softmax[i]) + " got " + Long.toHexString(got[i]));
                            return false;
                        }
                    }
                    OUT.println("smoke ok " + plan);
                    try (DeviceBuffer dy = CudaGpuTest.upload(dtype, xBits, n, 0);
                         DeviceBuffer dlabels = DeviceBuffer.allocate(4L * rows);
                         DeviceBuffer dout = DeviceBuffer.allocate(n, dtype)) {
                        dlabels.copyFrom(labels);
                        dout.fill((byte) 0x7f);
                        DeviceBuffer target = inPlace ? dy : dout;
                        cuda.crossEntropyBackward(dy.pointer(), dlabels.pointer(), scale, target.pointer(), rows, cols,
                                cols, dtype, stream);
                        check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
                        got = CudaGpuTest.download(dtype, target, n);
                    }
                    plan = "ce_bwd_" + dtype.suffix() + how;
                    for (int i = 0; i < n; i++) {
                        if (!CudaGpuTest.sameValue(dtype, ce[i], got[i])) {
                            OUT.println("smoke MISMATCH " + plan + ": row " + i / cols + " (label " + labels[i / cols]
                                    + ") entry " + i % cols + " expected " + Long.toHexString(ce[i]) + " got "
                                    + Long.toHexString(got[i]));
                            return false;
                        }
                    }
                    OUT.println("smoke ok " + plan + " (bitwise)");
                }
            }
        }
        return true;
    }

    /** A new stream, with the runtime's context made current on this thread. */
    private static CUstream newStream(CudaRuntime runtime) {
        runtime.makeCurrent();
        CUstream stream = new CUstream();
        check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
        return stream;
    }

    /** The reference's forward softmax in the dtype (16-bit types: the double result rounded once). */
    static long[] expectedSoftmax(ReferenceBackend reference, DType dtype, double[] x, int rows, int cols) {
        int n = rows * cols;
        long[] out = new long[n];
        if (dtype == DType.FLOAT32) {
            float[] fx = new float[n];
            float[] fo = new float[n];
            for (int i = 0; i < n; i++) {
                fx[i] = (float) x[i];
            }
            reference.softmax(fx, fo, rows, cols);
            for (int i = 0; i < n; i++) {
                out[i] = KernelModel.bits(dtype, fo[i]);
            }
        } else {
            double[] o = new double[n];
            reference.softmax(x, o, rows, cols);
            for (int i = 0; i < n; i++) {
                out[i] = KernelModel.bits(dtype, o[i]);
            }
        }
        return out;
    }

    /** The reference's crossEntropyBackward in the dtype; a label outside [0, cols) and not -100 gives NaN. */
    static long[] expectedCrossEntropy(ReferenceBackend reference, DType dtype, double[] y, int[] labels, double scale,
                                       int rows, int cols) {
        int n = rows * cols;
        int[] valid = labels.clone();
        for (int r = 0; r < rows; r++) {
            if (valid[r] != -100 && (valid[r] < 0 || valid[r] >= cols)) {
                valid[r] = 0; // the reference rejects it; the row is NaN below
            }
        }
        long[] out = new long[n];
        switch (dtype) {
            case FLOAT32 -> {
                float[] fy = new float[n];
                float[] fo = new float[n];
                for (int i = 0; i < n; i++) {
                    fy[i] = (float) y[i];
                }
                reference.crossEntropyBackward(fy, valid, (float) scale, fo, rows, cols);
                for (int i = 0; i < n; i++) {
                    out[i] = KernelModel.bits(dtype, fo[i]);
                }
            }
            case FLOAT64 -> {
                double[] o = new double[n];
                reference.crossEntropyBackward(y, valid, scale, o, rows, cols);
                for (int i = 0; i < n; i++) {
                    out[i] = KernelModel.bits(dtype, o[i]);
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    int label = valid[i / cols];
                    out[i] = KernelModel.bits(dtype,
                            label == -100 ? 0.0 : scale * (y[i] - (i % cols == label ? 1.0 : 0.0)));
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            if (valid[r] != labels[r]) {
                for (int i = r * cols; i < (r + 1) * cols; i++) {
                    out[i] = KernelModel.bits(dtype, Double.NaN);
                }
            }
        }
        return out;
    }

    static long freeBytes() {
        long[] free = new long[1];
        long[] total = new long[1];
        check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    /** 10^5 device-resident calls over every variant, 100 host-array calls; free memory must not fall. */
    static boolean leak(CudaBackend cuda) {
        CudaRuntime runtime = CudaRuntime.require();
        CUstream stream = newStream(runtime);
        int[][] shapes = {{64, 1024}, {64, 4096}, {8, 50257}, {1, 262144}};
        long n = 64L * 50257;
        boolean ok = true;
        try (DeviceBuffer y = DeviceBuffer.allocate(n, DType.FLOAT32);
             DeviceBuffer g = DeviceBuffer.allocate(n, DType.FLOAT32);
             DeviceBuffer out = DeviceBuffer.allocate(n, DType.FLOAT32)) {
            y.fill((byte) 0x3c);
            g.fill((byte) 0x3d);
            float[] hy = new float[64 * 1024];
            float[] hg = new float[64 * 1024];
            float[] ho = new float[64 * 1024];
            Arrays.fill(hy, 1f / 1024);
            Arrays.fill(hg, 0.5f);
            for (int i = 0; i < 1000; i++) { // warm up: module, pools, staging
                int[] s = shapes[i % shapes.length];
                cuda.softmaxBackward(g.pointer(), y.pointer(), out.pointer(), s[0], s[1], s[1], DType.FLOAT32, stream);
            }
            cuda.softmaxBackward(hg, hy, ho, 64, 1024);
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            long before = freeBytes();
            OUT.printf(Locale.ROOT, "free device memory before: %d bytes%n", before);
            for (int i = 1; i <= 100_000; i++) {
                int[] s = shapes[i % shapes.length];
                cuda.softmaxBackward(g.pointer(), y.pointer(), out.pointer(), s[0], s[1], s[1], DType.FLOAT32, stream);
                if (i % 1000 == 0) {
                    cuda.softmaxBackward(hg, hy, ho, 64, 1024);
                }
                if (i % 20_000 == 0) {
                    check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
                    OUT.printf(Locale.ROOT, "after %d calls: free %d bytes (change %+d)%n", i, freeBytes(),
                            freeBytes() - before);
                }
            }
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            long after = freeBytes();
            // stream-ordered pools may keep a few MiB cached; a leak of 100000 calls would be far more
            ok = before - after <= 8L << 20;
            OUT.printf(Locale.ROOT, "free device memory after 100000 device-resident calls and 100 host-array calls: %d bytes "
                    + "(change %+d): %s%n", after, after - before, ok ? "PASS" : "FAIL: device memory grew");
        } finally {
            JCudaDriver.cuStreamDestroy(stream);
        }
        return ok;
    }

    /** Fills {@code bytes} of device memory with a random block repeated (never zeros). */
    static void randomFill(DeviceBuffer buffer, DType dtype, boolean probabilities, int cols, Random random) {
        int block = 1 << 22;
        long total = buffer.bytes() / dtype.bytes();
        int n = (int) Math.min(total, block);
        try (DeviceBuffer tile = DeviceBuffer.allocate(n, dtype)) {
            double scale = probabilities ? 2.0 / cols : 1.0;
            switch (dtype) {
                case FLOAT32 -> {
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (float) (probabilities ? random.nextDouble() * scale : random.nextGaussian());
                    }
                    tile.copyFrom(a);
                }
                case BFLOAT16 -> {
                    short[] a = new short[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = HalfFloats.doubleToBf16(probabilities ? random.nextDouble() * scale : random.nextGaussian());
                    }
                    tile.copyFrom(a);
                }
                default -> throw new IllegalArgumentException(dtype.toString());
            }
            long bytes = (long) n * dtype.bytes();
            for (long at = 0; at < buffer.bytes(); at += bytes) {
                long len = Math.min(bytes, buffer.bytes() - at);
                check(JCudaDriver.cuMemcpyDtoD(buffer.pointer().withByteOffset(at), tile.pointer(), len), "cuMemcpyDtoD");
            }
        }
    }

    static float median(float[] a) {
        float[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Launches between one pair of CUDA events (the time per launch is the pair's time over this). */
    static final int LAUNCHES_PER_EVENT_PAIR = 10;
    /** Bytes overwritten before each event pair to push the inputs out of L2 (60 MB at most on sm_90). */
    static final long FLUSH_BYTES = 256L << 20;
    /** Set by bench(): the buffer the flush overwrites. */
    private static DeviceBuffer flush;

    /**
     * Median over {@code runs} event pairs of the time of one {@code body} (which rotates its inputs);
     * L2 is flushed before each pair, outside the events, as torch_baseline.py does.
     */
    static float time(CUstream stream, int runs, Runnable body) {
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
        check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
        for (int i = 0; i < 3; i++) {
            body.run();
        }
        float[] ms = new float[runs];
        float[] one = new float[1];
        for (int i = 0; i < runs; i++) {
            if (flush != null) {
                check(JCudaDriver.cuMemsetD8Async(flush.pointer(), (byte) i, flush.bytes(), stream), "cuMemsetD8Async");
            }
            check(JCudaDriver.cuEventRecord(start, stream), "cuEventRecord");
            for (int l = 0; l < LAUNCHES_PER_EVENT_PAIR; l++) {
                body.run();
            }
            check(JCudaDriver.cuEventRecord(stop, stream), "cuEventRecord");
            check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
            check(JCudaDriver.cuEventElapsedTime(one, start, stop), "cuEventElapsedTime");
            ms[i] = one[0] / LAUNCHES_PER_EVENT_PAIR;
        }
        JCudaDriver.cuEventDestroy(start);
        JCudaDriver.cuEventDestroy(stop);
        return median(ms);
    }

    static void bench(CudaBackend cuda) {
        CudaRuntime runtime = CudaRuntime.require();
        CUstream stream = newStream(runtime);
        Random random = new Random(42);
        int[] vs = {32, 128, 1024, 4096, 32000, 50257, 131072, 262144};
        int[] bs = {1, 64, 4096, 65536};
        long budget = freeBytes() / 2;
        long l2Rotate = 256L << 20; // rotate through >= 256 MiB of inputs so that L2 (50-60 MB) never holds them
        flush = DeviceBuffer.allocate(FLUSH_BYTES);
        budget -= FLUSH_BYTES;

        // peak copy bandwidth: 1 GiB device to device, (read + write) / time
        try (DeviceBuffer a = DeviceBuffer.allocate(1L << 30); DeviceBuffer b = DeviceBuffer.allocate(1L << 30)) {
            a.fill((byte) 1);
            float ms = time(stream, 20, () -> check(JCudaDriver.cuMemcpyDtoDAsync(b.pointer(), a.pointer(), 1L << 30,
                    stream), "cuMemcpyDtoDAsync"));
            OUT.printf(Locale.ROOT, "%nD2D copy of 1 GiB: %.3f ms median, %.1f GB/s (read + write)%n", ms,
                    2.0 * (1L << 30) / ms / 1e6);
        }
        OUT.println();
        OUT.println("| dtype | B | V | variant | kernel µs (median) | GB/s | copy GB/s (same bytes) | % of copy | bitwise rows |");
        OUT.println("|---|---|---|---|---|---|---|---|---|");
        for (DType dtype : List.of(DType.FLOAT32, DType.BFLOAT16)) {
            for (int v : vs) {
                for (int b : bs) {
                    long elements = (long) b * v;
                    long bytes = elements * dtype.bytes();
                    if (elements > Integer.MAX_VALUE || 3 * bytes > budget) {
                        OUT.printf(Locale.ROOT, "| %s | %d | %d | skipped (%s) | | | | | |%n", dtype, b, v,
                                elements > Integer.MAX_VALUE ? "B*V > 2^31-1" : "does not fit");
                        continue;
                    }
                    int copies = (int) Math.max(1, Math.min(8, l2Rotate / Math.max(1, 3 * bytes)));
                    if (copies * 3 * bytes > budget) {
                        copies = 1;
                    }
                    List<DeviceBuffer[]> sets = new ArrayList<>();
                    try {
                        for (int c = 0; c < copies; c++) {
                            DeviceBuffer y = DeviceBuffer.allocate(elements, dtype);
                            DeviceBuffer g = DeviceBuffer.allocate(elements, dtype);
                            DeviceBuffer o = DeviceBuffer.allocate(elements, dtype);
                            sets.add(new DeviceBuffer[] {y, g, o});
                            randomFill(y, dtype, true, v, random);
                            randomFill(g, dtype, false, v, random);
                            o.fill((byte) 0x7f); // poison
                        }
                        int[] next = {0};
                        int rows = b;
                        float ms = time(stream, 50, () -> {
                            DeviceBuffer[] s = sets.get(next[0]++ % sets.size());
                            cuda.softmaxBackward(s[1].pointer(), s[0].pointer(), s[2].pointer(), rows, v, v, dtype, stream);
                        });
                        DeviceBuffer[] s0 = sets.get(0);
                        String verified = verifyRows(dtype, s0, b, v);
                        // the copy of one array reads `bytes` and writes `bytes`, rotated over the same sets;
                        // both bandwidths are (bytes read + bytes written) / time
                        int[] nextCopy = {0};
                        float copyMs = time(stream, 50, () -> {
                            DeviceBuffer[] s = sets.get(nextCopy[0]++ % sets.size());
                            check(JCudaDriver.cuMemcpyDtoDAsync(s[2].pointer(), s[0].pointer(), bytes, stream),
                                    "cuMemcpyDtoDAsync");
                        });
                        double gbs = 3.0 * bytes / ms / 1e6;
                        double copyGbs = 2.0 * bytes / copyMs / 1e6;
                        OUT.printf(Locale.ROOT, "| %s | %d | %d | %s | %.2f | %.1f | %.1f | %.1f%% | %s |%n", dtype, b, v,
                                LaunchPlanner.plan(b, v, dtype, runtime.limits()).variant(), ms * 1000, gbs, copyGbs,
                                100 * gbs / copyGbs, verified);
                    } finally {
                        for (DeviceBuffer[] s : sets) {
                            for (DeviceBuffer d : s) {
                                d.close();
                            }
                        }
                    }
                }
            }
        }
        // device-resident call overhead at [1, 1024]: host time per enqueued call, then GPU time per call
        try (DeviceBuffer y = DeviceBuffer.allocate(1024, DType.FLOAT32);
             DeviceBuffer g = DeviceBuffer.allocate(1024, DType.FLOAT32);
             DeviceBuffer o = DeviceBuffer.allocate(1024, DType.FLOAT32)) {
            y.fill((byte) 0x3a);
            g.fill((byte) 0x3b);
            for (int i = 0; i < 10_000; i++) {
                cuda.softmaxBackward(g.pointer(), y.pointer(), o.pointer(), 1, 1024, 1024, DType.FLOAT32, stream);
            }
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            int calls = 100_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                cuda.softmaxBackward(g.pointer(), y.pointer(), o.pointer(), 1, 1024, 1024, DType.FLOAT32, stream);
            }
            long enqueued = System.nanoTime();
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            long done = System.nanoTime();
            float ms = time(stream, 200, () -> cuda.softmaxBackward(g.pointer(), y.pointer(), o.pointer(), 1, 1024,
                    1024, DType.FLOAT32, stream));
            flush.close();
            flush = null;
            OUT.printf(Locale.ROOT, "%n[1, 1024] float32 device-resident: %.2f µs host time per call (enqueue), "
                    + "%.2f µs per call end to end over %d calls, %.2f µs kernel (events, median)%n",
                    (enqueued - t0) / 1e3 / calls, (done - t0) / 1e3 / calls, calls, ms * 1000);
        }
        JCudaDriver.cuStreamDestroy(stream);
    }

    /** Copies back the first and the last row and compares them with the reference (float32) or the model (bf16). */
    static String verifyRows(DType dtype, DeviceBuffer[] set, int rows, int cols) {
        int[] check = rows == 1 ? new int[] {0} : new int[] {0, rows - 1};
        for (int r : check) {
            long offset = (long) r * cols * dtype.bytes();
            if (dtype == DType.FLOAT32) {
                float[] y = new float[cols];
                float[] g = new float[cols];
                float[] o = new float[cols];
                copyRows(set, offset, 4L * cols, Pointer.to(y), Pointer.to(g), Pointer.to(o));
                float[] expected = new float[cols];
                new ReferenceBackend().softmaxBackward(g, y, expected, 1, cols);
                for (int i = 0; i < cols; i++) {
                    if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(o[i])) {
                        return "MISMATCH row " + r + " col " + i;
                    }
                }
            } else {
                short[] y = new short[cols];
                short[] g = new short[cols];
                short[] o = new short[cols];
                copyRows(set, offset, 2L * cols, Pointer.to(y), Pointer.to(g), Pointer.to(o));
                double[] wy = new double[cols];
                double[] wg = new double[cols];
                for (int i = 0; i < cols; i++) {
                    wy[i] = HalfFloats.bf16ToDouble(y[i]);
                    wg[i] = HalfFloats.bf16ToDouble(g[i]);
                }
                LaunchPlan plan = LaunchPlanner.plan(1, cols, dtype, DeviceLimits.h100());
                long[] expected = KernelModel.run(plan, dtype, wy, wg, 1, cols, 0, new int[cols]);
                for (int i = 0; i < cols; i++) {
                    if (expected[i] != (o[i] & 0xffff)) {
                        return "MISMATCH row " + r + " col " + i;
                    }
                }
            }
        }
        return "ok (" + check.length + ")";
    }

    /** Copies {@code bytes} at {@code offset} of {@code set[k]} into {@code hosts[k]}, for each k. */
    private static void copyRows(DeviceBuffer[] set, long offset, long bytes, Pointer... hosts) {
        for (int k = 0; k < hosts.length; k++) {
            CUdeviceptr at = set[k].pointer().withByteOffset(offset);
            check(JCudaDriver.cuMemcpyDtoH(hosts[k], at, bytes), "cuMemcpyDtoH");
        }
    }
}
