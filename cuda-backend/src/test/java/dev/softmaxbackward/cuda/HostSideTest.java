package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Host-side rules that need no GPU: sticky errors kill the backend, byte counts do not overflow, the
 * caller's context comes back, the staging pool is bounded and destroys failed sets, native memory
 * has a Cleaner, kernel scratch is cached per stream, close() ends the backend.
 */
class HostSideTest {
    @AfterEach
    void revive() {
        CudaRuntime.reviveForTests();
    }

    @Test
    void aStickyErrorMarksTheBackendDeadAndNamesTheFirstFailingLaunch() {
        CudaRuntime.recordLaunchForTests("LaunchPlan[variant=REREAD, kernel=sb_reread_f32] for rows 300, cols 40000");
        CudaException first = assertThrows(CudaException.class,
                () -> CudaException.check(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, "cuStreamSynchronize"));
        CudaRuntime.recordLaunchForTests("sb_warp_f32_p1 for rows 1, cols 1");
        assertThrows(CudaException.class,
                () -> CudaException.check(CUresult.CUDA_ERROR_LAUNCH_FAILED, "cuMemcpyDtoH(4)"));

        CudaBackend cuda = new CudaBackend();
        assertFalse(cuda.isAvailable());
        String reason = cuda.unavailabilityCause().orElseThrow().getMessage();
        assertTrue(reason.contains("CUDA_ERROR_ILLEGAL_ADDRESS") && reason.contains("sb_reread_f32")
                && reason.contains("cols 40000"), reason);
        assertEquals(first, cuda.unavailabilityCause().orElseThrow().getCause());
        BackendUnavailableException later = assertThrows(BackendUnavailableException.class,
                () -> cuda.softmaxBackward(new float[] {1}, new float[] {1}, new float[1], 1, 1));
        assertTrue(later.getMessage().contains("sb_reread_f32") && later.getMessage().contains("cuStreamSynchronize"),
                later.getMessage());
        assertFalse(later.getMessage().contains("sb_warp_f32_p1"), later.getMessage());
    }

