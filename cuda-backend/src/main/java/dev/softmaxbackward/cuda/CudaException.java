package dev.softmaxbackward.cuda;

import jcuda.driver.CUresult;

/** A CUDA driver call failed; the message names the call and the CUDA error (e.g. CUDA_ERROR_OUT_OF_MEMORY). */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int result;

    CudaException(String call, int result) {
        super(call + " failed: " + errorName(result) + " (" + result + ")");
        this.result = result;
    }

    /** The CUresult code. */
    public int result() {
        return result;
    }

    /** Throws unless {@code result} is CUDA_SUCCESS. */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            CudaException e = new CudaException(call, result);
            if (sticky(result)) {
                CudaRuntime.markDead(e);
            }
            throw e;
        }
    }

    /**
     * Errors that leave the context unusable: after one, every later call in the process fails
     * (CUDA's "sticky" errors). The backend then counts as dead (see {@link CudaRuntime#markDead}).
     */
    static boolean sticky(int result) {
        return switch (result) {
            case CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, CUresult.CUDA_ERROR_MISALIGNED_ADDRESS,
                    CUresult.CUDA_ERROR_LAUNCH_FAILED, CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION,
                    CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR, CUresult.CUDA_ERROR_INVALID_PC,
                    CUresult.CUDA_ERROR_INVALID_ADDRESS_SPACE, CUresult.CUDA_ERROR_ASSERT,
                    CUresult.CUDA_ERROR_LAUNCH_TIMEOUT, CUresult.CUDA_ERROR_ECC_UNCORRECTABLE -> true;
            default -> false;
        };
    }

    static String errorName(int result) {
        return CUresult.stringFor(result);
    }
}
