package dev.softmaxbackward;

/** A backend was asked for by name and cannot be had: unknown, or unavailable here (the cause says why). */
public final class BackendUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
