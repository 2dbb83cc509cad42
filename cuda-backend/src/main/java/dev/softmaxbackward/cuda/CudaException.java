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
            throw new CudaException(call, result);
        }
    }

    static String errorName(int result) {
        return CUresult.stringFor(result);
    }
}
