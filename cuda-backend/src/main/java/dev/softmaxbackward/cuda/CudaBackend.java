package dev.softmaxbackward.cuda;

import dev.softmaxbackward.BackendDescriptor;
import dev.softmaxbackward.Guarantee;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.spi.Arguments;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * The {@code cuda} backend: the kernels of {@code softmax_backward.cu} (compiled to PTX for
 * compute_75, JIT-compiled by the driver) through JCuda, on the primary context of device
 * {@code softmaxbackward.cuda.device} (default 0). Priority 200: chosen over {@code cpu} when available.
 *
 * <p>Availability is probed once per process and never throws; {@link #unavailabilityCause()} says
 * why it failed (JCuda natives cannot load, e.g. no {@code libcuda.so.1}; {@code cuInit} fails; no
 * device; the PTX does not load, with the driver version).
 *
 * <p>Two ways in:
 * <ul>
 *   <li>the SPI with Java arrays: validated first (same checks and messages as every backend), then
 *       copied through pinned staging buffers reused across calls, computed, copied back;</li>
 *   <li>the device-resident methods ({@link #softmaxBackward(CUdeviceptr, CUdeviceptr, CUdeviceptr, int, int,
 *       long, DType, CUstream)} and the others) for tensors already on the GPU: pointers, a row stride, a
 *       dtype and a stream; the work is only enqueued on the stream. The split and forward kernels'
 *       scratch is one block per stream, kept between calls: a call that needs a bigger block than
 *       its stream has synchronises that stream once, to free the old one (the first call on a
 *       stream, or a larger shape); every other call allocates and synchronises nothing.
 *       {@link DeviceBuffer} owns device memory for callers who need it.</li>
 * </ul>
 * Every result is bit-identical to the {@code reference} backend for softmaxBackward and
 * crossEntropyBackward (the canonical summation order), and for forward {@code softmax}, whose
 * kernel computes fdlibm's {@code exp} ({@code StrictMath.exp}) step for step. On an H200 the
 * conformance suite passed with this backend selected (bench/results/gpu-h200-2026-12-04/).
 *
 * <p>Safe for concurrent callers: each call makes the primary context current on its own thread (and
 * puts the caller's current context back before it returns, also when it throws) and uses its own
 * stream and staging buffers.
 *
 * <p>{@link #close()} frees what the backend holds in this process (pinned staging buffers, streams,
 * kernel scratch, {@link DeviceBuffer}s still open, the module) and releases the device's primary
 * context; every instance shares that state, so afterwards {@code cuda} is unavailable in the process.
 */
@BackendDescriptor(name = CudaBackend.NAME, priority = CudaBackend.PRIORITY)
public final class CudaBackend implements SoftmaxBackwardBackend, AutoCloseable {
    public static final String NAME = "cuda";
    public static final int PRIORITY = 200;
    /** System property naming the device ordinal; default 0. */
    public static final String DEVICE_PROPERTY = CudaRuntime.DEVICE_PROPERTY;

    /** For {@link java.util.ServiceLoader}; every instance shares the one process-wide CUDA state. */
    public CudaBackend() {}

    /** The probe's reason, or, after a sticky CUDA error, that error (naming the launch before it). */
    @Override
    public Optional<Throwable> unavailabilityCause() {
        CudaRuntime.DeadContext dead = CudaRuntime.deadContext();
        if (dead != null) {
            return Optional.of(new CudaUnavailableException(dead.message(), dead.cause()));
        }
        if (CudaRuntime.isClosed()) {
            return Optional.of(new CudaUnavailableException(CudaRuntime.CLOSED));
        }
        return Optional.ofNullable(CudaRuntime.probeOnce().cause());
    }

    /** The device in words (name, compute capability, driver, SMs), or empty when unavailable. */
    public Optional<String> deviceDescription() {
        CudaRuntime runtime = CudaRuntime.probeOnce().runtime();
        return runtime == null ? Optional.empty() : Optional.of(runtime.description());
    }

    // ---- the SPI: host arrays --------------------------------------------------------------------

    @Override
    public void softmaxBackward(float[] gradOut, float[] softmaxOut, float[] gradIn, int rows, int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        hostBackward(DType.FLOAT32, gradOut, softmaxOut, gradIn, rows, cols);
    }

    @Override
    public void softmaxBackward(double[] gradOut, double[] softmaxOut, double[] gradIn, int rows, int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        hostBackward(DType.FLOAT64, gradOut, softmaxOut, gradIn, rows, cols);
    }

    @Override
    public void softmax(float[] logits, float[] out, int rows, int cols) {
        Arguments.softmax(logits, out, rows, cols);
        hostForward(DType.FLOAT32, logits, out, rows, cols);
    }

    @Override
    public void softmax(double[] logits, double[] out, int rows, int cols) {
        Arguments.softmax(logits, out, rows, cols);
        hostForward(DType.FLOAT64, logits, out, rows, cols);
    }

    @Override
    public void crossEntropyBackward(float[] softmaxOut, int[] labels, float scale, float[] gradIn, int rows,
                                     int cols) {
        Arguments.crossEntropyBackward(softmaxOut, labels, gradIn, rows, cols);
        hostCrossEntropy(DType.FLOAT32, softmaxOut, labels, scale, gradIn, rows, cols);
    }

    @Override
    public void crossEntropyBackward(double[] softmaxOut, int[] labels, double scale, double[] gradIn, int rows,
                                     int cols) {
        Arguments.crossEntropyBackward(softmaxOut, labels, gradIn, rows, cols);
        hostCrossEntropy(DType.FLOAT64, softmaxOut, labels, scale, gradIn, rows, cols);
    }

    // ---- device-resident entry points --------------------------------------------------------------

    /**
     * {@code gradIn = y * (gradOut - d)} per row on device memory, enqueued on {@code stream}.
     * Row {@code r} of each tensor starts at element {@code r * rowStride}; pointers must be aligned
     * to the element size (16-byte alignment of rows gets the vector loads; other rows are read with
     * scalar loads up to their first 16-byte boundary). {@code rows * cols} may exceed 2^31.
     * {@code gradIn} may equal {@code gradOut}. A null stream is the legacy default stream.
     *
     * @throws IllegalArgumentException for a negative size, {@code rowStride < cols}, an extent whose
     *     byte count overflows, or a null or misaligned pointer (naming it, its address and the alignment)
     */
    public void softmaxBackward(CUdeviceptr gradOut, CUdeviceptr softmaxOut, CUdeviceptr gradIn, int rows, int cols,
                                long rowStride, DType dtype, CUstream stream) {
        Arguments.notNull(gradOut, "gradOut");
        Arguments.notNull(softmaxOut, "softmaxOut");
        Arguments.notNull(gradIn, "gradIn");
        if (deviceShape(rows, cols, rowStride, dtype)) {
            aligned(gradOut, "gradOut", dtype);
            aligned(softmaxOut, "softmaxOut", dtype);
            aligned(gradIn, "gradIn", dtype);
        }
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            call.runtime().softmaxBackward(dtype, gradOut, softmaxOut, gradIn, rows, cols, rowStride, stream);
        }
    }

    /** Forward softmax per row on device memory, enqueued on {@code stream} (the reference's bits). */
    public void softmax(CUdeviceptr logits, CUdeviceptr out, int rows, int cols, long rowStride, DType dtype,
                        CUstream stream) {
        Arguments.notNull(logits, "logits");
        Arguments.notNull(out, "out");
        if (deviceShape(rows, cols, rowStride, dtype)) {
            aligned(logits, "logits", dtype);
            aligned(out, "out", dtype);
        }
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            call.runtime().softmax(dtype, logits, out, rows, cols, rowStride, stream);
        }
    }

    /**
     * {@code gradIn = scale * (y - onehot(labels[r]))} per row on device memory; {@code labels} is an
     * int32 device array of {@code rows} labels. Labels cannot be checked without a synchronisation:
     * label -100 gives a +0.0 row, any other label outside {@code [0, cols)} gives a NaN row.
     */
    public void crossEntropyBackward(CUdeviceptr softmaxOut, CUdeviceptr labels, double scale, CUdeviceptr gradIn,
                                     int rows, int cols, long rowStride, DType dtype, CUstream stream) {
        Arguments.notNull(softmaxOut, "softmaxOut");
        Arguments.notNull(labels, "labels");
        Arguments.notNull(gradIn, "gradIn");
        if (deviceShape(rows, cols, rowStride, dtype)) {
            aligned(softmaxOut, "softmaxOut", dtype);
            DevicePointers.requireAligned(labels, "labels", 4, "int32 labels");
            aligned(gradIn, "gradIn", dtype);
        }
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            call.runtime().crossEntropyBackward(dtype, softmaxOut, labels, scale, gradIn, rows, cols, rowStride, stream);
        }
    }

    /**
     * The device-resident shape rules; true when there is data to touch. Unlike the SPI's arrays,
     * rows * cols may pass 2^31 (the kernels take 64-bit sizes): only the extent's byte count
     * ((rows - 1) * rowStride + cols elements) must fit a long.
     */
    static boolean deviceShape(int rows, int cols, long rowStride, DType dtype) {
        Arguments.notNull(dtype, "dtype");
        if (rows < 0) {
            throw new IllegalArgumentException("rows " + rows + " < 0");
        }
        if (cols < 0) {
            throw new IllegalArgumentException("cols " + cols + " < 0");
        }
        if (rowStride < cols) {
            throw new IllegalArgumentException("rowStride " + rowStride + " < cols " + cols);
        }
        if (rows == 0 || cols == 0) {
            return false;
        }
        long maxElements = Long.MAX_VALUE / dtype.bytes();
        if (rows > 1 && rowStride > (maxElements - cols) / (rows - 1)) {
            throw new IllegalArgumentException("rows " + rows + ", cols " + cols + ", rowStride " + rowStride + " of "
                    + dtype + ": (rows - 1) * rowStride + cols elements overflow a 64-bit byte count");
        }
        return true;
    }

    private static void aligned(CUdeviceptr p, String name, DType dtype) {
        DevicePointers.requireAligned(p, name, dtype.bytes(), dtype + " elements");
    }

    /**
     * Frees the pinned staging buffers, streams, kernel scratch, the {@link DeviceBuffer}s still open
     * and the module, and releases the primary context, once the calls in flight have ended. The
     * state is the process's (shared by every instance): afterwards {@code cuda} is unavailable here,
     * with the reason that it was closed. Idempotent.
     */
    @Override
    public void close() {
        CudaRuntime.shutdown();
    }

    // ---- host-array plumbing -------------------------------------------------------------------------

    /** Copies between a Java array and pinned memory; the array is float[], double[] or int[]. */
    private static void put(ByteBuffer to, Object array, int offset, int length) {
        if (array instanceof float[] f) {
            to.asFloatBuffer().put(f, offset, length);
        } else if (array instanceof double[] d) {
            to.asDoubleBuffer().put(d, offset, length);
        } else {
            to.asIntBuffer().put((int[]) array, offset, length);
        }
    }

    private static void get(ByteBuffer from, Object array, int offset, int length) {
        if (array instanceof float[] f) {
            from.asFloatBuffer().get(f, offset, length);
        } else {
            from.asDoubleBuffer().get((double[]) array, offset, length);
        }
    }

    /** One call's work on a staging set; the set's stream is synchronised before the set is given back. */
    private interface StagedWork {
        void run(CudaRuntime runtime, HostStaging staging);
    }

    /**
     * Runs {@code work} on a staging set of at least {@code bytes}: the set goes back to the pool only
     * when the work and the final synchronisation succeeded; a set whose use failed is destroyed.
     */
    private static void staged(long bytes, StagedWork work) {
        try (CudaRuntime.Call call = CudaRuntime.call()) {
            call.runtime().staging().use(staging -> {
                staging.ensure(bytes);
                work.run(call.runtime(), staging);
                staging.synchronize();
            });
        }
    }

    /**
     * One chunk of a host-array call: rows {@code [r0, r0 + rows)}, entries {@code [offset, offset + n)}
     * of the arrays, {@code bytes} of them; the staging set holds regions of {@code region} bytes.
     */
    private record Chunk(long region, int r0, int rows, int offset, int n, long bytes) {}

    /** Copies one chunk's inputs in and launches its kernel; returns the offset of its output region. */
    private interface ChunkLaunch {
        long launch(CudaRuntime runtime, HostStaging staging, Chunk chunk);
    }

    /**
     * A host-array call, chunk by chunk on one staging set of {@code regions} regions of a chunk's
     * entries, plus {@code extraPerRow} bytes per row after them (the labels): each chunk is launched,
     * its output copied back and the stream synchronised before {@code out} is written, so
     * {@code out} may be an input (gradIn may be gradOut: a chunk's inputs were copied in before).
     */
    private static void hostChunks(DType dtype, int rows, int cols, int regions, int extraPerRow, Object out,
                                   ChunkLaunch launch) {
        if (rows == 0 || cols == 0) {
            return;
        }
        int es = dtype.bytes();
        int chunk = HostStaging.chunkRows(rows, cols, es);
        long region = HostStaging.region((long) chunk * cols * es);
        long extra = extraPerRow == 0 ? 0 : HostStaging.region((long) extraPerRow * chunk);
        staged(regions * region + extra, (runtime, staging) -> {
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int nr = Math.min(chunk, rows - r0);
                Chunk c = new Chunk(region, r0, nr, r0 * cols, nr * cols, (long) nr * cols * es);
                long at = launch.launch(runtime, staging, c);
                staging.download(at, c.bytes());
                staging.synchronize();
                get(staging.hostBytes(at, c.bytes()), out, c.offset(), c.n());
            }
        });
    }

    private void hostBackward(DType dtype, Object g, Object y, Object out, int rows, int cols) {
        hostChunks(dtype, rows, cols, 3, 0, out, (runtime, staging, c) -> {
            put(staging.hostBytes(0, c.bytes()), g, c.offset(), c.n());
            put(staging.hostBytes(c.region(), c.bytes()), y, c.offset(), c.n());
            staging.upload(0, c.bytes());
            staging.upload(c.region(), c.bytes());
            runtime.softmaxBackward(dtype, staging.device(0), staging.device(c.region()),
                    staging.device(2 * c.region()), c.rows(), cols, cols, staging.stream());
            return 2 * c.region();
        });
    }

    private void hostForward(DType dtype, Object x, Object out, int rows, int cols) {
        hostChunks(dtype, rows, cols, 2, 0, out, (runtime, staging, c) -> {
            put(staging.hostBytes(0, c.bytes()), x, c.offset(), c.n());
            staging.upload(0, c.bytes());
            runtime.softmax(dtype, staging.device(0), staging.device(c.region()), c.rows(), cols, cols,
                    staging.stream());
            return c.region();
        });
    }

    private void hostCrossEntropy(DType dtype, Object y, int[] labels, double scale, Object out, int rows, int cols) {
        hostChunks(dtype, rows, cols, 2, 4, out, (runtime, staging, c) -> {
            long labelsAt = 2 * c.region();
            put(staging.hostBytes(0, c.bytes()), y, c.offset(), c.n());
            put(staging.hostBytes(labelsAt, 4L * c.rows()), labels, c.r0(), c.rows());
            staging.upload(0, c.bytes());
            staging.upload(labelsAt, 4L * c.rows());
            runtime.crossEntropyBackward(dtype, staging.device(0), staging.device(labelsAt), scale,
                    staging.device(c.region()), c.rows(), cols, cols, staging.stream());
            return c.region();
        });
    }

    @Override
    public String toString() {
        return NAME;
    }

    /** The line {@code info} prints: the GPU (name, compute capability, driver, SMs); empty when unavailable. */
    @Override
    public String describe() {
        return deviceDescription().orElse("");
    }

    /** Bit-exact backward and forward: the forward kernel's exp is StrictMath.exp's fdlibm, step for step. */
    @Override
    public Set<Guarantee> guarantees() {
        return EnumSet.allOf(Guarantee.class);
    }
}