    @Test
    void ordinaryErrorsDoNotKillTheBackend() {
        assertThrows(CudaException.class,
                () -> CudaException.check(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc(1)"));
        assertEquals(null, CudaRuntime.deadContext());
        assertFalse(CudaException.sticky(CUresult.CUDA_ERROR_INVALID_VALUE));
        assertTrue(CudaException.sticky(CUresult.CUDA_ERROR_MISALIGNED_ADDRESS));
    }

    @Test
    void deviceBufferByteCountsThatOverflowAreRejectedWithTheNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DeviceBuffer.allocate(1L << 62, DType.FLOAT64));
        assertTrue(e.getMessage().contains("4611686018427387904") && e.getMessage().contains("overflow"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(0, DType.FLOAT32));
        assertThrows(NullPointerException.class, () -> DeviceBuffer.allocate(1, null));
        assertEquals(Long.MAX_VALUE / 8 * 8, DeviceBuffer.byteCount(Long.MAX_VALUE / 8, DType.FLOAT64));
    }

    // ---- the caller's context is put back (the bracket behind every entry point) ----

    /** A fake driver: the thread's current context is a string (null for none); every set is logged. */
    static final class FakeContexts implements ContextBracket.Driver<String> {
        String current;
        final List<String> sets = new ArrayList<>();

        FakeContexts(String current) {
            this.current = current;
        }

        @Override
        public String current() {
            return current;
        }

        @Override
        public void setCurrent(String context) {
            sets.add(String.valueOf(context));
            current = context;
        }

        @Override
        public boolean same(String a, String b) {
            return java.util.Objects.equals(a, b);
        }
    }

    @Test
    void theCallersContextIsPutBackAfterACall() {
        FakeContexts host = new FakeContexts("host-ctx");
        try (ContextBracket<String> bracket = ContextBracket.enter(host, "ours")) {
            assertEquals("ours", host.current);
        }
        assertEquals("host-ctx", host.current);
        assertEquals(List.of("ours", "host-ctx"), host.sets);

        FakeContexts none = new FakeContexts(null); // a thread with no current context gets none back
        try (ContextBracket<String> bracket = ContextBracket.enter(none, "ours")) {
            assertEquals("ours", none.current);
        }
        assertEquals(null, none.current);

        FakeContexts already = new FakeContexts("ours"); // ours already current: no driver call at all
        try (ContextBracket<String> bracket = ContextBracket.enter(already, "ours")) {
            assertEquals("ours", already.current);
        }
        assertEquals(List.of(), already.sets);
    }

    @Test
    void theCallersContextIsPutBackWhenTheCallThrows() {
        FakeContexts host = new FakeContexts("host-ctx");
        assertThrows(CudaException.class, () -> {
            try (ContextBracket<String> bracket = ContextBracket.enter(host, "ours")) {
                CudaException.check(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc(1)");
            }
        });
        assertEquals("host-ctx", host.current);
        ContextBracket<String> twice = ContextBracket.enter(host, "ours");
        twice.close();
        twice.close();
        assertEquals(List.of("ours", "host-ctx", "ours", "host-ctx"), host.sets);
    }

    // ---- the staging pool ----

    /** Fake staging sets: numbered; destroyed ones are recorded. */
    static final class FakeSets {
        final AtomicInteger created = new AtomicInteger();
        final List<Integer> destroyed = java.util.Collections.synchronizedList(new ArrayList<>());

        BoundedPool<Integer> pool(int capacity) {
            return new BoundedPool<>(capacity, created::incrementAndGet, destroyed::add);
        }
    }

    @Test
    void theStagingPoolReusesSetsAndIsBounded() throws Exception {
        FakeSets sets = new FakeSets();
        BoundedPool<Integer> pool = sets.pool(2);
        for (int i = 0; i < 5; i++) {
            pool.use(set -> { });
        }
        assertEquals(1, sets.created.get(), "one caller at a time reuses one set");
        Integer a = pool.acquire();
        Integer b = pool.acquire();
        assertEquals(2, sets.created.get());
        CompletableFuture<Integer> third = CompletableFuture.supplyAsync(pool::acquire);
        Thread.sleep(200);
        assertFalse(third.isDone(), "a third caller waits while both sets are lent out");
        pool.release(a);
        assertEquals(a, third.get(10, TimeUnit.SECONDS));
        assertEquals(2, sets.created.get(), "never more than the capacity");
        pool.release(b);
        pool.release(third.get());
        assertEquals(2, pool.idleCount());
    }

    @Test
    void aStagingSetWhoseUseFailedIsDestroyedNotReturned() {
        FakeSets sets = new FakeSets();
        BoundedPool<Integer> pool = sets.pool(1);
        RuntimeException failure = new CudaException("cuStreamSynchronize", CUresult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES);
        assertEquals(failure, assertThrows(RuntimeException.class, () -> pool.use(set -> {
            throw failure;
        })));
        assertEquals(List.of(1), sets.destroyed, "the failed set was destroyed");
        assertEquals(0, pool.idleCount(), "and not returned");
        pool.use(set -> assertEquals(2, set, "the next caller gets a new set"));
        // the permit came back: with capacity 1 this would otherwise block
        assertEquals(1, pool.idleCount());
    }

    @Test
    void closingThePoolDestroysIdleSetsAndSetsThatComeBackLater() {
        FakeSets sets = new FakeSets();
        BoundedPool<Integer> pool = sets.pool(3);
        Integer lent = pool.acquire();
        pool.use(set -> { });
        pool.close();
        assertEquals(List.of(2), sets.destroyed);
        pool.release(lent);
        assertEquals(List.of(2, 1), sets.destroyed);
        assertEquals(0, pool.idleCount());
        assertEquals("the staging pool is closed",
                assertThrows(IllegalStateException.class, pool::acquire).getMessage());
        assertThrows(IllegalArgumentException.class, () -> sets.pool(0));
    }

    @Test
    void aSetThatCannotBeCreatedGivesItsPermitBack() {
        BoundedPool<Integer> pool = new BoundedPool<>(1, () -> {
            throw new CudaException("cuStreamCreate", CUresult.CUDA_ERROR_OUT_OF_MEMORY);
        }, set -> { });
        assertThrows(CudaException.class, pool::acquire);
        assertThrows(CudaException.class, pool::acquire); // would block if the permit were lost
    }

    // ---- the Cleaner behind DeviceBuffer and HostStaging ----

    @Test
    void explicitFreeRunsOnceAndTheCleanerThenDoesNothing() {
        AtomicInteger frees = new AtomicInteger();
        Object owner = new Object();
        Reclaimer.Handle handle = Reclaimer.register(owner, "a test resource", frees::incrementAndGet);
        handle.free();
        handle.free();
        assertEquals(1, frees.get());
        Reclaimer.Group group = new Reclaimer.Group();
        Reclaimer.Handle member = group.register(owner, "a test buffer", frees::incrementAndGet);
        assertEquals(1, group.size());
        member.free();
        assertEquals(0, group.size(), "a freed resource leaves its group");
        assertEquals(2, frees.get());
    }

    @Test
    void aForgottenResourceIsFreedByTheCleaner() throws InterruptedException {
        AtomicInteger frees = new AtomicInteger();
        Reclaimer.Group group = new Reclaimer.Group();
        registerAndForget(group, frees);
        assertEquals(1, group.size());
        for (int i = 0; i < 200 && frees.get() == 0; i++) {
            System.gc();
            Thread.sleep(25);
        }
        assertEquals(1, frees.get(), "the Cleaner freed the unreachable owner's resource");
        assertEquals(0, group.size());
    }

    private static void registerAndForget(Reclaimer.Group group, AtomicInteger frees) {
        group.register(new Object(), "a forgotten test buffer", frees::incrementAndGet);
    }

    @Test
    void closingTheRuntimeFreesEveryBufferStillOpen() {
        AtomicInteger frees = new AtomicInteger();
        Reclaimer.Group group = new Reclaimer.Group();
        List<Object> owners = List.of(new Object(), new Object(), new Object());
        for (Object o : owners) {
            group.register(o, "an open test buffer", frees::incrementAndGet);
        }
        group.register(owners.get(0), "a failing test buffer", () -> {
            throw new CudaException("cuMemFree", CUresult.CUDA_ERROR_ILLEGAL_ADDRESS);
        });
        CudaRuntime.reviveForTests(); // the simulated sticky error above must not outlive this test
        assertEquals(4, group.freeAll(), "a failing free does not stop the others");
        assertEquals(3, frees.get());
        assertEquals(0, group.size());
        assertEquals(0, group.freeAll());
    }

    // ---- the kernels' scratch, cached per stream ----

    /**
     * CU_STREAM_PER_THREAD is one handle for a different stream on each thread, unordered with the others:
     * each thread gets its own scratch key there (two threads sharing a block raced on its partial sums).
     * A real stream, and the legacy default stream, keep one key on every thread.
     */
    @Test
    void thePerThreadStreamHasAScratchKeyPerThread() throws Exception {
        long here = CudaRuntime.scratchKey(CudaRuntime.PER_THREAD_STREAM);
        assertEquals(here, CudaRuntime.scratchKey(CudaRuntime.PER_THREAD_STREAM), "stable on one thread");
        long[] there = new long[3];
        Thread other = new Thread(() -> {
            there[0] = CudaRuntime.scratchKey(CudaRuntime.PER_THREAD_STREAM);
            there[1] = CudaRuntime.scratchKey(0x7f00_1234_5600L);
            there[2] = CudaRuntime.scratchKey(0);
        });
        other.start();
        other.join();
        assertNotEquals(here, there[0], "two threads' per-thread streams");
        assertTrue(here < 0 && there[0] < 0, "apart from every stream address");
        assertEquals(0x7f00_1234_5600L, there[1]);
        assertEquals(CudaRuntime.scratchKey(0x7f00_1234_5600L), there[1]);
        assertEquals(0, there[2], "the legacy default stream");
    }

    /** Fake device memory: blocks are numbers; every call is logged. */
    static final class FakeMemory implements WorkspaceCache.Memory<String, Long> {
        final List<String> log = new ArrayList<>();
        long next = 1;

        @Override
        public long key(String stream) {
            return stream == null ? 0 : stream.hashCode();
        }

        @Override
        public Long allocate(long bytes) {
            log.add("alloc " + bytes);
            return next++;
        }

        @Override
        public void freeAfter(Long block, String stream) {
            log.add("free " + block + " after " + stream);
        }

        @Override
        public void freeIdle(Long block) {
            log.add("free " + block + " idle");
        }
    }

    @Test
    void scratchIsAllocatedOncePerStreamAndGrownOnlyWhenTooSmall() {
        FakeMemory memory = new FakeMemory();
        WorkspaceCache<String, Long> cache = new WorkspaceCache<>(memory, 4);
        long mib = WorkspaceCache.ROUND;
        for (int call = 0; call < 1000; call++) {
            try (WorkspaceCache<String, Long>.Lease lease = cache.lease("s1", 1000 + call)) {
                assertEquals(1L, lease.block());
            }
        }
        assertEquals(List.of("alloc " + mib), memory.log, "1000 calls, one allocation, no free");
        try (WorkspaceCache<String, Long>.Lease lease = cache.lease("s1", mib + 1)) {
            assertEquals(2L, lease.block());
            assertEquals(2 * mib, lease.bytes());
        }
        assertEquals(List.of("alloc " + mib, "free 1 after s1", "alloc " + 2 * mib), memory.log,
                "grown: the old block freed after the stream's work, a bigger one made");
        try (WorkspaceCache<String, Long>.Lease lease = cache.lease(null, 10)) {
            assertEquals(3L, lease.block(), "another stream (here the legacy default) has its own block");
        }
        cache.forget("s1");
        assertEquals("free 2 after s1", memory.log.get(memory.log.size() - 1));
        cache.close();
        assertEquals("free 3 idle", memory.log.get(memory.log.size() - 1));
        assertEquals(0, cache.streams());
        assertThrows(IllegalStateException.class, () -> cache.lease("s1", 1));
    }

    @Test
    void scratchOfMoreStreamsThanKeptIsEvictedLeastRecentlyUsedFirst() {
        FakeMemory memory = new FakeMemory();
        WorkspaceCache<String, Long> cache = new WorkspaceCache<>(memory, 2);
        for (String s : List.of("a", "b", "a", "c")) {
            cache.lease(s, 1).close();
        }
        assertEquals(2, cache.streams());
        assertTrue(memory.log.contains("free 2 idle"), "b, the least recently used, was evicted: " + memory.log);
        WorkspaceCache<String, Long>.Lease held = cache.lease("a", 1); // in use: never evicted
        cache.lease("d", 1).close();
        cache.lease("e", 1).close();
        assertEquals(1L, held.block());
        held.close();
        assertFalse(memory.log.contains("free 1 idle"), memory.log.toString());
    }

    // ---- close() ----

    @Test
    void afterCloseTheBackendIsUnavailableAndSaysWhy() {
        CudaBackend cuda = new CudaBackend();
        Assumptions.assumeFalse(cuda.isAvailable(), "on a GPU this would end cuda for the rest of the test run");
        cuda.close();
        cuda.close();
        assertFalse(cuda.isAvailable());
        assertEquals(CudaRuntime.CLOSED, cuda.unavailabilityCause().orElseThrow().getMessage());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> cuda.softmaxBackward(new float[] {1}, new float[] {1}, new float[1], 1, 1));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(BackendUnavailableException.class, () -> DeviceBuffer.allocate(16));
    }

    // ---- typed kernel arguments, checked against the PTX ----

    /** The .param types of every .entry in the PTX, by kernel name. */
    static Map<String, List<String>> ptxSignatures() throws Exception {
        String ptx = CudaRuntime.readPtx();
        Map<String, List<String>> entries = new HashMap<>();
        Matcher entry = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)").matcher(ptx);
        while (entry.find()) {
            List<String> types = new ArrayList<>();
            Matcher param = Pattern.compile("\\.param\\s+\\.(\\w+)").matcher(entry.group(2));
            while (param.find()) {
                types.add(param.group(1));
            }
            entries.put(entry.group(1), types);
        }
        return entries;
    }

