package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RowExecutorTest {
    private RowExecutor executor;

    @AfterEach
    void stop() {
        if (executor != null) {
            executor.shutdown();
        }
    }

    @Test
    void smallBatchesRunOnTheCallerAndStartNoThreads() {
        executor = new RowExecutor(4);
        CpuBackend cpu = new CpuBackend(() -> null, () -> executor, ScalarKernel.INSTANCE, Strategy.FUSED);
        cpu.softmaxBackward(new float[1024], new float[1024], new float[1024], 1, 1024);
        cpu.softmaxBackward(new double[32 * 128], new double[32 * 128], new double[32 * 128], 32, 128);
        Thread caller = Thread.currentThread();
        executor.forEachRow(1, 1 << 20, (from, to, s) -> assertSame(caller, Thread.currentThread()));
        assertFalse(executor.started());
    }

    @Test
    void everyRowRunsExactlyOnceWholeOnDaemonPoolThreads() {
        executor = new RowExecutor(3);
        int rows = 1000;
        AtomicIntegerArray runs = new AtomicIntegerArray(rows);
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        executor.forEachRow(rows, 1000, (from, to, s) -> {
            threads.add(Thread.currentThread());
            for (int r = from; r < to; r++) {
                runs.incrementAndGet(r);
            }
        });
        for (int r = 0; r < rows; r++) {
            assertEquals(1, runs.get(r), "row " + r);
        }
        assertTrue(executor.started());
        assertTrue(threads.size() <= 3, threads.toString());
        for (Thread t : threads) {
            if (t != Thread.currentThread()) {
                assertTrue(t.isDaemon(), t.getName());
                assertTrue(t.getName().startsWith(RowExecutor.THREAD_NAME_PREFIX), t.getName());
            }
        }
    }

    @Test
    void theCallerWaitsForAPoolChunkThatOutlastsItsSpin() throws InterruptedException {
        executor = new RowExecutor(2);
        Thread caller = Thread.currentThread();
        CountDownLatch poolStarted = new CountDownLatch(1);
        AtomicIntegerArray runs = new AtomicIntegerArray(8);
        executor.forEachRow(8, 1 << 16, (from, to, s) -> {
            try {
                if (Thread.currentThread() == caller) {
                    // leave the pool thread a chunk, however late it starts
                    assertTrue(poolStarted.await(10, TimeUnit.SECONDS), "no pool thread started");
                } else {
                    poolStarted.countDown();
                    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(100 * RowExecutor.CALLER_SPIN_NANOS));
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            for (int r = from; r < to; r++) {
                runs.incrementAndGet(r);
            }
        });
        for (int r = 0; r < 8; r++) {
            assertEquals(1, runs.get(r), "row " + r + " when the call returned");
        }
    }

    /**
     * The pool gets its first thread and then none (as a JVM out of native threads fails): the call must
     * not throw while that thread is still writing, but finish every row itself before it returns.
     */
    @Test
    void aPoolThatCannotStartAThreadLeavesItsRowsToTheCaller() {
        AtomicInteger made = new AtomicInteger();
        executor = new RowExecutor(3, 0, r -> {
            if (made.incrementAndGet() > 1) {
                throw new OutOfMemoryError("unable to create native thread (test)");
            }
            Thread t = new Thread(r, RowExecutor.THREAD_NAME_PREFIX + "test");
            t.setDaemon(true);
            return t;
        });
        for (int call = 0; call < 20; call++) {
            int rows = 600;
            AtomicIntegerArray runs = new AtomicIntegerArray(rows);
            executor.forEachRow(rows, 1000, (from, to, s) -> {
                for (int r = from; r < to; r++) {
                    runs.incrementAndGet(r);
                }
            });
            for (int r = 0; r < rows; r++) {
                assertEquals(1, runs.get(r), "call " + call + ", row " + r + " when the call returned");
            }
        }
        assertTrue(made.get() >= 2, "the factory was asked for a second thread: " + made.get());
    }

    @Test
    void aFailureInAnyRangeReachesTheCaller() {
        executor = new RowExecutor(2);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> executor.forEachRow(100, 10_000, (from, to, s) -> {
                    if (from <= 77 && 77 < to) {
                        throw new IllegalStateException("row 77");
                    }
                }));
        assertEquals("row 77", e.getMessage());
    }

    @Test
    void threadsComeFromTheSystemProperty() {
        String old = System.getProperty(CpuBackend.THREADS_PROPERTY);
        try {
            System.setProperty(CpuBackend.THREADS_PROPERTY, "5");
            assertEquals(5, CpuBackend.threadsFromProperty());
            System.setProperty(CpuBackend.THREADS_PROPERTY, "zero");
            assertEquals(Runtime.getRuntime().availableProcessors(), CpuBackend.threadsFromProperty());
            System.clearProperty(CpuBackend.THREADS_PROPERTY);
            assertEquals(Runtime.getRuntime().availableProcessors(), CpuBackend.threadsFromProperty());
        } finally {
            if (old == null) {
                System.clearProperty(CpuBackend.THREADS_PROPERTY);
            } else {
                System.setProperty(CpuBackend.THREADS_PROPERTY, old);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new RowExecutor(0));
    }

    @Test
    void aBadVectorPropertyValueGetsOneWarningNamingThePropertyAndTheAcceptedValues() {
        assertEquals("softmax-backward cpu: softmaxbackward.cpu.vector=maybe is unknown (true or false);"
                + " using the default (the Vector API kernel when its module is present)",
                Kernels.vectorPropertyWarning("maybe"));
        for (String ok : new String[] {null, "", " ", "true", "FALSE", " false "}) {
            assertEquals(null, Kernels.vectorPropertyWarning(ok), ok);
        }
    }
}
