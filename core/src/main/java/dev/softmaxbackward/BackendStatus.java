package dev.softmaxbackward;

import java.util.Objects;
import java.util.Optional;

/**
 * What discovery found out about one backend: its name, its priority (higher wins automatic
 * selection), whether it can run here, and why not when it cannot. Immutable; two statuses are equal
 * when their name, priority, availability and cause are.
 *
 * <p>A final class rather than a record, so that the cause is held as a plain nullable field and
 * only handed out as an {@link Optional} ({@code Optional} is a return type, not a field type).
 */
public final class BackendStatus {
    private final String name;
    private final int priority;
    private final boolean available;
    private final Throwable cause;

    /**
     * @param cause why the backend cannot run, or null (available, or no reason given)
     */
    public BackendStatus(String name, int priority, boolean available, Throwable cause) {
        this.name = Objects.requireNonNull(name, "name");
        this.priority = priority;
        this.available = available;
        this.cause = cause;
    }

    /** The backend's name. */
    public String name() {
        return name;
    }

    /** Its priority: higher wins automatic selection. */
    public int priority() {
        return priority;
    }

    /** Whether it can run here. */
    public boolean available() {
        return available;
    }

    /** Why it cannot run here, when it cannot and said why. */
    public Optional<Throwable> cause() {
        return Optional.ofNullable(cause);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackendStatus other && name.equals(other.name) && priority == other.priority
                && available == other.available && Objects.equals(cause, other.cause);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, priority, available, cause);
    }

    @Override
    public String toString() {
        return "BackendStatus[name=" + name + ", priority=" + priority + ", available=" + available
                + (available ? "" : ", reason=" + reason()) + "]";
    }

    /** A one-line reason: empty when available, else the cause's class and message (and its root cause's). */
    public String reason() {
        return cause().map(BackendStatus::describe).orElse(available ? "" : "unavailable (no reason given)");
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
