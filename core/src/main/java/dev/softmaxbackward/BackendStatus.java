package dev.softmaxbackward;

import java.util.Objects;
import java.util.Optional;

/**
 * What discovery found out about one backend.
 *
 * @param name      the backend's name
 * @param priority  its priority (higher wins automatic selection)
 * @param available whether it can run here
 * @param cause     why it cannot, when it cannot
 */
public record BackendStatus(String name, int priority, boolean available, Optional<Throwable> cause) {

    public BackendStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cause, "cause");
    }

    /** A one-line reason: empty when available, else the cause's class and message (and its root cause's). */
    public String reason() {
        return cause.map(BackendStatus::describe).orElse(available ? "" : "unavailable (no reason given)");
    }

    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(oneLine(t));
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != t) {
            sb.append(" (caused by ").append(oneLine(root)).append(')');
        }
        return sb.toString();
    }

    private static String oneLine(Throwable t) {
        String message = t.getMessage();
        return message == null || message.isBlank()
                ? t.getClass().getSimpleName()
                : t.getClass().getSimpleName() + ": " + message.strip().replace('\n', ' ');
    }
}
