package dev.softmaxbackward.bench;

import java.util.Locale;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Off-heap bytes that one {@link Dl4jBench#lossAsFit} call allocates, stock against ours: JMH's gc
 * profiler sees only the heap, and ND4J 1.0.0-M2.1's AllocationsTracker reads 0 for CPU buffers, so the
 * call runs inside a workspace large enough for all of it, and the workspace's count of the bytes
 * allocated in it in this cycle is what the call allocated off-heap.
 * Buffers a loss allocates once and keeps across calls (our score cache's copy of the pre-activations,
 * allocated outside workspaces) are allocated in a warm-up call before the counted one, and not counted.
 *
 * <p>Run: {@code java -cp bench/target/classes:<classpath> dev.softmaxbackward.bench.Dl4jLossBytes}
 */
public final class Dl4jLossBytes {
    private Dl4jLossBytes() {}

    public static void main(String[] args) {
        System.out.println("| B, V | impl | off-heap bytes per lossAsFit | in [B, V] float32 arrays |");
        System.out.println("| --- | --- | ---: | ---: |");
        for (int v : new int[] {32000, 50257}) {
            for (int b : new int[] {64, 256}) {
                for (String impl : new String[] {"stock", "ours-index", "ours-onehot"}) {
                    Dl4jBench bench = new Dl4jBench();
                    bench.v = v;
                    bench.b = b;
                    bench.impl = impl;
                    bench.setUp();
                    bench.lossAsFit(); // allocates what a loss keeps across calls
                    long matrix = 4L * b * v;
                    WorkspaceConfiguration conf = WorkspaceConfiguration.builder().initialSize(16 * matrix)
                            .policyLearning(LearningPolicy.NONE).policySpill(SpillPolicy.EXTERNAL)
                            .policyAllocation(AllocationPolicy.STRICT).build();
                    long bytes;
                    String id = "LOSS_BYTES_" + impl + "_" + b + "_" + v;
                    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, id)) {
                        bench.lossAsFit();
                        bytes = ws.getThisCycleAllocations();
                    }
                    Nd4j.getWorkspaceManager().destroyWorkspace(Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(id));
                    System.out.printf(Locale.ROOT, "| %d, %d | %s | %,d | %.2f |%n", b, v, impl, bytes,
                            (double) bytes / matrix);
                }
            }
        }
    }
}
