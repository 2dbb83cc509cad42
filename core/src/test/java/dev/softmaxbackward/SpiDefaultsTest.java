package dev.softmaxbackward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The SPI's defaults for name, priority and availability (contract §5). */
class SpiDefaultsTest {

    @BackendDescriptor(name = "described", priority = 42)
    static final class Described extends NoOpBackend {}

    @BackendDescriptor(name = "broken", priority = 7)
    static final class Broken extends NoOpBackend {
        static final Throwable WHY = new IllegalStateException("no device");

        @Override public Optional<Throwable> unavailabilityCause() { return Optional.of(WHY); }
    }

    static final class Undescribed extends NoOpBackend {}

    @Test
    void nameAndPriorityComeFromTheDescriptorAndABackendIsAvailableByDefault() {
        SoftmaxBackwardBackend b = new Described();
        assertEquals("described", b.name());
        assertEquals(42, b.priority());
        assertTrue(b.isAvailable());
        assertEquals(Optional.empty(), b.unavailabilityCause());
        b.ensureAvailable();
    }

    @Test
    void isAvailableFollowsTheCause() {
        SoftmaxBackwardBackend b = new Broken();
        assertFalse(b.isAvailable());
        assertSame(Broken.WHY, b.unavailabilityCause().orElseThrow());
        assertSame(Broken.WHY, assertThrows(BackendUnavailableException.class, b::ensureAvailable).getCause());
    }

    @Test
    void withoutADescriptorNameAndPriorityMustBeOverridden() {
        SoftmaxBackwardBackend b = new Undescribed();
        IllegalStateException e = assertThrows(IllegalStateException.class, b::name);
        assertEquals(Undescribed.class.getName() + " has no @BackendDescriptor: annotate it, or override name() "
                + "and priority()", e.getMessage());
        assertThrows(IllegalStateException.class, b::priority);
    }

    @Test
    void theReferenceBackendUsesTheDefaults() {
        SoftmaxBackwardBackend b = new ReferenceBackend();
        assertEquals(ReferenceBackend.NAME, b.name());
        assertEquals(ReferenceBackend.PRIORITY, b.priority());
        assertTrue(b.isAvailable());
    }
}
