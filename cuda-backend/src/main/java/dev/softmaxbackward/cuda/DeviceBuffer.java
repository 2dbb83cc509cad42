package dev.softmaxbackward.cuda;

import static dev.softmaxbackward.cuda.CudaException.check;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Device memory on the cuda backend's device, freed by {@link #close()} (try-with-resources), so that
 * callers of the device-resident API do not leak. A buffer that is never closed is freed by a Cleaner
 * once unreachable (logged at WARN: close it instead); closing the backend frees every buffer still
 * open. The copy helpers are synchronous and meant for setting up and checking data, not for the hot
 * path.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final long bytes;
    private final CUdeviceptr pointer;
    private final Freed freed;
    private final Reclaimer.Handle handle;

    /** Whether the memory was freed (by close, the backend's close or the Cleaner); shared with the free action. */
    private static final class Freed {
        volatile boolean yes;
    }

    private DeviceBuffer(CudaRuntime runtime, CUdeviceptr pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
        this.freed = new Freed();
        Freed flag = freed;
        this.handle = runtime.buffers().register(this, "a DeviceBuffer of " + bytes + " bytes", () -> {
            flag.yes = true;
            try (ContextBracket<?> current = runtime.enter()) {
                check(JCudaDriver.cuMemFree(pointer), "cuMemFree");
            }
        });
    }

    /**
     * Allocates {@code bytes} (at least 1) on the backend's device; cudaMalloc alignment (256 bytes).
     *
     * @throws dev.softmaxbackward.BackendUnavailableException when the cuda backend is unavailable
     */
    public static DeviceBuffer allocate(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes " + bytes + " < 1");
        }
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            CUdeviceptr pointer = new CUdeviceptr();
            check(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc(" + bytes + ")");
            return new DeviceBuffer(call.runtime(), pointer, bytes);
        }
    }

    /** Allocates room for {@code elements} of {@code dtype}. */
    public static DeviceBuffer allocate(long elements, DType dtype) {
        return allocate(byteCount(elements, dtype));
    }

    /** {@code elements * dtype.bytes()}, rejecting a negative count and a product past Long.MAX_VALUE. */
    static long byteCount(long elements, DType dtype) {
        if (dtype == null) {
            throw new NullPointerException("dtype");
        }
        if (elements < 1) {
            throw new IllegalArgumentException("elements " + elements + " < 1");
        }
        if (elements > Long.MAX_VALUE / dtype.bytes()) {
            throw new IllegalArgumentException("elements " + elements + " of " + dtype + " (" + dtype.bytes()
                    + " bytes each) overflow a 64-bit byte count");
        }
        return elements * dtype.bytes();
    }

    /** The device pointer; valid until {@link #close()}. */
    public CUdeviceptr pointer() {
        if (freed.yes) {
            throw new IllegalStateException("the device buffer is closed");
        }
        return pointer;
    }

    public long bytes() {
        return bytes;
    }

    public void copyFrom(float[] source) {
        copyIn(Pointer.to(source), 4L * source.length);
    }

    public void copyFrom(double[] source) {
        copyIn(Pointer.to(source), 8L * source.length);
    }

    /** Raw 16-bit patterns (bf16, fp16). */
    public void copyFrom(short[] source) {
        copyIn(Pointer.to(source), 2L * source.length);
    }

    public void copyFrom(int[] source) {
        copyIn(Pointer.to(source), 4L * source.length);
    }

    public void copyTo(float[] target) {
        copyOut(Pointer.to(target), 4L * target.length);
    }

    public void copyTo(double[] target) {
        copyOut(Pointer.to(target), 8L * target.length);
    }

    public void copyTo(short[] target) {
        copyOut(Pointer.to(target), 2L * target.length);
    }

    /** Sets every byte to {@code value} (e.g. poison outputs before a check). */
    public void fill(byte value) {
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            check(JCudaDriver.cuMemsetD8(pointer(), value, bytes), "cuMemsetD8");
        }
    }

    private void copyIn(Pointer host, long count) {
        fits(count);
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            check(JCudaDriver.cuMemcpyHtoD(pointer(), host, count), "cuMemcpyHtoD(" + count + ")");
        }
    }

    private void copyOut(Pointer host, long count) {
        fits(count);
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            check(JCudaDriver.cuMemcpyDtoH(host, pointer(), count), "cuMemcpyDtoH(" + count + ")");
        }
    }

    private void fits(long count) {
        if (count > bytes) {
            throw new IllegalArgumentException("array of " + count + " bytes > device buffer of " + bytes + " bytes");
        }
    }

    /** Frees the memory; a second call does nothing. */
    @Override
    public void close() {
        handle.free();
    }
}
