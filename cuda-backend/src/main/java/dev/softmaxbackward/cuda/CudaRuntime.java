package dev.softmaxbackward.cuda;

import static dev.softmaxbackward.cuda.CudaException.check;
import static dev.softmaxbackward.cuda.CudaException.errorName;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.NativePointerObject;
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
 * JVM runs once and publishes safely). Every entry point first makes the primary context current on
 * the calling thread ({@code cuCtxSetCurrent}: per thread, cheap), so any thread may call. Kernels
 * and module handles may be used from several threads at once; streams and staging buffers are per
 * call (see {@link HostStaging}).
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

    private final CUdevice device;
    private final CUcontext context;
    private final Map<String, CUfunction> functions;
    private final DeviceLimits limits;
    private final boolean memoryPools;
    private final String description;

    private CudaRuntime(CUdevice device, CUcontext context, Map<String, CUfunction> functions, DeviceLimits limits,
                        boolean memoryPools, String description) {
        this.device = device;
        this.context = context;
        this.functions = functions;
        this.limits = limits;
        this.memoryPools = memoryPools;
        this.description = description;
    }

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

    /** Tests only: forget a simulated sticky error. */
    static synchronized void reviveForTests() {
        dead = null;
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

    /** Makes the primary context current on the calling thread. */
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
            // Kernels that take more than the default 48 KiB of dynamic shared memory must opt in, once.
            for (DType dtype : DType.values()) {
                for (String family : List.of("sb_block_", "sb_reread_", "sb_split_partials_")) {
                    call(JCudaDriver.cuFuncSetAttribute(functions.get(family + dtype.suffix()),
                            CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            limits.maxSharedPerBlock()), "cuFuncSetAttribute(" + family + dtype.suffix() + ")", driver);
                }
            }
            boolean pools = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, driver) != 0;
            ok = true;
            return new CudaRuntime(device, context, Map.copyOf(functions), limits, pools,
                    where + ", " + limits.multiprocessors() + " SMs");
        } finally {
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

    /** softmaxBackward on device memory, enqueued on {@code stream}; no host synchronisation. */
    void softmaxBackward(DType dtype, CUdeviceptr g, CUdeviceptr y, CUdeviceptr out, int rows, int cols, long stride,
                         CUstream stream) {
        LaunchPlan plan = LaunchPlanner.plan(rows, cols, dtype, limits);
        lastLaunch = plan + " for rows " + rows + ", cols " + cols + ", stride " + stride;
        switch (plan.variant()) {
            case NONE -> { }
            case WARP, BLOCK, REREAD -> launch(plan.kernel(), plan.gridX(), plan.gridY(), plan.threads(),
                    plan.sharedBytes(), stream, g, y, out, (long) rows, cols, stride);
            case SPLIT -> {
                CUdeviceptr workspace = allocate(plan.workspaceBytes(), stream);
                try {
                    long partialBytes = (long) rows * 2 * LaunchPlanner.segments(cols) * dtype.accumulatorBytes();
                    CUdeviceptr d = workspace.withByteOffset(partialBytes);
                    launch(plan.kernel(), plan.gridX(), plan.gridY(), plan.threads(), plan.sharedBytes(), stream,
                            g, y, (long) rows, cols, stride, plan.segmentsPerBlock(), workspace, plan.stagedSegments());
                    launch(plan.finishKernel(), rows, 1, LaunchPlan.SPLIT_FINISH_THREADS, 0, stream,
                            g, (long) rows, cols, stride, workspace, d);
                    launch(plan.outputKernel(), plan.gridX(), plan.gridY(), LaunchPlan.SPLIT_OUTPUT_THREADS, 0, stream,
                            g, y, out, (long) rows, cols, stride, plan.segmentsPerBlock(), d);
                } finally {
                    free(workspace, stream);
                }
            }
            default -> throw new IllegalStateException(plan.toString());
        }
    }

    /** Forward softmax on device memory (GPU exp: within 2 ulp of the Java backends, not bitwise). */
    void softmax(DType dtype, CUdeviceptr x, CUdeviceptr out, int rows, int cols, long stride, CUstream stream) {
        if (rows == 0 || cols == 0) {
            return;
        }
        lastLaunch = "sm_fwd_" + dtype.suffix() + " for rows " + rows + ", cols " + cols + ", stride " + stride;
        CUdeviceptr workspace = allocate(LaunchPlanner.forwardWorkspaceBytes(rows, cols, dtype), stream);
        try {
            launch("sm_fwd_" + dtype.suffix(), rows, 1, LaunchPlanner.rowKernelThreads(cols), 0, stream,
                    x, out, (long) rows, cols, stride, workspace);
        } finally {
            free(workspace, stream);
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
                y, labels, scale, out, (long) rows, cols, stride);
    }

    private void launch(String kernel, int gridX, int gridY, int threads, int sharedBytes, CUstream stream,
                        Object... arguments) {
        CUfunction function = functions.get(kernel);
        if (function == null) {
            throw new IllegalStateException("no kernel " + kernel + " in the PTX");
        }
        Pointer[] parameters = new Pointer[arguments.length];
        for (int i = 0; i < arguments.length; i++) {
            Object a = arguments[i];
            if (a instanceof NativePointerObject p) {
                parameters[i] = Pointer.to(p);
            } else if (a instanceof Long l) {
                parameters[i] = Pointer.to(new long[] {l});
            } else if (a instanceof Integer n) {
                parameters[i] = Pointer.to(new int[] {n});
            } else if (a instanceof Double v) {
                parameters[i] = Pointer.to(new double[] {v});
            } else {
                throw new IllegalArgumentException("kernel argument " + i + " of " + kernel + ": " + a);
            }
        }
        check(JCudaDriver.cuLaunchKernel(function, gridX, gridY, 1, threads, 1, 1, sharedBytes, stream,
                Pointer.to(parameters), null), "cuLaunchKernel(" + kernel + ", grid " + gridX + "x" + gridY
                + ", block " + threads + ", shared " + sharedBytes + ")");
    }

    /** Stream-ordered scratch memory (no host synchronisation) where the device has memory pools. */
    private CUdeviceptr allocate(long bytes, CUstream stream) {
        CUdeviceptr pointer = new CUdeviceptr();
        if (memoryPools) {
            check(JCudaDriver.cuMemAllocAsync(pointer, bytes, stream), "cuMemAllocAsync(" + bytes + ")");
        } else {
            check(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc(" + bytes + ")");
        }
        return pointer;
    }

    private void free(CUdeviceptr pointer, CUstream stream) {
        if (memoryPools) {
            check(JCudaDriver.cuMemFreeAsync(pointer, stream), "cuMemFreeAsync");
        } else {
            // without pools the scratch must outlive the kernels: wait for them (documented cost)
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            check(JCudaDriver.cuMemFree(pointer), "cuMemFree");
        }
    }
}
