package modulecheck;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.reference.ReferenceBackend;

/**
 * A user's program, run by {@link ModulePathTest} from the class path while core is on the module
 * path: it may use only what core's module-info exports, and finds backends through its
 * {@code provides}. Prints one line and exits 0 when everything works.
 */
public final class ModulePathConsumer {
    private ModulePathConsumer() {}

    public static void main(String[] args) {
        Module core = SoftmaxBackward.class.getModule();
        if (!core.isNamed()) {
            throw new AssertionError("core was loaded from the class path, not as a module");
        }
        SoftmaxBackwardBackend chosen = SoftmaxBackward.backend();
        double[] byFacade = SoftmaxBackward.softmaxBackward(new double[] {1, 0, 0}, new double[] {0.2, 0.3, 0.5});
        double[] byReference = new double[3];
        new ReferenceBackend().softmaxBackward(new double[] {1, 0, 0}, new double[] {0.2, 0.3, 0.5}, byReference, 1, 3);
        if (!java.util.Arrays.equals(byFacade, byReference)) {
            throw new AssertionError(java.util.Arrays.toString(byFacade) + " != " + java.util.Arrays.toString(byReference));
        }
        System.out.println("module " + core.getName() + " backend " + chosen.name() + " "
                + SoftmaxBackward.backends().size() + " found");
    }
}
