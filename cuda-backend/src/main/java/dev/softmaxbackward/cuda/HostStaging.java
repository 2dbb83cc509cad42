package dev.softmaxbackward.cuda;

import static dev.softmaxbackward.cuda.CudaException.check;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One staging set of the host-array SPI: a pinned host buffer, a device buffer and a stream, reused
 * across calls through the runtime's {@link BoundedPool} (one set per concurrent caller, so callers
 * never share a buffer or a stream). Arrays go through in chunks of whole rows of at most
 * {@link #CHUNK_BYTES} per array (one row at least), which bounds the pinned memory a set holds.
 *
 * <p>{@link #destroy()} frees the set (the pool calls it on close and for a set whose use failed);
 * a set that is never destroyed is freed by a Cleaner, with a WARN.
 */
final class HostStaging {
    /** Bytes per array per chunk: 16 MiB, a few milliseconds of PCIe transfer. */
    static final long CHUNK_BYTES = 16L << 20;
    /** Regions inside a set's buffers start on 256-byte boundaries (cudaMalloc's alignment). */
    private static final long ALIGN = 256;
    private static final Logger LOG = LoggerFactory.getLogger(HostStaging.class);

    /** The native handles, apart from the set so that the Cleaner's action does not keep the set alive. */
    private static final class Native implements Runnable {
        private final CudaRuntime runtime;
        final CUstream stream = new CUstream();
        Pointer host;
        CUdeviceptr device;
        long capacity;

        Native(CudaRuntime runtime) {
            this.runtime = runtime;
        }

        void freeBuffers() {
            if (capacity > 0) {
                capacity = 0;
                int host = JCudaDriver.cuMemFreeHost(this.host);
                int device = JCudaDriver.cuMemFree(this.device);
                check(host, "cuMemFreeHost");
                check(device, "cuMemFree");
            }
        }

        /** Waits for the stream (errors ignored: a failed set is destroyed all the same), then frees all. */
        @Override
        public void run() {
            try (ContextBracket<?> current = runtime.enter()) {
                try {
                    JCudaDriver.cuStreamSynchronize(stream);
                } catch (RuntimeException e) {
                    // JCuda throws instead of returning the error when the host application turned its
                    // exceptions on: a failed set is destroyed all the same
                    LOG.debug("cuStreamSynchronize before destroying a staging set: {}", e.toString());
                }
                try {
                    runtime.workspaces().forget(stream);
                } finally {
                    try {
                        freeBuffers();
                    } finally {
                        check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
                    }
                }
            }
        }
    }

    private final Native state;
    private final Reclaimer.Handle handle;

    /** A new set with its stream; the calling thread must have the runtime's context current. */
    HostStaging(CudaRuntime runtime) {
        state = new Native(runtime);
        check(JCudaDriver.cuStreamCreate(state.stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        handle = Reclaimer.register(this, "a cuda staging set (pinned buffer and stream)", state);
    }

    /** Frees the pinned and device buffers and the stream (once). */
    void destroy() {
        handle.free();
    }

    CUstream stream() {
        return state.stream;
    }

    /** Rows per chunk so that one array's chunk stays within CHUNK_BYTES (at least one row). */
    static int chunkRows(int rows, int cols, int elementBytes) {
        long rowBytes = (long) cols * elementBytes;
        return (int) Math.max(1, Math.min(rows, CHUNK_BYTES / Math.max(1, rowBytes)));
    }

    /** Region size for {@code bytes}, rounded up to the alignment. */
    static long region(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Makes room for {@code bytes} in both the pinned host buffer and the device buffer. */
    void ensure(long bytes) {
        if (bytes <= state.capacity) {
            return;
        }
        state.freeBuffers();
        Pointer h = new Pointer();
        check(JCudaDriver.cuMemAllocHost(h, bytes), "cuMemAllocHost(" + bytes + ")");
        CUdeviceptr d = new CUdeviceptr();
        boolean allocated = false;
        try { // a try, not a result test: with JCuda's exceptions on, the failing cuMemAlloc throws
            check(JCudaDriver.cuMemAlloc(d, bytes), "cuMemAlloc(" + bytes + ")");
            allocated = true;
        } finally {
            if (!allocated) {
                JCudaDriver.cuMemFreeHost(h);
            }
        }
        state.host = h;
        state.device = d;
        state.capacity = bytes;
    }

    /** The pinned bytes at [offset, offset+bytes), native order. */
    ByteBuffer hostBytes(long offset, long bytes) {
        return state.host.getByteBuffer(offset, bytes).order(ByteOrder.nativeOrder());
    }

    CUdeviceptr device(long offset) {
        return state.device.withByteOffset(offset);
    }

    /** Enqueues host [offset, +bytes) to device [offset, +bytes). */
    void upload(long offset, long bytes) {
        check(JCudaDriver.cuMemcpyHtoDAsync(device(offset), state.host.withByteOffset(offset), bytes, state.stream),
                "cuMemcpyHtoDAsync(" + bytes + ")");
    }

    /** Enqueues device [offset, +bytes) to host [offset, +bytes). */
    void download(long offset, long bytes) {
        check(JCudaDriver.cuMemcpyDtoHAsync(state.host.withByteOffset(offset), device(offset), bytes, state.stream),
                "cuMemcpyDtoHAsync(" + bytes + ")");
    }

    void synchronize() {
        check(JCudaDriver.cuStreamSynchronize(state.stream), "cuStreamSynchronize");
    }
}
