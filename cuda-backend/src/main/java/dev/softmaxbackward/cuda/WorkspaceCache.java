package dev.softmaxbackward.cuda;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Scratch memory of the split and forward kernels, one block per stream, kept between calls and grown
 * when a call needs more, so that a call allocates and frees nothing. A stream's calls run in stream
 * order, so one block per stream is enough; the lease's lock keeps two threads that enqueue on the
 * same stream from interleaving their kernels over the one block. At most {@code maxStreams} blocks
 * are kept (least recently used evicted); {@link #close()} frees all.
 *
 * @param <S> the stream handle (CUstream)
 * @param <B> the memory block (CUdeviceptr)
 */
final class WorkspaceCache<S, B> {
    /** The driver calls behind the cache (a seam: tested without a GPU). */
    interface Memory<S, B> {
        /** A key that identifies the stream (its address; the legacy default stream is 0). */
        long key(S stream);

        B allocate(long bytes);

        /** Frees {@code block} once the work enqueued on {@code stream} so far is done. */
        void freeAfter(B block, S stream);

        /** Frees {@code block} when its stream may be gone: after all work on the device. */
        void freeIdle(B block);
    }

    /** Granularity of the blocks: small shapes share one size, and growth is rare. */
    static final long ROUND = 1L << 20;

    private final Memory<S, B> memory;
    private final int maxStreams;
    private final LinkedHashMap<Long, Entry<B>> entries = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    WorkspaceCache(Memory<S, B> memory, int maxStreams) {
        this.memory = memory;
        this.maxStreams = maxStreams;
    }

    private static final class Entry<B> {
        final ReentrantLock lock = new ReentrantLock();
        B block;
        long bytes;
        /** Set (under the lock) once the entry left the map: a thread that found it before must look again. */
        boolean gone;

        /** Under the lock: frees the block with {@code free} and marks the entry gone. */
        void retire(java.util.function.Consumer<B> free) {
            try {
                if (block != null) {
                    free.accept(block);
                }
            } finally {
                block = null;
                bytes = 0;
                gone = true;
            }
        }
    }

    /** A block of at least the asked bytes, the stream's own until {@link #close()} of the lease. */
    final class Lease implements AutoCloseable {
        private final Entry<B> entry;

        private Lease(Entry<B> entry) {
            this.entry = entry;
        }

        B block() {
            return entry.block;
        }

        long bytes() {
            return entry.bytes;
        }

        @Override
        public void close() {
            entry.lock.unlock();
        }
    }

    /** The stream's block, grown to at least {@code bytes}; hold the lease while enqueueing the kernels. */
    Lease lease(S stream, long bytes) {
        long key = memory.key(stream);
        while (true) {
            Entry<B> entry;
            List<Entry<B>> evicted = new ArrayList<>();
            synchronized (this) {
                if (closed) {
                    throw new IllegalStateException("the workspace cache is closed");
                }
                entry = entries.computeIfAbsent(key, k -> new Entry<>());
                Iterator<Map.Entry<Long, Entry<B>>> it = entries.entrySet().iterator();
                while (entries.size() > maxStreams && it.hasNext()) {
                    Entry<B> oldest = it.next().getValue();
                    if (oldest != entry && !oldest.lock.isHeldByCurrentThread() && oldest.lock.tryLock()) { // in use: stays
                        evicted.add(oldest);
                        it.remove();
                    }
                }
            }
            for (Entry<B> e : evicted) {
                try {
                    e.retire(memory::freeIdle);
                } finally {
                    e.lock.unlock();
                }
            }
            entry.lock.lock();
            if (entry.gone) { // evicted or forgotten between the lookup and the lock
                entry.lock.unlock();
                continue;
            }
            boolean ok = false;
            try {
                if (entry.bytes < bytes) {
                    if (entry.block != null) {
                        B old = entry.block;
                        entry.block = null;
                        entry.bytes = 0;
                        memory.freeAfter(old, stream);
                    }
                    long size = (bytes + ROUND - 1) / ROUND * ROUND;
                    entry.block = memory.allocate(size);
                    entry.bytes = size;
                }
                ok = true;
                return new Lease(entry);
            } finally {
                if (!ok) {
                    entry.lock.unlock();
                }
            }
        }
    }

    /** Frees the block of a stream that is about to be destroyed (its work done or abandoned). */
    void forget(S stream) {
        Entry<B> entry;
        synchronized (this) {
            entry = entries.remove(memory.key(stream));
        }
        if (entry != null) {
            entry.lock.lock();
            try {
                entry.retire(block -> memory.freeAfter(block, stream));
            } finally {
                entry.lock.unlock();
            }
        }
    }

    /** Frees every block; later leases fail. */
    void close() {
        List<Entry<B>> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(entries.values());
            entries.clear();
        }
        for (Entry<B> e : all) {
            e.lock.lock();
            try {
                e.retire(memory::freeIdle);
            } finally {
                e.lock.unlock();
            }
        }
    }

    synchronized int streams() {
        return entries.size();
    }
}
