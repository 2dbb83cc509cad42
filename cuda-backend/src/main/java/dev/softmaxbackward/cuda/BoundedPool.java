package dev.softmaxbackward.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most {@code capacity} items in existence at once (idle or lent out): a caller beyond that waits
 * for one to come back, so the pinned memory the host-array path holds is bounded. An item whose use
 * failed is {@linkplain #discard destroyed}, never handed to the next caller; {@link #close()}
 * destroys the idle items and every lent one as it comes back.
 */
final class BoundedPool<T> {
    private static final Logger LOG = LoggerFactory.getLogger(BoundedPool.class);

    private final Supplier<T> create;
    private final Consumer<T> destroy;
    private final Semaphore permits;
    private final Deque<T> idle = new ArrayDeque<>();
    private final int capacity;
    private boolean closed;

    BoundedPool(int capacity, Supplier<T> create, Consumer<T> destroy) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity + " < 1");
        }
        this.capacity = capacity;
        this.create = create;
        this.destroy = destroy;
        this.permits = new Semaphore(capacity, true);
    }

    int capacity() {
        return capacity;
    }

    /** An idle item, or a new one; waits while {@code capacity} items are lent out. */
    T acquire() {
        permits.acquireUninterruptibly();
        synchronized (this) {
            if (closed) {
                permits.release();
                throw new IllegalStateException("the staging pool is closed");
            }
            T item = idle.pollFirst();
            if (item != null) {
                return item;
            }
        }
        try {
            return create.get();
        } catch (RuntimeException | Error e) {
            permits.release();
            throw e;
        }
    }

    /**
     * Runs {@code work} on an item: the item goes back to the pool when {@code work} returns, and is
     * destroyed when it throws (the exception is passed on).
     */
    void use(Consumer<T> work) {
        T item = acquire();
        boolean ok = false;
        try {
            work.accept(item);
            ok = true;
        } finally {
            if (ok) {
                release(item);
            } else {
                discard(item);
            }
        }
    }

    /** Gives back an item whose use succeeded. */
    void release(T item) {
        boolean keep;
        synchronized (this) {
            keep = !closed;
            if (keep) {
                idle.offerFirst(item);
            }
        }
        if (!keep) {
            destroyQuietly(item);
        }
        permits.release();
    }

    /** Destroys an item whose use failed (its stream or buffers may be in any state). */
    void discard(T item) {
        destroyQuietly(item);
        permits.release();
    }

    /** Destroys the idle items; items lent out are destroyed when they come back. */
    void close() {
        List<T> items;
        synchronized (this) {
            closed = true;
            items = new ArrayList<>(idle);
            idle.clear();
        }
        items.forEach(this::destroyQuietly);
    }

    synchronized int idleCount() {
        return idle.size();
    }

    private void destroyQuietly(T item) {
        try {
            destroy.accept(item);
        } catch (RuntimeException e) {
            // a failed set after a sticky error cannot be freed; the error itself was already reported
            LOG.debug("softmax-backward: destroying a staging set failed: {}", e.toString());
        }
    }
}
