package dev.softmaxbackward.probing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Selection probes only what it needs (docs/contract.md §6). With every backend on this module's
 * classpath, a child JVM that forces {@code reference} (or disables the others) must load no class of
 * ND4J, JCuda or JavaCPP; {@code -verbose:class} lists every class the JVM loads.
 */
class LazyProbingTest {
    private static final List<String> HEAVY = List.of("org.nd4j.", "jcuda.", "org.bytedeco.");

    @Test
    void forcingReferenceLoadsNoNd4jJcudaOrJavacppClass() throws Exception {
        List<String> loaded = run("-Dsoftmaxbackward.backend=reference");
        assertEquals(List.of(), heavy(loaded), "classes loaded although reference was forced");
        // the check can fail: the backends' own classes are loaded (read for their descriptors), so
        // -verbose:class did report loading
        assertTrue(loaded.stream().anyMatch(c -> c.equals("dev.softmaxbackward.cpu.CpuBackend")), "" + loaded.size());
    }

    @Test
    void disablingCpuAndCudaLoadsNoneOfTheirLibrariesEither() throws Exception {
        List<String> loaded = run("-Dsoftmaxbackward.cuda.disabled=true", "-Dsoftmaxbackward.cpu.disabled=true");
        assertEquals(List.of(), heavy(loaded), "classes loaded although cpu and cuda were disabled");
    }

    private static List<String> heavy(List<String> loaded) {
        return loaded.stream().filter(c -> HEAVY.stream().anyMatch(c::startsWith)).limit(20).toList();
    }

    /** The classes a child JVM on this test's classpath loads, and checks it selected reference. */
    private static List<String> run(String... properties) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-verbose:class");
        command.addAll(List.of(properties));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ForcedBackendMain.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), output.lines().filter(l -> !l.startsWith("[")).toList().toString());
        assertTrue(output.contains("selected reference 0.16"), "child output lacks the selection line");
        List<String> loaded = new ArrayList<>();
        for (String line : output.split("\n")) {
            int at = line.indexOf("[class,load] ");
            if (at >= 0) {
                String rest = line.substring(at + "[class,load] ".length());
                int space = rest.indexOf(' ');
                loaded.add(space < 0 ? rest.strip() : rest.substring(0, space));
            }
        }
        return loaded;
    }
}
