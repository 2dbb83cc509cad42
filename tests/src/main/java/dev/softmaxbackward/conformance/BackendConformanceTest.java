package dev.softmaxbackward.conformance;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.SoftmaxBackward;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * The conformance suite for one named backend, for a backend module's own tests:
 *
 * <pre>{@code
 * class CpuConformanceTest extends BackendConformanceTest {
 *     @Override protected String backendName() { return "cpu"; }
 * }
 * }</pre>
 *
 * A backend that ServiceLoader does not find fails; one that is found but unavailable here (no
 * natives, no GPU) is reported as skipped, with its reason.
 */
public abstract class BackendConformanceTest {

    /** The name of the backend under test, as {@code SoftmaxBackwardBackend.name()} gives it. */
    protected abstract String backendName();

    @TestFactory
    public Stream<DynamicNode> conformance() {
        String name = backendName();
        BackendStatus status = SoftmaxBackward.backends().stream()
                .filter(s -> s.name().equalsIgnoreCase(name))
                .findFirst()
                .orElseGet(() -> Assertions.fail("ServiceLoader found no backend named '" + name + "'; found "
                        + SoftmaxBackward.backends()));
        Assumptions.assumeTrue(status.available(),
                () -> "backend '" + name + "' is unavailable: " + status.reason());
        return ConformanceSuite.tests(SoftmaxBackward.backend(name)).stream();
    }
}
