package dev.softmaxbackward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class BackendRegistryTest {

    /** A backend that does nothing but report a name, a priority and a probe result. */
    static class FakeBackend extends NoOpBackend {
        final String name;
        final int priority;
        final Supplier<Boolean> probe;
        final Throwable cause;

        FakeBackend(String name, int priority, Supplier<Boolean> probe, Throwable cause) {
            this.name = name;
            this.priority = priority;
            this.probe = probe;
            this.cause = cause;
        }

        static FakeBackend available(String name, int priority) {
            return new FakeBackend(name, priority, () -> true, null);
        }

        static FakeBackend unavailable(String name, int priority, Throwable cause) {
            return new FakeBackend(name, priority, () -> false, cause);
        }

        @Override public String name() { return name; }
        @Override public int priority() { return priority; }
        @Override public boolean isAvailable() { return probe.get(); }
        @Override public Optional<Throwable> unavailabilityCause() { return Optional.ofNullable(cause); }
    }

    static ServiceLoader.Provider<SoftmaxBackwardBackend> provider(Supplier<SoftmaxBackwardBackend> make) {
        return new ServiceLoader.Provider<>() {
            @Override public Class<? extends SoftmaxBackwardBackend> type() { return FakeBackend.class; }
            @Override public SoftmaxBackwardBackend get() { return make.get(); }
        };
    }

    static BackendRegistry registry(Map<String, String> props, Map<String, String> env,
                                    List<ServiceLoader.Provider<SoftmaxBackwardBackend>> providers) {
        return new BackendRegistry(providers, props::get, env::get);
    }

    final FakeBackend low = FakeBackend.available("low", 0);
    final FakeBackend mid = FakeBackend.available("mid", 100);
    final FakeBackend top = FakeBackend.unavailable("top", 200, new UnsatisfiedLinkError("no libcuda.so.1"));

    List<ServiceLoader.Provider<SoftmaxBackwardBackend>> three() {
        return List.of(provider(() -> low), provider(() -> top), provider(() -> mid));
    }

    @Test
    void highestPriorityAvailableWinsAndUnavailableKeepsItsReason() {
        BackendRegistry r = registry(Map.of(), Map.of(), three());
        assertSame(mid, r.selection().backend());
        assertEquals("highest priority available (100)", r.selection().reason());
        List<String> order = r.entries().stream().map(e -> e.status().name()).toList();
        assertEquals(List.of("top", "mid", "low"), order);
        BackendStatus topStatus = r.entries().get(0).status();
        assertFalse(topStatus.available());
        assertEquals("UnsatisfiedLinkError: no libcuda.so.1", topStatus.reason());
    }

    @Test
    void propertyWinsOverEnvironmentWhichWinsOverPriority() {
        assertSame(low, registry(Map.of(BackendRegistry.PROPERTY, "low"), Map.of(BackendRegistry.ENVIRONMENT, "mid"),
                three()).selection().backend());
        BackendRegistry byEnv = registry(Map.of(), Map.of(BackendRegistry.ENVIRONMENT, " LOW "), three());
        assertSame(low, byEnv.selection().backend());
        assertEquals("environment variable SOFTMAX_BACKWARD_BACKEND=LOW", byEnv.selection().reason());
    }

    @Test
    void namingAnUnavailableOrUnknownBackendFailsClearlyAndNeverSubstitutes() {
        BackendRegistry.Selection s = registry(Map.of(BackendRegistry.PROPERTY, "top"), Map.of(), three()).selection();
        assertNull(s.backend());
        assertTrue(s.failure().getMessage().contains("backend 'top' is unavailable: UnsatisfiedLinkError: no libcuda.so.1"),
                s.failure().getMessage());
        assertTrue(s.failure().getCause() instanceof UnsatisfiedLinkError);

        BackendRegistry.Selection unknown =
                registry(Map.of(BackendRegistry.PROPERTY, "tpu"), Map.of(), three()).selection();
        assertNull(unknown.backend());
        assertEquals("system property softmaxbackward.backend=tpu: no backend named 'tpu'; found: "
                + "top (unavailable), mid (available), low (available)", unknown.failure().getMessage());
    }

    @Test
    void probesThatThrowAndProvidersThatCannotBeBuiltAreUnavailableNotFatal() {
        FakeBackend throwing = new FakeBackend("throwing", 300, () -> {
            throw new IllegalStateException("driver exploded");
        }, null);
        BackendRegistry r = registry(Map.of(), Map.of(), List.of(
                provider(() -> throwing),
                provider(() -> {
                    throw new NoClassDefFoundError("jcuda/driver/JCudaDriver");
                }),
                provider(() -> low)));
        assertSame(low, r.selection().backend());
        assertEquals(3, r.entries().size());
        BackendStatus first = r.entries().get(0).status();
        assertEquals("throwing", first.name());
        assertEquals("IllegalStateException: driver exploded", first.reason());
        BackendStatus broken = r.entries().get(2).status();
        assertEquals("FakeBackend", broken.name());
        assertFalse(broken.available());
        assertEquals("NoClassDefFoundError: jcuda/driver/JCudaDriver", broken.reason());
    }

    @Test
    void noAvailableBackendIsAnExceptionNamingWhatWasFound() {
        BackendRegistry r = registry(Map.of(), Map.of(), List.of(provider(() -> top)));
        assertNull(r.selection().backend());
        assertEquals("no softmax-backward backend is available; found: top (unavailable)",
                r.selection().failure().getMessage());
    }

    @Test
    void byNameIsCaseInsensitiveAndReportsTheCause() {
        BackendRegistry r = registry(Map.of(), Map.of(), three());
        assertSame(mid, r.byName("MID"));
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> r.byName("top"));
        assertTrue(e.getCause() instanceof UnsatisfiedLinkError);
    }

    @Test
    void theRealFacadeFindsTheReferenceBackend() {
        assertTrue(SoftmaxBackward.backends().stream().anyMatch(s -> s.name().equals("reference") && s.available()));
        assertEquals("reference", SoftmaxBackward.backend("reference").name());
        double[] gradIn = SoftmaxBackward.softmaxBackward(new double[] {1, 0, 0}, new double[] {0.2, 0.3, 0.5});
        assertEquals(0.16, gradIn[0], 1e-15);
        assertEquals(-0.06, gradIn[1], 1e-15);
        assertEquals(-0.10, gradIn[2], 1e-15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SoftmaxBackward.softmaxBackward(new float[3], new float[4]));
        assertEquals("gradOut.length 3 != softmaxOut.length 4", e.getMessage());
        NullPointerException npe = assertThrows(NullPointerException.class,
                () -> SoftmaxBackward.softmaxBackward((float[]) null, new float[4]));
        assertEquals("gradOut must not be null", npe.getMessage());
    }

    @BackendDescriptor(name = "heavy", priority = 200)
    static final class Heavy extends FakeBackend {
        Heavy() {
            super("heavy", 200, () -> true, null);
        }
    }

    @BackendDescriptor(name = "light", priority = 0)
    static final class Light extends FakeBackend {
        Light() {
            super("light", 0, () -> true, null);
        }
    }

    @BackendDescriptor(name = "liar", priority = 300)
    static final class Liar extends FakeBackend {
        Liar() {
            super("honest", 300, () -> true, null);
        }
    }

    /** A provider of a described class that counts how often it is instantiated. */
    static ServiceLoader.Provider<SoftmaxBackwardBackend> counted(Class<? extends FakeBackend> type,
                                                                   Supplier<FakeBackend> make, int[] made) {
        return new ServiceLoader.Provider<>() {
            @Override public Class<? extends SoftmaxBackwardBackend> type() { return type; }
            @Override public SoftmaxBackwardBackend get() {
                made[0]++;
                return make.get();
            }
        };
    }

    @Test
    void selectionInstantiatesOnlyWhatItNeedsAndBackendsProbesTheRest() {
        int[] heavyMade = {0};
        int[] lightMade = {0};
        List<ServiceLoader.Provider<SoftmaxBackwardBackend>> providers =
                List.of(counted(Heavy.class, Heavy::new, heavyMade), counted(Light.class, Light::new, lightMade));

        BackendRegistry forced = registry(Map.of(BackendRegistry.PROPERTY, "light"), Map.of(), providers);
        assertEquals("light", forced.selection().backend().name());
        assertEquals(0, heavyMade[0], "forcing light must not create heavy");
        assertEquals(1, lightMade[0]);
        assertEquals("light", forced.byName("light").name());
        assertEquals(1, lightMade[0], "probed once");

        BackendRegistry automatic = registry(Map.of(), Map.of(), providers);
        assertEquals("heavy", automatic.selection().backend().name());
        assertEquals(1, heavyMade[0]);
        assertEquals(1, lightMade[0], "the highest-priority available one stops the search");
        assertEquals(List.of("heavy", "light"), automatic.entries().stream().map(e -> e.status().name()).toList());
        assertEquals(2, lightMade[0], "backends() probes every one");
    }

    @Test
    void aDisabledBackendIsNeverCreatedAndSaysWhy() {
        int[] heavyMade = {0};
        int[] lightMade = {0};
        BackendRegistry r = registry(Map.of("softmaxbackward.heavy.disabled", "true"), Map.of(),
                List.of(counted(Heavy.class, Heavy::new, heavyMade), counted(Light.class, Light::new, lightMade)));
        assertEquals("light", r.selection().backend().name());
        BackendStatus heavy = r.entries().get(0).status();
        assertFalse(heavy.available());
        assertEquals("BackendUnavailableException: disabled by system property softmaxbackward.heavy.disabled=true",
                heavy.reason());
        assertEquals(0, heavyMade[0]);
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> r.byName("heavy"));
        assertTrue(e.getMessage().contains("disabled"), e.getMessage());
    }

    @Test
    void aDescriptorThatDisagreesWithTheBackendMakesItUnavailable() {
        BackendRegistry r = registry(Map.of(), Map.of(), List.of(counted(Liar.class, Liar::new, new int[1]),
                provider(() -> low)));
        assertSame(low, r.selection().backend());
        assertEquals("IllegalStateException: its @BackendDescriptor(name = \"liar\", priority = 300) disagrees with "
                + "name() \"honest\", priority() 300", r.entries().get(0).status().reason());
    }

    @Test
    void spiDefaultsUnwrapEnsureAvailableDescribeAndGuarantees() {
        assertSame(mid, mid.unwrap(FakeBackend.class));
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> mid.unwrap(String.class));
        assertTrue(wrong.getMessage().contains("backend 'mid' is a "), wrong.getMessage());
        mid.ensureAvailable();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, top::ensureAvailable);
        assertEquals("backend 'top' is unavailable: UnsatisfiedLinkError: no libcuda.so.1", e.getMessage());
        assertTrue(e.getCause() instanceof UnsatisfiedLinkError);
        assertEquals("", mid.describe());
        assertEquals(java.util.EnumSet.allOf(Guarantee.class), mid.guarantees());
    }
}
