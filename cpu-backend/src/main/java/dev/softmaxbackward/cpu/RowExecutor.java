package dev.softmaxbackward.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a batch as contiguous ranges of whole rows, in parallel over a pool this backend owns.
 *
 * <p>{@code threads} is the parallelism: the calling thread does one share, {@code threads - 1} pool
 * threads the others. The pool is created on the first batch large enough to split (never for small
 * batches or {@code threads == 1}), its threads are daemons, and they exit after
 * {@link #KEEP_ALIVE_SECONDS} idle, so an unused backend holds no threads. Chunks are claimed from a
 * shared counter, and the caller claims too, so a call never waits on a queue another caller filled.
 * Which thread computes a row never changes its bits: each row is computed whole, on its own.
 *
 * <p>Each thread keeps the {@link Scratch} of its last task (rows of at most {@link #MAX_KEPT_COLS}
 * columns) and hands it to its next task of the same width, so that a training loop calling with the
 * same shape allocates no row buffers per call. A kept Scratch is taken out while in use, so a nested
 * or concurrent call on the same thread gets a fresh one. The kernels write every lane, partial and row
 * entry before reading it, so what a kept Scratch held never reaches a result ({@code
 * ScratchReuseTest} poisons it to check).
 */
final class RowExecutor {
    /** Below this many entries per batch, splitting costs more than it saves (about 10 µs of work). */
    static final long MIN_PARALLEL_ENTRIES = 1L << 15;
    static final long KEEP_ALIVE_SECONDS = 30;
    /**
     * How long the caller, out of chunks, spins for the pool's last chunks before it parks. Parked, it
     * would be woken only after the last chunk ends, and on a VM a wake-up after a millisecond asleep
     * takes 30-110 µs (bench/results/probes/WakeProbe.java), 3-8 % of a [64,50257] float32 call. The
     * spin is on the caller's own thread, which waits for this call either way, and is cut short here so
     * that a pool thread the OS took away does not keep a core spinning.
     */
    static final long CALLER_SPIN_NANOS = 200_000;
    static final String THREAD_NAME_PREFIX = "softmaxbackward-cpu-";

    /**
     * Widest rows whose Scratch a thread keeps between calls: a kept Scratch holds up to five rows of
     * 8 bytes a column (10 MiB at this width), and vocabularies reach 256 Ki columns.
     */
    static final int MAX_KEPT_COLS = 1 << 18;

    private static final ThreadLocal<Scratch> KEPT = new ThreadLocal<>();

    /** A range of rows {@code [from, to)}, with a {@link Scratch} of this thread's for rows of its width. */
    @FunctionalInterface
    interface RowRange {
        void run(int from, int to, Scratch scratch);
    }

    private static final AtomicInteger POOL_IDS = new AtomicInteger();
    private static final Logger LOG = LoggerFactory.getLogger(RowExecutor.class);

    private final int threads;
    /** Makes the pool's threads; null: daemons named {@link #THREAD_NAME_PREFIX}{@code <pool>-<n>}. */
    private final ThreadFactory threadFactory;
    private volatile ThreadPoolExecutor pool;

    private final long callerSpinNanos;

    RowExecutor(int threads) {
        this(threads, CALLER_SPIN_NANOS);
    }

    /** With the caller's spin set, for probes and tests that compare it (0: park at once). */
    RowExecutor(int threads, long callerSpinNanos) {
        this(threads, callerSpinNanos, null);
    }

    /** With the pool's thread factory set (tests: one that fails as a JVM out of native threads does). */
    RowExecutor(int threads, long callerSpinNanos, ThreadFactory threadFactory) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads " + threads + " < 1");
        }
        this.threads = threads;
        this.callerSpinNanos = callerSpinNanos;
        this.threadFactory = threadFactory;
    }

    int threads() {
        return threads;
    }

    /** Whether the pool has been created (for tests: small batches must not create it). */
    boolean started() {
        return pool != null;
    }

    /** Runs {@code task} over {@code [0, rows)}, split into at most {@code threads} ranges of whole rows. */
    void forEachRow(int rows, int cols, RowRange task) {
        if (rows == 0) {
            return;
        }
        long entries = (long) rows * Math.max(cols, 1);
        int parts = (int) Math.min(Math.min(threads, rows), Math.max(1, entries / MIN_PARALLEL_ENTRIES));
        if (parts <= 1) {
            Scratch scratch = takeScratch(cols);
            task.run(0, rows, scratch);
            keepScratch(scratch);
            return;
        }
        // More chunks than threads evens out rows of unequal cost and threads that start late.
        int chunks = Math.min(rows, parts * 4);
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(chunks);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable worker = () -> {
            Scratch scratch = null;
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    if (failure.get() == null) {
                        if (scratch == null) {
                            scratch = takeScratch(cols);
                        }
                        task.run(chunkStart(c, rows, chunks), chunkStart(c + 1, rows, chunks), scratch);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            }
            if (scratch != null) {
                keepScratch(scratch);
            }
        };
        ThreadPoolExecutor executor = pool();
        for (int p = 1; p < parts; p++) {
            try {
                executor.execute(worker);
            } catch (RejectedExecutionException | OutOfMemoryError e) {
                // No thread for this share (no native thread left, or a pool shut down under us). Throwing
                // here would leave the workers already started writing after the call returned, into
                // memory the caller may free; the caller claims the chunks nobody else takes instead.
                LOG.warn("softmax-backward: ran a batch on {} of {} threads: {}", p, parts, e.toString());
                break;
            }
        }
        worker.run();
        long spinUntil = System.nanoTime() + callerSpinNanos;
        while (done.getCount() != 0 && System.nanoTime() - spinUntil < 0) {
            Thread.onSpinWait();
        }
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the other rows are being written: finish, then restore the flag
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** This thread's kept Scratch if it has this width (taken out until {@link #keepScratch}), else a new one. */
    static Scratch takeScratch(int cols) {
        Scratch kept = KEPT.get();
        if (kept != null && kept.cols() == cols) {
            KEPT.remove();
            return kept;
        }
        return new Scratch(cols);
    }

    /** Keeps {@code scratch} for this thread's next task of its width */
    static void keepScratch(Scratch scratch) {
        scratch.forgetViews();
        if (scratch.cols() <= MAX_KEPT_COLS) {
            KEPT.set(scratch);
        }
    }

    private static int chunkStart(int chunk, int rows, int chunks) {
        return (int) ((long) chunk * rows / chunks);
    }

    private ThreadPoolExecutor pool() {
        ThreadPoolExecutor p = pool;
        if (p == null) {
            synchronized (this) {
                p = pool;
                if (p == null) {
                    int id = POOL_IDS.incrementAndGet();
                    AtomicInteger n = new AtomicInteger();
                    ThreadFactory factory = threadFactory != null ? threadFactory : r -> {
                        Thread t = new Thread(r, THREAD_NAME_PREFIX + id + "-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    };
                    p = new ThreadPoolExecutor(threads - 1, threads - 1, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
                            new LinkedBlockingQueue<>(), factory);
                    p.allowCoreThreadTimeOut(true);
                    pool = p;
                }
            }
        }
        return p;
    }

    /** Stops the pool's threads now (tests); a later batch starts a new pool. */
    synchronized void shutdown() {
        ThreadPoolExecutor p = pool;
        pool = null;
        if (p != null) {
            p.shutdown();
        }
    }
}
