package dev.softmaxbackward.cuda;

import static dev.softmaxbackward.cuda.CudaException.check;
import static dev.softmaxbackward.cuda.CudaException.errorName;

import dev.softmaxbackward.spi.RowNumerics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.driver.JITOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide CUDA state: the probe (run once), the primary context of the chosen device, the
 * module loaded once from the PTX resource, its kernels, and the launches.
 *
 * <p>Thread safety: the fields are written once, in the probe (class-holder initialisation, which the
 * JVM runs once and publishes safely). Every entry point runs inside a {@link Call}: it makes the
 * primary context current on the calling thread and puts the caller's context back afterwards, and
 * it holds the read side of a lock whose write side {@link #shutdown()} takes, so closing waits for
 * calls in flight. Kernels and module handles may be used from several threads at once; staging sets
 * are one per concurrent caller (a {@link BoundedPool}), scratch memory one block per stream
 * ({@link WorkspaceCache}).
 */
final class CudaRuntime {
    /** System property naming the device ordinal (default 0). */
    static final String DEVICE_PROPERTY = "softmaxbackward.cuda.device";
    /** The PTX, next to this class in the jar. */
    static final String PTX_RESOURCE = "softmax_backward.ptx";

    private static final Logger LOG = LoggerFactory.getLogger(CudaRuntime.class);
    private static final int JIT_LOG_BYTES = 16 * 1024;

    /** The probe's outcome: a runtime, or why there is none. */
    record Probe(CudaRuntime runtime, CudaUnavailableException cause) {}

    private static final class Holder {
        static final Probe PROBE = probe();
    }

    /** Staging sets in existence at once (each up to 3 x 16 MiB pinned plus as much device memory). */
    static final int STAGING_SETS = 4;
    /** Streams whose scratch block is kept. */
    static final int WORKSPACE_STREAMS = 16;
    /** Forward-softmax launches are cut into row chunks whose scratch stays within this. */
    static final long FORWARD_WORKSPACE_BYTES = 64L << 20;

    private final CUdevice device;
    private final CUcontext context;
    private final CUmodule module;
    private final Map<String, CUfunction> functions;
    private final DeviceLimits limits;
    private final String description;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final BoundedPool<HostStaging> staging;
    private final WorkspaceCache<CUstream, CUdeviceptr> workspaces;
    private final Reclaimer.Group buffers = new Reclaimer.Group();
    private final ContextBracket.Driver<CUcontext> contexts = new ContextBracket.Driver<>() {
        @Override
        public CUcontext current() {
            CUcontext c = new CUcontext();
            check(JCudaDriver.cuCtxGetCurrent(c), "cuCtxGetCurrent");
            return c;
        }

        @Override
        public void setCurrent(CUcontext c) {
            check(JCudaDriver.cuCtxSetCurrent(c), "cuCtxSetCurrent");
        }

        @Override
        public boolean same(CUcontext a, CUcontext b) {
            return DevicePointers.address(a) == DevicePointers.address(b);
        }
    };

    private CudaRuntime(CUdevice device, CUcontext context, CUmodule module, Map<String, CUfunction> functions,
                        DeviceLimits limits, String description) {
        this.device = device;
        this.context = context;
        this.module = module;
        this.functions = functions;
        this.limits = limits;
        this.description = description;
        this.staging = new BoundedPool<>(STAGING_SETS, () -> new HostStaging(this), HostStaging::destroy);
        this.workspaces = new WorkspaceCache<>(new DeviceScratch(), WORKSPACE_STREAMS);
    }

    /** {@code CU_STREAM_PER_THREAD}'s handle in cuda.h (not read from JCudaDriver, whose class loads natives). */
    static final long PER_THREAD_STREAM = 0x2;
    private static final AtomicLong THREAD_KEYS = new AtomicLong();
    /** A negative key per thread: stream addresses are positive, so the two never meet. */
    private static final ThreadLocal<Long> THREAD_KEY = ThreadLocal.withInitial(() -> -1 - THREAD_KEYS.getAndIncrement());

    /**
     * The scratch key of a stream: its address, but for {@code CU_STREAM_PER_THREAD}, one handle that is a
     * different stream on each thread, whose kernels run unordered with the other threads': there each
     * thread needs a block of its own, or two threads' kernels would race on one block's partial sums.
     * (The legacy default stream, 0 or {@code CU_STREAM_LEGACY}, is one stream for all threads.)
     */
    static long scratchKey(long streamAddress) {
        return streamAddress == PER_THREAD_STREAM ? THREAD_KEY.get() : streamAddress;
    }

    /** Scratch blocks: allocated once per stream and size, freed only after the work that used them. */
    private static final class DeviceScratch implements WorkspaceCache.Memory<CUstream, CUdeviceptr> {
        @Override
        public long key(CUstream stream) {
            return scratchKey(DevicePointers.address(stream));
        }

        @Override
        public CUdeviceptr allocate(long bytes) {
            CUdeviceptr p = new CUdeviceptr();
            check(JCudaDriver.cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + ") for kernel scratch");
            return p;
        }

        @Override
        public void freeAfter(CUdeviceptr block, CUstream stream) {
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            check(JCudaDriver.cuMemFree(block), "cuMemFree");
        }

        @Override
        public void freeIdle(CUdeviceptr block) {
            check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
            check(JCudaDriver.cuMemFree(block), "cuMemFree");
        }
    }

    /** Set once by {@link #shutdown()}: the backend was closed in this process. */
    private static volatile boolean closed;

    /** The first sticky error, with the kernel and plan launched last before it; null while alive. */
    private static volatile DeadContext dead;
    /** The kernel and plan of the latest launch (any thread): what a sticky error is blamed on. */
    private static volatile String lastLaunch = "no kernel launched yet";

    /** Why the backend died: the sticky error and the launch that preceded it. */
    record DeadContext(CudaException cause, String launch) {
        String message() {
            return "the cuda backend is dead after a sticky CUDA error (the context cannot be used again in this "
                    + "process): " + cause.getMessage() + "; first failing launch: " + launch;
        }
    }

    /** Records the first sticky error; later ones keep the first cause. */
    static synchronized void markDead(CudaException cause) {
        if (dead == null) {
            dead = new DeadContext(cause, lastLaunch);
            LOG.error("softmax-backward: {}", dead.message());
        }
    }

    /** The first sticky error, if one happened. */
    static DeadContext deadContext() {
        return dead;
    }

    /** Whether {@link #shutdown()} ran. */
    static boolean isClosed() {
        return closed;
    }

    static final String CLOSED = "the cuda backend was closed (CudaBackend.close()) in this process";

    /** Tests only: forget a simulated sticky error. */
    static synchronized void reviveForTests() {
        dead = null;
        if (probeOnce().runtime() == null) { // without a GPU a test may simulate close() and take it back
            closed = false;
        }
        lastLaunch = "no kernel launched yet";
    }

    static void recordLaunchForTests(String launch) {
        lastLaunch = launch;
    }

    /** The probe, run on first use, once per process. */
    static Probe probeOnce() {
        return Holder.PROBE;
    }

    /** The runtime, or BackendUnavailable-style failure with the probe's reason. */
    static CudaRuntime require() {
        DeadContext died = dead;
        if (died != null) {
            throw new dev.softmaxbackward.BackendUnavailableException(died.message(), died.cause());
        }
        if (closed) {
            throw new dev.softmaxbackward.BackendUnavailableException(CLOSED);
        }
        Probe probe = probeOnce();
        if (probe.runtime() == null) {
            throw new dev.softmaxbackward.BackendUnavailableException(
                    "the cuda backend is unavailable: " + probe.cause().getMessage(), probe.cause());
        }
        return probe.runtime();
    }

    DeviceLimits limits() {
        return limits;
    }

    String description() {
        return description;
    }

    CUdevice device() {
        return device;
    }

    Reclaimer.Group buffers() {
        return buffers;
    }

    WorkspaceCache<CUstream, CUdeviceptr> workspaces() {
        return workspaces;
    }

    BoundedPool<HostStaging> staging() {
        return staging;
    }

    /** Makes the primary context current until the bracket closes; checks nothing else (frees use it too). */
    ContextBracket<CUcontext> enter() {
        return ContextBracket.enter(contexts, context);
    }

    /**
     * One entry point's stay in the runtime: the runtime is alive and open, its context is current,
     * and a close waits for this call to end; {@link #close()} puts the caller's context back.
     */
    static final class Call implements AutoCloseable {
        private final CudaRuntime runtime;
        private final ContextBracket<CUcontext> bracket;

        private Call(CudaRuntime runtime, ContextBracket<CUcontext> bracket) {
            this.runtime = runtime;
            this.bracket = bracket;
        }

        CudaRuntime runtime() {
            return runtime;
        }

        @Override
        public void close() {
            try {
                bracket.close();
            } finally {
                runtime.lifecycle.readLock().unlock();
            }
        }
    }

    /** Starts a {@link Call}, or throws BackendUnavailableException (unavailable, dead or closed). */
    static Call call() {
        CudaRuntime runtime = require();
        runtime.lifecycle.readLock().lock();
        try {
            require(); // closed (or dead) while this call waited for the lock
            return new Call(runtime, runtime.enter());
        } catch (RuntimeException | Error e) {
            runtime.lifecycle.readLock().unlock();
            throw e;
        }
    }

    /**
     * Frees everything the backend holds (staging sets, scratch, device buffers still open, the
     * module) and releases the primary context, after the calls in flight; afterwards the backend is
     * unavailable in this process. Idempotent. Failures are logged, not thrown (after a sticky error
     * nothing can be freed; the driver frees it at exit).
     */
    static void shutdown() {
        CudaRuntime runtime = probeOnce().runtime();
        if (runtime == null) {
            closed = true;
            return;
        }
        runtime.lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try (ContextBracket<CUcontext> current = runtime.enter()) {
                runtime.staging.close();
                runtime.workspaces.close();
                int open = runtime.buffers.freeAll();
                if (open > 0) {
                    LOG.debug("softmax-backward: closing the cuda backend freed {} device buffers still open", open);
                }
                check(JCudaDriver.cuModuleUnload(runtime.module), "cuModuleUnload");
            } catch (RuntimeException e) {
                LOG.warn("softmax-backward: closing the cuda backend: {}", e.toString());
            } finally {
                JCudaDriver.cuDevicePrimaryCtxRelease(runtime.device);
            }
            LOG.info("softmax-backward: cuda backend closed");
        } finally {
            runtime.lifecycle.writeLock().unlock();
        }
    }

    /**
     * Tests only: undoes a second {@link #probe()}'s open (its module and its hold on the primary
     * context), leaving the process's runtime as it was.
     */
    void releaseExtraOpen() {
        try (ContextBracket<CUcontext> current = enter()) {
            check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload");
        } finally {
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
        }
    }

    /** Test programs only: makes the primary context current on the calling thread, and leaves it. */
    void makeCurrent() {
        DeadContext died = dead;
        if (died != null) {
            throw new dev.softmaxbackward.BackendUnavailableException(died.message(), died.cause());
        }
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    // ---- the probe ------------------------------------------------------------------------------

    /** Never throws: every failure, including a missing native library, becomes the reason. */
    static Probe probe() {
        try {
            CudaRuntime runtime = open();
            LOG.info("softmax-backward: cuda backend on {}", runtime.description);
            return new Probe(runtime, null);
        } catch (CudaUnavailableException e) {
            return new Probe(null, e);
        } catch (Throwable t) { // a bug or an unexpected native failure: still a reason, never an exception
            return new Probe(null, new CudaUnavailableException("the cuda probe failed: " + t, t));
        }
    }

    private static CudaRuntime open() throws CudaUnavailableException {
        try {
            // The first touch of JCudaDriver loads libJCudaDriver, which needs the driver's libcuda.so.1.
            // JCuda's global exception setting is the host application's: left as it is (with
            // exceptions on, a failing call throws jcuda.CudaException, which the probe turns into
            // the reason and later calls pass on).
            int result = JCudaDriver.cuInit(0);
            if (result != CUresult.CUDA_SUCCESS) {
                throw new CudaUnavailableException("cuInit failed: " + errorName(result));
            }
        } catch (LinkageError e) { // UnsatisfiedLinkError: no libcuda.so.1; NoClassDefFoundError: no jcuda jar
            throw new CudaUnavailableException("JCuda natives failed to load: " + loaderReason(e), e);
        }
        int result;
        int[] value = new int[1];
        result = JCudaDriver.cuDriverGetVersion(value);
        String driver = result == CUresult.CUDA_SUCCESS ? driverVersion(value[0]) : "unknown";
        result = JCudaDriver.cuDeviceGetCount(value);
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaUnavailableException("cuDeviceGetCount failed: " + errorName(result) + " (driver " + driver + ")");
        }
        int count = value[0];
        if (count == 0) {
            throw new CudaUnavailableException("no CUDA device (driver " + driver + ")");
        }
        int ordinal = deviceOrdinal(System.getProperty(DEVICE_PROPERTY), count);
        CUdevice device = new CUdevice();
        call(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")", driver);
        byte[] nameBytes = new byte[256];
        call(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName", driver);
        String name = new String(nameBytes, StandardCharsets.US_ASCII).trim().replace("\0", "");
        int major = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, driver);
        int minor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, driver);
        String where = "device " + ordinal + " (" + name + ", compute capability " + major + "." + minor
                + ", driver " + driver + ")";
        if (major < 7 || (major == 7 && minor < 5)) {
            throw new CudaUnavailableException(where + " is older than the PTX target compute_75 (Turing)");
        }
        // The probe runs on whichever thread first asks for a backend, which may have a context of its
        // own current: it gets that context back, as after every call (ContextBracket), also on failure.
        CUcontext previous = new CUcontext();
        call(JCudaDriver.cuCtxGetCurrent(previous), "cuCtxGetCurrent", driver);
        CUcontext context = new CUcontext();
        call(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain on " + where, driver);
        boolean ok = false;
        try {
            call(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent on " + where, driver);
            String ptx = readPtx();
            CUmodule module = new CUmodule();
            JITOptions jit = new JITOptions();
            jit.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[JIT_LOG_BYTES]);
            jit.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, JIT_LOG_BYTES);
            byte[] image = (ptx + "\0").getBytes(StandardCharsets.US_ASCII);
            result = JCudaDriver.cuModuleLoadDataJIT(module, Pointer.to(image), jit);
            if (result != CUresult.CUDA_SUCCESS) {
                String log = jitLog(jit);
                throw new CudaUnavailableException("the PTX failed to load on " + where + ": " + errorName(result)
                        + "; " + ptxVersion(ptx) + (log.isEmpty() ? "" : "; JIT log: " + log));
            }
            Map<String, CUfunction> functions = new HashMap<>();
            for (String kernel : kernelNames()) {
                CUfunction function = new CUfunction();
                call(JCudaDriver.cuModuleGetFunction(function, module, kernel), "cuModuleGetFunction(" + kernel + ")",
                        driver);
                functions.put(kernel, function);
            }
            DeviceLimits limits = new DeviceLimits(
                    attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, driver),
                    attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, driver),
                    attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, driver),
                    attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
                            driver),
                    attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, driver),
                    attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y, driver));
            // A kernel's registers can cap its blocks below the device's 1024 threads (sb_block_f64: 130
            // registers, CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES at 416 threads on an H200): the planner reads it.
            Map<String, Integer> kernelThreads = new HashMap<>();
            for (Map.Entry<String, CUfunction> entry : functions.entrySet()) {
                int[] blockLimit = new int[1];
                call(JCudaDriver.cuFuncGetAttribute(blockLimit, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
                        entry.getValue()), "cuFuncGetAttribute(" + entry.getKey() + ")", driver);
                if (blockLimit[0] < limits.maxThreadsPerBlock()) {
                    kernelThreads.put(entry.getKey(), blockLimit[0]);
                }
            }
            if (!kernelThreads.isEmpty()) {
                LOG.debug("kernels with fewer threads per block than the device allows: {}", kernelThreads);
            }
            limits = limits.withKernelMaxThreads(kernelThreads);
            // Kernels that take more than the default 48 KiB of dynamic shared memory must opt in, once.
            for (DType dtype : DType.values()) {
                for (String family : List.of("sb_block_", "sb_reread_", "sb_split_partials_")) {
                    call(JCudaDriver.cuFuncSetAttribute(functions.get(family + dtype.suffix()),
                            CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            limits.maxSharedPerBlock()), "cuFuncSetAttribute(" + family + dtype.suffix() + ")", driver);
                }
            }
            ok = true;
            return new CudaRuntime(device, context, module, Map.copyOf(functions), limits,
                    where + ", " + limits.multiprocessors() + " SMs");
        } finally {
            JCudaDriver.cuCtxSetCurrent(previous); // before a release, so that no released context stays current
            if (!ok) {
                JCudaDriver.cuDevicePrimaryCtxRelease(device);
            }
        }
    }

    /** Every kernel the host code launches; each must be an entry of the PTX (a test checks). */
    static List<String> kernelNames() {
        List<String> names = new ArrayList<>();
        for (DType dtype : DType.values()) {
            String s = dtype.suffix();
            for (String family : List.of("sb_block_", "sb_reread_", "sb_split_partials_", "sb_split_finish_",
                    "sb_split_output_", "sm_fwd_", "ce_bwd_")) {
                names.add(family + s);
            }
            for (int p = 1; p <= LaunchPlanner.maxPerLane(dtype); p <<= 1) {
                names.add("sb_warp_" + s + "_p" + p);
            }
        }
        return List.copyOf(names);
    }

    static int deviceOrdinal(String property, int count) throws CudaUnavailableException {
        if (property == null || property.isBlank()) {
            return 0;
        }
        int ordinal;
        try {
            ordinal = Integer.parseInt(property.strip());
        } catch (NumberFormatException e) {
            throw new CudaUnavailableException(DEVICE_PROPERTY + "=" + property + " is not a device ordinal");
        }
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaUnavailableException(DEVICE_PROPERTY + "=" + ordinal + " but there are " + count
                    + " CUDA devices (ordinals 0.." + (count - 1) + ")");
        }
        return ordinal;
    }

    static String driverVersion(int version) {
        return version / 1000 + "." + (version % 1000) / 10;
    }

    private static final Pattern ISA = Pattern.compile("^\\.version\\s+(\\S+)", Pattern.MULTILINE);
    private static final Pattern TOOLKIT = Pattern.compile("Cuda compilation tools, release (\\S+),");

    /** "PTX ISA 9.0 from nvcc 13.0 (the driver must support CUDA 13.0 or newer)". */
    static String ptxVersion(String ptx) {
        Matcher isa = ISA.matcher(ptx);
        Matcher toolkit = TOOLKIT.matcher(ptx);
        String i = isa.find() ? isa.group(1) : "?";
        String t = toolkit.find() ? toolkit.group(1) : "?";
        return "PTX ISA " + i + " from nvcc " + t + " (the driver must support CUDA " + t + " or newer)";
    }

    static String readPtx() throws CudaUnavailableException {
        try (InputStream in = CudaRuntime.class.getResourceAsStream(PTX_RESOURCE)) {
            if (in == null) {
                throw new CudaUnavailableException("the PTX resource " + PTX_RESOURCE + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new CudaUnavailableException("the PTX resource " + PTX_RESOURCE + " cannot be read: " + e, e);
        }
    }

    private static String jitLog(JITOptions jit) {
        try {
            String log = jit.getString(CUjit_option.CU_JIT_ERROR_LOG_BUFFER);
            return log == null ? "" : log.replace("\0", "").strip().replace('\n', ' ');
        } catch (RuntimeException e) {
            return "";
        }
    }

    private static final Pattern RESOURCE_ATTEMPT = Pattern.compile(
            "as a resource:\\s*\\R\\s*(?:[\\w$]+\\.)*([\\w$]+): (?:\\S*/)?([^\\r\\n]+)");

    /**
     * The line that says why: JCuda's UnsatisfiedLinkError carries both of its attempts' stack traces;
     * the attempt to load the library extracted from the jar names the missing dependency
     * ("UnsatisfiedLinkError: libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared
     * object file"), or that the library is not there to extract (JCuda on the module path:
     * "IOException: No resource found with name '/lib/libJCudaDriver-12.6.0-linux-x86_64.so'").
     */
    static String loaderReason(Throwable t) {
        String message = String.valueOf(t.getMessage());
        Matcher resource = RESOURCE_ATTEMPT.matcher(message);
        if (resource.find()) {
            return resource.group(1) + ": " + resource.group(2).strip();
        }
        return firstLine(t);
    }

    private static String firstLine(Throwable t) {
        String message = String.valueOf(t.getMessage()).strip();
        int newline = message.indexOf('\n');
        return t.getClass().getSimpleName() + ": " + (newline < 0 ? message : message.substring(0, newline).strip());
    }

    private static void call(int result, String what, String driver) throws CudaUnavailableException {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaUnavailableException(what + " failed: " + errorName(result) + " (driver " + driver + ")");
        }
    }

    private static int attribute(CUdevice device, int attribute, String driver) throws CudaUnavailableException {
        int[] value = new int[1];
        call(JCudaDriver.cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute(" + attribute + ")",
                driver);
        return value[0];
    }

    // ---- launches -----------------------------------------------------------------------------

    /**
     * softmaxBackward on device memory, enqueued on {@code stream}; no host synchronisation. Rows are
     * launched in chunks where one launch cannot take them all (the split variant's grid.y).
     */
    void softmaxBackward(DType dtype, CUdeviceptr g, CUdeviceptr y, CUdeviceptr out, int rows, int cols, long stride,
                         CUstream stream) {
        int chunk = LaunchPlanner.rowsPerLaunch(rows, cols, dtype, limits);
        for (int r0 = 0; r0 < rows; r0 += chunk) {
            int nr = Math.min(chunk, rows - r0);
            long shift = (long) r0 * stride * dtype.bytes();
            backwardChunk(dtype, g.withByteOffset(shift), y.withByteOffset(shift), out.withByteOffset(shift), nr,
                    cols, stride, stream);
        }
    }

    private void backwardChunk(DType dtype, CUdeviceptr g, CUdeviceptr y, CUdeviceptr out, int rows, int cols,
                               long stride, CUstream stream) {
        LaunchPlan plan = LaunchPlanner.plan(rows, cols, dtype, limits);
        lastLaunch = plan + " for rows " + rows + ", cols " + cols + ", stride " + stride;
        switch (plan.variant()) {
            case NONE -> { }
            case WARP, BLOCK, REREAD -> launch(plan.kernel(), plan.gridX(), plan.gridY(), plan.threads(),
                    plan.sharedBytes(), stream, KernelArgs.row(g, y, out, rows, cols, stride));
            case SPLIT -> {
                // the workspace is this stream's, reused: the lease keeps other threads' kernels on the
                // same stream from interleaving with these three
                try (WorkspaceCache<CUstream, CUdeviceptr>.Lease lease = workspaces.lease(stream, plan.workspaceBytes())) {
                    CUdeviceptr workspace = lease.block();
                    long partialBytes = (long) rows * 2 * RowNumerics.segments(cols) * dtype.accumulatorBytes();
                    CUdeviceptr d = workspace.withByteOffset(partialBytes);
                    launch(plan.kernel(), plan.gridX(), plan.gridY(), plan.threads(), plan.sharedBytes(), stream,
                            KernelArgs.splitPartials(g, y, rows, cols, stride, plan.segmentsPerBlock(), workspace,
                                    plan.stagedSegments()));
                    launch(plan.finishKernel(), rows, 1, LaunchPlan.SPLIT_FINISH_THREADS, 0, stream,
                            KernelArgs.splitFinish(g, y, rows, cols, stride, workspace, d));
                    launch(plan.outputKernel(), plan.gridX(), plan.gridY(), LaunchPlan.SPLIT_OUTPUT_THREADS, 0, stream,
                            KernelArgs.splitOutput(g, y, out, rows, cols, stride, plan.segmentsPerBlock(), d));
                }
            }
            default -> throw new IllegalStateException(plan.toString());
        }
    }

    /** Forward softmax on device memory (fdlibm's exp: the Java backends' bits). */
    void softmax(DType dtype, CUdeviceptr x, CUdeviceptr out, int rows, int cols, long stride, CUstream stream) {
        if (rows == 0 || cols == 0) {
            return;
        }
        long perRow = LaunchPlanner.forwardWorkspaceBytes(1, cols, dtype);
        int chunk = (int) Math.max(1, Math.min(rows, FORWARD_WORKSPACE_BYTES / perRow));
        String kernel = "sm_fwd_" + dtype.suffix();
        try (WorkspaceCache<CUstream, CUdeviceptr>.Lease lease = workspaces.lease(stream, chunk * perRow)) {
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int nr = Math.min(chunk, rows - r0);
                long shift = (long) r0 * stride * dtype.bytes();
                lastLaunch = kernel + " for rows " + nr + " (from row " + r0 + "), cols " + cols + ", stride " + stride;
                launch(kernel, nr, 1, LaunchPlanner.rowKernelThreads(cols), 0, stream,
                        KernelArgs.forward(x.withByteOffset(shift), out.withByteOffset(shift), nr, cols, stride,
                                lease.block()));
            }
        }
    }

    /** crossEntropyBackward on device memory; labels are int32 on the device. */
    void crossEntropyBackward(DType dtype, CUdeviceptr y, CUdeviceptr labels, double scale, CUdeviceptr out, int rows,
                              int cols, long stride, CUstream stream) {
        if (rows == 0 || cols == 0) {
            return;
        }
        lastLaunch = "ce_bwd_" + dtype.suffix() + " for rows " + rows + ", cols " + cols + ", stride " + stride;
        launch("ce_bwd_" + dtype.suffix(), rows, 1, LaunchPlanner.rowKernelThreads(cols), 0, stream,
                KernelArgs.crossEntropy(y, labels, scale, out, rows, cols, stride));
    }

    private void launch(String kernel, int gridX, int gridY, int threads, int sharedBytes, CUstream stream,
                        KernelArgs arguments) {
        CUfunction function = functions.get(kernel);
        if (function == null) {
            throw new IllegalStateException("no kernel " + kernel + " in the PTX");
        }
        if (threads > limits.maxThreads(kernel)) {
            // the driver would fail it with CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES; the plan is the bug
            throw new IllegalStateException("a block of " + threads + " threads for " + kernel + ", which allows "
                    + limits.maxThreads(kernel) + " on this device (grid " + gridX + "x" + gridY + ", shared " + sharedBytes
                    + ")");
        }
        check(JCudaDriver.cuLaunchKernel(function, gridX, gridY, 1, threads, 1, 1, sharedBytes, stream,
                Pointer.to(arguments.parameters()), null), "cuLaunchKernel(" + kernel + ", grid " + gridX + "x" + gridY
                + ", block " + threads + ", shared " + sharedBytes + ")");
    }
}