    /** The factory each launched kernel gets its arguments from (as CudaRuntime uses them). */
    static KernelArgs argumentsFor(String kernel) {
        CUdeviceptr p = new CUdeviceptr();
        if (kernel.startsWith("sb_warp_") || kernel.startsWith("sb_block_") || kernel.startsWith("sb_reread_")) {
            return KernelArgs.row(p, p, p, 1, 1, 1);
        } else if (kernel.startsWith("sb_split_partials_")) {
            return KernelArgs.splitPartials(p, p, 1, 1, 1, 1, p, 1);
        } else if (kernel.startsWith("sb_split_finish_")) {
            return KernelArgs.splitFinish(p, p, 1, 1, 1, p, p);
        } else if (kernel.startsWith("sb_split_output_")) {
            return KernelArgs.splitOutput(p, p, p, 1, 1, 1, 1, p);
        } else if (kernel.startsWith("sm_fwd_")) {
            return KernelArgs.forward(p, p, 1, 1, 1, p);
        } else if (kernel.startsWith("ce_bwd_")) {
            return KernelArgs.crossEntropy(p, p, 1.0, p, 1, 1, 1);
        }
        throw new AssertionError("no argument factory for " + kernel);
    }

    @Test
    void everyKernelsTypedArgumentsMatchItsPtxParameters() throws Exception {
        Map<String, List<String>> ptx = ptxSignatures();
        for (String kernel : CudaRuntime.kernelNames()) {
            assertTrue(ptx.containsKey(kernel), kernel + " is not an entry of the PTX");
            KernelArgs args = argumentsFor(kernel);
            assertEquals(ptx.get(kernel), args.signature(), kernel + ": argument types or order");
            assertEquals(ptx.get(kernel).size(), args.parameters().length);
        }
        // the check can fail: two ints where the PTX has a long long and an int
        assertFalse(ptx.get("sb_block_f32").equals(KernelArgs.splitFinish(new CUdeviceptr(), new CUdeviceptr(), 1, 1,
                1, new CUdeviceptr(), new CUdeviceptr()).signature()));
    }

