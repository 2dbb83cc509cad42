package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What every CI run (no GPU, no libcuda.so.1) must see: cuda unavailable, with the loader's reason. */
class CudaAvailabilityTest {

    /** Whether this machine has an NVIDIA driver at all; the no-GPU expectations only hold without one. */
    static boolean driverPresent() {
        for (String dir : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu",
                "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib")) {
            if (Files.exists(Path.of(dir, "libcuda.so.1"))) {
                return true;
            }
        }
        return Files.exists(Path.of("/dev/nvidiactl"));
    }

    @Test
    void backendIdentity() {
        CudaBackend cuda = new CudaBackend();
        assertEquals("cuda", cuda.name());
        assertEquals(200, cuda.priority());
    }

    @Test
    void probeNeverThrowsAndIsCheapAfterTheFirstCall() {
        CudaBackend cuda = new CudaBackend();
        boolean first = cuda.isAvailable();
        assertEquals(first, new CudaBackend().isAvailable());
        // one probe per process: the same outcome object every time
        assertSame(CudaRuntime.probeOnce(), CudaRuntime.probeOnce());
        assertEquals(first, cuda.unavailabilityCause().isEmpty());
    }

    @Test
    void withoutADriverCudaIsUnavailableWithTheLoadersReason() {
        Assumptions.assumeFalse(driverPresent(), "an NVIDIA driver is installed here: the no-GPU reason cannot be seen");
        CudaBackend cuda = new CudaBackend();
        assertFalse(cuda.isAvailable());
        Throwable cause = cuda.unavailabilityCause().orElseThrow();
        String reason = cause.getMessage();
        // the loader's own words, not JCuda's two stack traces
        assertEquals("JCuda natives failed to load: UnsatisfiedLinkError: libJCudaDriver-12.6.0-linux-x86_64.so: "
                + "libcuda.so.1: cannot open shared object file: No such file or directory", reason);
        assertTrue(cuda.deviceDescription().isEmpty());
    }

    @Test
    void withoutADriverSelectionLandsOnAnotherBackend() {
        Assumptions.assumeFalse(driverPresent(), "an NVIDIA driver is installed here");
        Assumptions.assumeTrue(System.getProperty("softmaxbackward.backend") == null
                && System.getenv("SOFTMAX_BACKWARD_BACKEND") == null, "a backend is named explicitly");
        SoftmaxBackwardBackend chosen = SoftmaxBackward.backend();
        assertNotEquals("cuda", chosen.name());
        BackendStatus status = SoftmaxBackward.backends().stream().filter(s -> s.name().equals("cuda")).findFirst()
                .orElseThrow(() -> new AssertionError("cuda not discovered: " + SoftmaxBackward.backends()));
        assertFalse(status.available());
        assertEquals(200, status.priority());
        assertTrue(status.reason().contains("libcuda.so.1"), status.reason());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> SoftmaxBackward.backend("cuda"));
        assertTrue(e.getMessage().contains("cuda"), e.getMessage());
    }

    @Test
    void discoveredThroughTheServiceLoader() {
        assertTrue(ServiceLoader.load(SoftmaxBackwardBackend.class).stream()
                .anyMatch(p -> p.type() == CudaBackend.class));
    }

    @Test
    void unavailableBackendRefusesWorkWithTheReasonAfterValidating() {
        Assumptions.assumeFalse(new CudaBackend().isAvailable(), "cuda is available here");
        CudaBackend cuda = new CudaBackend();
        float[] a = new float[6];
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> cuda.softmaxBackward(a, a.clone(), new float[6], 2, 3));
        assertTrue(e.getMessage().contains(cuda.unavailabilityCause().orElseThrow().getMessage()), e.getMessage());
        // empty batches are valid and do nothing, even without a GPU
        cuda.softmaxBackward(new float[0], new float[0], new float[0], 0, 7);
        assertThrows(BackendUnavailableException.class, () -> DeviceBuffer.allocate(16));
    }

    @Test
    void theLoadersReasonIsPickedOutOfJCudasTwoStackTraces() {
        String classPath = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\n---(start of nested stack traces)---\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib\n"
                + "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2434)\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: "
                + "cannot open shared object file: No such file or directory\n"
                + "\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)\n";
        assertEquals("UnsatisfiedLinkError: libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared "
                + "object file: No such file or directory", CudaRuntime.loaderReason(new UnsatisfiedLinkError(classPath)));
        // JCuda on the module path cannot see its natives in the other jar (why there is no module-info)
        String modulePath = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.io.IOException: No resource found with name '/lib/libJCudaDriver-12.6.0-linux-x86_64.so'\n"
                + "\tat jcuda@12.6.0/jcuda.LibUtils.writeResourceToFile(LibUtils.java:348)\n";
        assertEquals("IOException: No resource found with name '/lib/libJCudaDriver-12.6.0-linux-x86_64.so'",
                CudaRuntime.loaderReason(new UnsatisfiedLinkError(modulePath)));
        assertEquals("NoClassDefFoundError: jcuda/driver/JCudaDriver",
                CudaRuntime.loaderReason(new NoClassDefFoundError("jcuda/driver/JCudaDriver")));
    }

    @Test
    void deviceOrdinalProperty() throws Exception {
        assertEquals(0, CudaRuntime.deviceOrdinal(null, 2));
        assertEquals(1, CudaRuntime.deviceOrdinal(" 1 ", 2));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> CudaRuntime.deviceOrdinal("2", 2));
        assertEquals("softmaxbackward.cuda.device=2 but there are 2 CUDA devices (ordinals 0..1)", e.getMessage());
        assertThrows(CudaUnavailableException.class, () -> CudaRuntime.deviceOrdinal("gpu0", 2));
        assertEquals("12.4", CudaRuntime.driverVersion(12040));
        assertEquals("13.0", CudaRuntime.driverVersion(13000));
    }
}
