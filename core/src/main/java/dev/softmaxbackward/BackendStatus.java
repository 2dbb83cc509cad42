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

    /**
     * One line: the first line of the throwable's message, and its root cause's when that adds
     * something (native loaders put whole stack traces into their messages; those stay in the cause).
     */
    static String describe(Throwable t) {
        String top = oneLine(t);
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root == t) {
            return top;
        }
        String rootLine = oneLine(root);
        String rootMessage = rootLine.substring(rootLine.indexOf(": ") + 2);
        return top.contains(rootMessage) ? top : top + " (caused by " + rootLine + ")";
    }

    private static final int MAX_LINE = 400;

    private static String oneLine(Throwable t) {
        String message = t.getMessage() == null ? "" : t.getMessage().strip();
        int newline = message.indexOf('\n');
        if (newline >= 0) {
            message = message.substring(0, newline).strip();
        }
        if (message.length() > MAX_LINE) {
            message = message.substring(0, MAX_LINE) + "...";
        }
        String type = t.getClass().getSimpleName();
        return message.isEmpty() ? type : type + ": " + message;
    }
}
