package dev.softmaxbackward.cuda;

import static dev.softmaxbackward.cuda.CudaException.check;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedDeque;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * Pinned host buffers, device buffers and a stream for the host-array SPI, reused across calls.
 *
 * <p>Each call takes one set from a lock-free pool (or makes one), so concurrent callers never share
 * a buffer or a stream, and a set is returned for the next call. Arrays go through in chunks of whole
 * rows of at most {@link #CHUNK_BYTES} per array (one row at least), which bounds the pinned memory a
 * set holds. The sets live as long as the process (pinned memory is freed by the driver at exit).
 */
final class HostStaging {
    /** Bytes per array per chunk: 16 MiB, a few milliseconds of PCIe transfer. */
    static final long CHUNK_BYTES = 16L << 20;
    /** Regions inside a set's buffers start on 256-byte boundaries (cudaMalloc's alignment). */
    private static final long ALIGN = 256;

    private static final ConcurrentLinkedDeque<HostStaging> POOL = new ConcurrentLinkedDeque<>();

    private final CUstream stream = new CUstream();
    private Pointer host;
    private CUdeviceptr device;
    private long capacity;

    private HostStaging() {
        check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    }

    static HostStaging acquire() {
        HostStaging staging = POOL.pollFirst();
        return staging != null ? staging : new HostStaging();
    }

    void release() {
        POOL.offerFirst(this);
    }

    CUstream stream() {
        return stream;
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
        if (bytes <= capacity) {
            return;
        }
        free();
        Pointer h = new Pointer();
        check(JCudaDriver.cuMemAllocHost(h, bytes), "cuMemAllocHost(" + bytes + ")");
        CUdeviceptr d = new CUdeviceptr();
        int result = JCudaDriver.cuMemAlloc(d, bytes);
        if (result != 0) {
            JCudaDriver.cuMemFreeHost(h);
            check(result, "cuMemAlloc(" + bytes + ")");
        }
        host = h;
        device = d;
        capacity = bytes;
    }

    private void free() {
        if (capacity > 0) {
            check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost");
            check(JCudaDriver.cuMemFree(device), "cuMemFree");
            capacity = 0;
        }
    }

    /** The pinned bytes at [offset, offset+bytes), native order. */
    ByteBuffer hostBytes(long offset, long bytes) {
        return host.getByteBuffer(offset, bytes).order(ByteOrder.nativeOrder());
    }

    CUdeviceptr device(long offset) {
        return device.withByteOffset(offset);
    }

    /** Enqueues host [offset, +bytes) to device [offset, +bytes). */
    void upload(long offset, long bytes) {
        check(JCudaDriver.cuMemcpyHtoDAsync(device(offset), host.withByteOffset(offset), bytes, stream),
                "cuMemcpyHtoDAsync(" + bytes + ")");
    }

    /** Enqueues device [offset, +bytes) to host [offset, +bytes). */
    void download(long offset, long bytes) {
        check(JCudaDriver.cuMemcpyDtoHAsync(host.withByteOffset(offset), device(offset), bytes, stream),
                "cuMemcpyDtoHAsync(" + bytes + ")");
    }

    void synchronize() {
        check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }
}
