package dev.softmaxbackward.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the conformance suite against every backend ServiceLoader finds on the classpath: one container
 * per backend; an unavailable one is reported as skipped with its reason. In this module's build,
 * {@code EveryBackendConformanceTest} runs it (adding a backend module as a test dependency adds its
 * run); elsewhere, e.g. on a GPU machine with only jars, run it with the JUnit console launcher:
 *
 * <pre>
 * java -cp 'lib/*' org.junit.platform.console.ConsoleLauncher \
 *     --select-class dev.softmaxbackward.conformance.EveryBackendConformance \
 *     --select-class dev.softmaxbackward.conformance.EveryBackendProperties
 * </pre>
 */
public class EveryBackendConformance {
    private static volatile boolean suiteBuilt;
    /** reference's passed count when this class's factory ran: the suite may already have run in this JVM. */
    private static volatile int passedBefore;

    @Test
    public void referenceIsDiscoveredAndAvailable() {
        List<BackendStatus> all = SoftmaxBackward.backends();
        BackendStatus reference = all.stream().filter(s -> s.name().equals("reference")).findFirst()
                .orElseThrow(() -> new AssertionError("ServiceLoader did not find 'reference'; found " + all));
        assertTrue(reference.available(), reference.reason());
        assertEquals(0, reference.priority());
        assertInstanceOf(ReferenceBackend.class, SoftmaxBackward.backend("reference"));
    }

    @Test
    public void everyDiscoveredBackendIsAvailableOrSaysWhyNot() {
        for (BackendStatus s : SoftmaxBackward.backends()) {
            System.out.println("conformance: backend '" + s.name() + "' priority " + s.priority()
                    + (s.available() ? " available" : " UNAVAILABLE: " + abbreviate(s.reason())));
            if (!s.available()) {
                assertFalse(s.reason().isBlank(), "unavailable backend '" + s.name() + "' gives no reason");
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "... (" + s.length() + " characters)" : s;
    }

    @TestFactory
    public Stream<DynamicNode> everyBackend() {
        suiteBuilt = true;
        passedBefore = ConformanceSuite.passed("reference");
        return ConformanceSuite.forEveryBackend();
    }

    /** The reference must have RUN every test of the suite, not skipped any (it is always available). */
    @AfterAll
    public static void referenceRanTheWholeSuite() {
        if (!suiteBuilt) {
            return; // a filtered run (-Dtest=...#method) that did not include the factory
        }
        int expected = ConformanceSuite.count(ConformanceSuite.tests(new ReferenceBackend()));
        assertEquals(expected, ConformanceSuite.passed("reference") - passedBefore,
                "tests of the suite that ran and passed for 'reference'");
        System.out.println("conformance: 'reference' passed all " + expected + " tests of the suite");
    }
}