    // ---- device pointer addresses ----

    @Test
    void addressesIncludeTheByteOffset() {
        assertEquals(0, DevicePointers.address(new CUdeviceptr()));
        assertEquals(6, DevicePointers.address(new CUdeviceptr().withByteOffset(6)));
        assertEquals(70, DevicePointers.address(new CUdeviceptr().withByteOffset(6).withByteOffset(64)));
        assertEquals(0, DevicePointers.address(null));
    }

    // ---- what the smoke step compares the row kernels with (computed without a GPU) ----

    @Test
    void theSmokeStepsExpectationsForCrossEntropyAndForward() {
        ReferenceBackend reference = new ReferenceBackend();
        double[] y = {0.25, 0.5, 0.25, 0.125, 0.625, 0.25, 0.5, 0.25, 0.25};
        int[] labels = {1, -100, 3}; // 3 == cols: out of range, a NaN row on the device
        for (DType dtype : DType.values()) {
            long[] ce = DeviceCheck.expectedCrossEntropy(reference, dtype, y, labels, 0.37f, 3, 3);
            assertEquals(KernelModel.bits(dtype, (double) 0.37f * (0.5 - 1.0)), ce[1], dtype + " the label's entry");
            assertEquals(KernelModel.bits(dtype, (double) 0.37f * 0.25), ce[0], dtype.toString());
            for (int i = 3; i < 6; i++) {
                assertEquals(0L, ce[i], dtype + ": label -100 gives +0.0");
            }
            for (int i = 6; i < 9; i++) {
                assertTrue(Double.isNaN(KernelModel.widen(dtype, ce[i])), dtype + ": a label out of range gives NaN");
            }
            long[] sm = DeviceCheck.expectedSoftmax(reference, dtype, new double[] {0, 0, 0, 1, 1, 1}, 2, 3);
            for (long bits : sm) {
                assertEquals(KernelModel.bits(dtype, 1.0 / 3), bits, dtype + ": equal logits give 1/3, rounded once");
            }
        }
    }
}
