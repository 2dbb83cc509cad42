package dev.softmaxbackward.cuda;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last resort for native memory whose owner was never closed: a {@link Cleaner} runs the free
 * once the owner is unreachable, and logs a WARN that names what was leaked. Explicit
 * {@link Handle#free()} stays the main path; it runs the same action at most once, and after it the
 * Cleaner does nothing.
 */
final class Reclaimer {
    private static final Logger LOG = LoggerFactory.getLogger(Reclaimer.class);
    private static final Cleaner CLEANER = Cleaner.create(runnable -> {
        Thread t = new Thread(runnable, "softmax-backward-cuda-cleaner");
        t.setDaemon(true);
        return t;
    });

    private Reclaimer() {}

    /** One registered native resource. */
    static final class Handle {
        private final Action action;
        private final Cleaner.Cleanable cleanable;

        private Handle(Action action, Cleaner.Cleanable cleanable) {
            this.action = action;
            this.cleanable = cleanable;
        }

        /** Frees now (the explicit path); later calls and the Cleaner do nothing. */
        void free() {
            action.explicit = true;
            cleanable.clean();
        }
    }

    /**
     * Registers {@code free} to run when {@code owner} becomes unreachable without {@link Handle#free()}.
     * {@code free} must not refer to {@code owner} (or the owner never becomes unreachable).
     */
    static Handle register(Object owner, String what, Runnable free) {
        Action action = new Action(what, free, null);
        return new Handle(action, CLEANER.register(owner, action));
    }

    /** Resources that are freed together when their owner (the runtime) closes, if not before. */
    static final class Group {
        private final Set<Handle> live = ConcurrentHashMap.newKeySet();

        /** As {@link Reclaimer#register}, and remembered until freed. */
        Handle register(Object owner, String what, Runnable free) {
            Action action = new Action(what, free, live);
            Handle handle = new Handle(action, CLEANER.register(owner, action));
            action.handle = handle;
            live.add(handle);
            Reference.reachabilityFence(owner); // no Cleaner run before the handle is in the set
            return handle;
        }

        /** Frees every resource still live; returns how many there were. */
        int freeAll() {
            List<Handle> handles = List.copyOf(live);
            for (Handle h : handles) {
                try {
                    h.free();
                } catch (RuntimeException e) {
                    LOG.debug("softmax-backward: freeing {} failed: {}", h.action.what, e.toString());
                }
            }
            return handles.size();
        }

        int size() {
            return live.size();
        }
    }

    private static final class Action implements Runnable {
        private final String what;
        private final Runnable free;
        private final Set<Handle> group;
        volatile Handle handle;
        volatile boolean explicit;

        Action(String what, Runnable free, Set<Handle> group) {
            this.what = what;
            this.free = free;
            this.group = group;
        }

        @Override
        public void run() {
            if (group != null) {
                group.remove(handle);
            }
            if (!explicit) {
                LOG.warn("softmax-backward: {} was not closed; freed by the Cleaner", what);
            }
            try {
                free.run();
            } catch (RuntimeException e) {
                if (explicit) {
                    throw e;
                }
                // on the Cleaner's thread nobody can catch it: log (a dead context cannot free anything)
                LOG.debug("softmax-backward: freeing {} failed: {}", what, e.toString());
            }
        }
    }
}
