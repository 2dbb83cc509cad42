package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Issue 9, defect 2: INDArrays whose memory is no longer theirs (a destroyed workspace, a workspace
 * closed and reopened since, a closed array) are refused with an IllegalArgumentException naming the
 * argument and the reason, before anything is written, in both strategies. Before the fix the fused
 * kernel crashed the JVM or read another array's memory, and nd4j-ops threw ND4J's own exception.
 */
class WorkspaceTest {
    private static final int ROWS = 3;
    private static final int COLS = 40;
    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(1 << 20).policyAllocation(AllocationPolicy.STRICT).policyLearning(LearningPolicy.NONE)
            .build();

    private static CpuBackend backend(Strategy strategy) {
        return new CpuBackend(() -> null, () -> new RowExecutor(2), Kernels.defaultKernel(), strategy);
    }

    @AfterEach
    void destroyWorkspaces() {
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    }

    private static INDArray detached(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return Nd4j.createFromArray(Data.g(rnd, ROWS, COLS)).reshape('c', ROWS, COLS);
    }

    /** Every INDArray entry point with {@code stale} as each argument in turn; gradIn is checked untouched. */
    private static void refusedEverywhere(CpuBackend cpu, INDArray stale, String reason) {
        INDArray ok = detached(1);
        INDArray out = Nd4j.zeros(DataType.DOUBLE, ROWS, COLS);
        expect(() -> cpu.softmaxBackward(stale, ok, out), "gradOut", reason);
        expect(() -> cpu.softmaxBackward(ok, stale, out), "softmaxOut", reason);
        expect(() -> cpu.softmaxBackward(ok, ok, stale), "gradIn", reason);
        expect(() -> cpu.softmaxBackward(stale, ok), "gradOut", reason);
        expect(() -> cpu.softmax(stale, out), "logits", reason);
        expect(() -> cpu.softmax(ok, stale), "out", reason);
        expect(() -> cpu.softmax(stale), "logits", reason);
        int[] labels = {0, 1, 2};
        expect(() -> cpu.crossEntropyBackward(stale, labels, 1.0, out), "softmaxOut", reason);
        expect(() -> cpu.crossEntropyBackward(ok, labels, new double[] {1, 1, 1}, stale), "gradIn", reason);
        assertArrayEquals(new double[ROWS * COLS], out.data().asDouble(), "nothing written");
    }

    private static void expect(Runnable call, String argument, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith(argument + " ") || e.getMessage().startsWith(argument + "'s "),
                e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void anArrayFromADestroyedWorkspaceIsRefused(Strategy strategy) {
        INDArray stale;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "destroyed")) {
            stale = detached(2).castTo(DataType.DOUBLE).dup(); // allocated in the workspace
        }
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
        refusedEverywhere(backend(strategy), stale, "closed or destroyed");
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void anArrayFromAnEarlierGenerationOfAReopenedWorkspaceIsRefused(Strategy strategy) {
        INDArray stale;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "reused")) {
            stale = detached(3).dup();
        }
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "reused")) {
            INDArray other = Nd4j.zeros(DataType.DOUBLE, ROWS, COLS); // takes the memory stale pointed to
            other.addi(1.0);
            refusedEverywhere(backend(strategy), stale, "closed and reopened since");
        }
    }

    /** A row range (offset one row) of a workspace array: the view's DataBuffer must carry the workspace. */
    private static INDArray rowsView(INDArray a) {
        return a.get(NDArrayIndex.interval(1, ROWS + 1), NDArrayIndex.all());
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void viewsOfStaleWorkspaceArraysAreRefused(Strategy strategy) {
        INDArray destroyed;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "destroyed-view")) {
            destroyed = rowsView(Nd4j.rand(DataType.DOUBLE, ROWS + 1, COLS));
        }
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
        refusedEverywhere(backend(strategy), destroyed, "closed or destroyed");
        INDArray earlier;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "reused-view")) {
            earlier = rowsView(Nd4j.rand(DataType.DOUBLE, ROWS + 1, COLS));
        }
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "reused-view")) {
            Nd4j.zeros(DataType.DOUBLE, ROWS + 1, COLS).addi(1.0); // takes the memory the view pointed to
            refusedEverywhere(backend(strategy), earlier, "closed and reopened since");
        }
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void aClosedArrayIsRefused(Strategy strategy) {
        INDArray stale = detached(4).dup();
        stale.close();
        refusedEverywhere(backend(strategy), stale, "was closed");
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void arraysInAnOpenWorkspaceWork(Strategy strategy) {
        CpuBackend cpu = backend(strategy);
        SplittableRandom rnd = new SplittableRandom(5);
        double[] y = Data.y(rnd, ROWS, COLS);
        double[] g = Data.g(rnd, ROWS, COLS);
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, "open")) {
            INDArray gi = Nd4j.createFromArray(g).reshape('c', ROWS, COLS);
            INDArray yi = Nd4j.createFromArray(y).reshape('c', ROWS, COLS);
            assertTrue(gi.isAttached());
            INDArray out = cpu.softmaxBackward(gi, yi);
            if (strategy == Strategy.FUSED) {
                double[] expected = new double[ROWS * COLS];
                new ReferenceBackend().softmaxBackward(g, y, expected, ROWS, COLS);
                FusedBitIdentityTest.assertBits(expected, out.data().asDouble(), "in an open workspace");
            }
        }
    }

}
