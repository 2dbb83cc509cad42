package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.SoftmaxBackward;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The probe, the facade's choice, and a real native-load failure in a child JVM. */
class AvailabilityTest {

    @Test
    void aFailingProbeLeavesTheBackendUnavailableWithTheLoadersError() {
        AtomicInteger probes = new AtomicInteger();
        UnsatisfiedLinkError error = new UnsatisfiedLinkError("no jnind4jcpu in java.library.path");
        CpuBackend cpu = new CpuBackend(() -> {
            probes.incrementAndGet();
            return new ExceptionInInitializerError(error);
        }, () -> new RowExecutor(1), ScalarKernel.INSTANCE, Strategy.FUSED);
        assertFalse(cpu.isAvailable());
        assertFalse(cpu.isAvailable());
        assertFalse(cpu.withStrategy(Strategy.ND4J_OPS).isAvailable());
        assertEquals(1, probes.get(), "probed once, shared with withStrategy copies");
        assertSame(error, cpu.unavailabilityCause().orElseThrow().getCause());
        assertTrue(new BackendStatus("cpu", 100, false, cpu.unavailabilityCause().orElse(null)).reason()
                .contains("UnsatisfiedLinkError: no jnind4jcpu"));
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> cpu.softmaxBackward(new float[4], new float[4], new float[4], 2, 2));
        assertTrue(e.getMessage().startsWith("backend 'cpu' is unavailable"), e.getMessage());
    }

    @Test
    void aThrowingProbeIsAReasonNotACrash() {
        CpuBackend cpu = new CpuBackend(() -> {
            throw new NoClassDefFoundError("org/nd4j/linalg/factory/Nd4j");
        }, () -> new RowExecutor(1), ScalarKernel.INSTANCE, Strategy.FUSED);
        assertFalse(cpu.isAvailable());
        assertInstanceOf(NoClassDefFoundError.class, cpu.unavailabilityCause().orElseThrow());
    }

    @Test
    void withThisModuleOnTheClasspathTheFacadeChoosesCpu() {
        assertEquals("cpu", SoftmaxBackward.backend().name());
        CpuBackend cpu = (CpuBackend) SoftmaxBackward.backend();
        assertEquals(Strategy.FUSED, cpu.strategy());
        assertTrue(SoftmaxBackward.backends().stream().anyMatch(s -> s.name().equals("reference") && s.available()));
        float[] out = SoftmaxBackward.softmaxBackward(new float[] {1, 2, 3}, new float[] {0.2f, 0.3f, 0.5f});
        assertEquals(3, out.length);
    }

    /** A real ND4J load failure: JavaCPP told to look for another platform's natives, in a fresh JVM. */
    @Test
    void whenNd4jNativesFailToLoadSelectionFallsBackToReference() throws Exception {
        List<String> out = child("-Dorg.bytedeco.javacpp.platform=linux-bogus");
        assertEquals("selected=reference", out.get(0), out.toString());
        assertTrue(out.get(1).startsWith("cpu available=false reason="), out.toString());
        assertTrue(out.get(1).contains("UnsatisfiedLinkError"), out.toString());
    }

    @Test
    void thePropertyOverridesTheChoice() throws Exception {
        List<String> out = child("-Dsoftmaxbackward.backend=reference");
        assertEquals("selected=reference", out.get(0), out.toString());
        assertEquals("cpu available=true reason=", out.get(1), out.toString());
    }

    private static List<String> child(String flag) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, flag, "-cp", System.getProperty("java.class.path"),
                FacadeMain.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        Thread drain = new Thread(() -> {
            try {
                p.getErrorStream().transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // the child's stderr is only drained
            }
        });
        drain.start();
        p.getInputStream().transferTo(stdout);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
        assertEquals(0, p.exitValue(), stdout.toString(StandardCharsets.UTF_8));
        return stdout.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /** The child: prints the selected backend and cpu's status. */
    public static final class FacadeMain {
        public static void main(String[] args) {
            System.out.println("selected=" + SoftmaxBackward.backend().name());
            for (BackendStatus s : SoftmaxBackward.backends()) {
                if (s.name().equals("cpu")) {
                    System.out.println("cpu available=" + s.available() + " reason=" + s.reason());
                }
            }
        }
    }
}
