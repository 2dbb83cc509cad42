package dev.softmaxbackward.cuda;

/** Why the cuda backend cannot run here: the probe's reason (kept, never thrown at callers). */
final class CudaUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    CudaUnavailableException(String message) {
        super(message);
    }

    CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
