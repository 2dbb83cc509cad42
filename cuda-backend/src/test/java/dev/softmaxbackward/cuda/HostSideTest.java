package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendUnavailableException;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Host-side rules that need no GPU: sticky errors kill the backend, byte counts do not overflow. */
class HostSideTest {
    @AfterEach
    void revive() {
        CudaRuntime.reviveForTests();
    }

    @Test
    void aStickyErrorMarksTheBackendDeadAndNamesTheFirstFailingLaunch() {
        CudaRuntime.recordLaunchForTests("LaunchPlan[variant=REREAD, kernel=sb_reread_f32] for rows 300, cols 40000");
        CudaException first = assertThrows(CudaException.class,
                () -> CudaException.check(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, "cuStreamSynchronize"));
        CudaRuntime.recordLaunchForTests("sb_warp_f32_p1 for rows 1, cols 1");
        assertThrows(CudaException.class,
                () -> CudaException.check(CUresult.CUDA_ERROR_LAUNCH_FAILED, "cuMemcpyDtoH(4)"));

        CudaBackend cuda = new CudaBackend();
        assertFalse(cuda.isAvailable());
        String reason = cuda.unavailabilityCause().orElseThrow().getMessage();
        assertTrue(reason.contains("CUDA_ERROR_ILLEGAL_ADDRESS") && reason.contains("sb_reread_f32")
                && reason.contains("cols 40000"), reason);
        assertEquals(first, cuda.unavailabilityCause().orElseThrow().getCause());
        BackendUnavailableException later = assertThrows(BackendUnavailableException.class,
                () -> cuda.softmaxBackward(new float[] {1}, new float[] {1}, new float[1], 1, 1));
        assertTrue(later.getMessage().contains("sb_reread_f32") && later.getMessage().contains("cuStreamSynchronize"),
                later.getMessage());
        assertFalse(later.getMessage().contains("sb_warp_f32_p1"), later.getMessage());
    }

    @Test
    void ordinaryErrorsDoNotKillTheBackend() {
        assertThrows(CudaException.class,
                () -> CudaException.check(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc(1)"));
        assertEquals(null, CudaRuntime.deadContext());
        assertFalse(CudaException.sticky(CUresult.CUDA_ERROR_INVALID_VALUE));
        assertTrue(CudaException.sticky(CUresult.CUDA_ERROR_MISALIGNED_ADDRESS));
    }

    @Test
    void deviceBufferByteCountsThatOverflowAreRejectedWithTheNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DeviceBuffer.allocate(1L << 62, DType.FLOAT64));
        assertTrue(e.getMessage().contains("4611686018427387904") && e.getMessage().contains("overflow"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(0, DType.FLOAT32));
        assertThrows(NullPointerException.class, () -> DeviceBuffer.allocate(1, null));
        assertEquals(Long.MAX_VALUE / 8 * 8, DeviceBuffer.byteCount(Long.MAX_VALUE / 8, DType.FLOAT64));
    }
}
