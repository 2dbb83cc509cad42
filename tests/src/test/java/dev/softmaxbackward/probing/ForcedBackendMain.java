package dev.softmaxbackward.probing;

import dev.softmaxbackward.SoftmaxBackward;

/** Run by {@link LazyProbingTest} in a child JVM: selects the backend and computes one row. */
public final class ForcedBackendMain {
    private ForcedBackendMain() {}

    public static void main(String[] args) {
        double[] gradIn = SoftmaxBackward.softmaxBackward(new double[] {1, 0, 0}, new double[] {0.2, 0.3, 0.5});
        System.out.println("selected " + SoftmaxBackward.backend().name() + " " + gradIn[0]);
    }
}
