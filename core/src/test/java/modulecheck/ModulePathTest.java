package modulecheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Core on the module path, as a user of the module path gets it: a child JVM with core's classes and
 * slf4j-api as modules and {@link ModulePathConsumer} on the class path. It fails if module-info stops
 * exporting what users need (the facade, the SPI, {@code ReferenceBackend}) or stops providing the
 * reference backend to ServiceLoader.
 */
class ModulePathTest {

    @Test
    void coreWorksOnTheModulePath() throws IOException, InterruptedException {
        List<String> classPath = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        String mainClasses = only(classPath, e -> e.endsWith(File.separator + "classes")
                && !e.endsWith("test-classes"));
        String slf4j = only(classPath, e -> Path.of(e).getFileName().toString().startsWith("slf4j-api"));
        String testClasses = only(classPath, e -> e.endsWith("test-classes"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--module-path", mainClasses + File.pathSeparator + slf4j,
                "--add-modules", "dev.softmaxbackward", "-cp", testClasses, ModulePathConsumer.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("module dev.softmaxbackward backend reference 1 found"), output);
    }

    private static String only(List<String> entries, java.util.function.Predicate<String> which) {
        List<String> found = entries.stream().filter(which).toList();
        assertEquals(1, found.size(), "class path entries " + found + " in " + entries);
        return found.get(0);
    }
}
