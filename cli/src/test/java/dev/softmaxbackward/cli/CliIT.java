package dev.softmaxbackward.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** info, check, bench, train, help and bad flags, each through the shaded jar in its own process. */
class CliIT {
    @TempDir
    Path dir;

    @Test
    void plainJavaJarRunsTheCpuBackendsVectorKernelWithoutTheLaunchersWarning() throws Exception {
        Jar.Result r = Jar.run(dir, "info");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(Pattern.compile("(?m)^  cpu +100  yes +fused strategy, vector\\(").matcher(r.out()).find(), r::toString);
        assertFalse(r.err().contains("incubator"), r::toString);

        Jar.Result plain = Jar.run(dir, java.util.Map.of("JDK_JAVA_OPTIONS", "-Dsoftmaxbackward.cli.relaunch=false"),
                "info");
        assertEquals(0, plain.exitCode(), plain::toString);
        assertTrue(Pattern.compile("(?m)^  cpu +100  yes +fused strategy, scalar").matcher(plain.out()).find(),
                plain::toString);
    }

    @Test
    void infoListsTheBackendsAndTheSelection() throws Exception {
        Jar.Result r = Jar.run(dir, "info");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("reference"), r::toString);
        assertTrue(Pattern.compile("(?m)^  reference +0  yes\\b").matcher(r.out()).find(), r::toString);
        assertTrue(r.out().contains("Selected: "), r::toString);
        assertTrue(r.out().contains("cores available"), r::toString);
    }

    @Test
    void selectionByEnvironmentIsReportedAndAnUnknownNameExitsThree() throws Exception {
        Jar.Result r = Jar.run(dir, Map.of("SOFTMAX_BACKWARD_BACKEND", "reference"), "info");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("Selected: reference (environment variable SOFTMAX_BACKWARD_BACKEND=reference)"),
                r::toString);
        Jar.Result bad = Jar.run(dir, Map.of("SOFTMAX_BACKWARD_BACKEND", "nope"), "train", "--steps", "1");
        assertEquals(3, bad.exitCode(), bad::toString);
        assertTrue(bad.err().contains("no backend named 'nope'"), bad::toString);
    }

    @Test
    void checkPassesOnEveryAvailableBackend() throws Exception {
        Jar.Result r = Jar.run(dir, "check");
        assertEquals(0, r.exitCode(), r::toString);
        Matcher m = Pattern.compile("All (\\d+) checks passed\\.").matcher(r.out());
        assertTrue(m.find(), r::toString);
        // 9 checks x 2 dtypes, at least the reference backend
        assertTrue(Integer.parseInt(m.group(1)) >= 18, r::toString);
        assertTrue(r.out().contains("bitwise = reference (backward) (f32)"), r::toString);
        assertTrue(!r.out().contains("FAIL"), r::toString);
    }

    @Test
    void checkOfAnUnknownBackendExitsThree() throws Exception {
        Jar.Result r = Jar.run(dir, "check", "--backend", "no-such-backend");
        assertEquals(3, r.exitCode(), r::toString);
        assertTrue(r.err().contains("no backend named 'no-such-backend'"), r::toString);
    }

    @Test
    void benchReportsEverySubject() throws Exception {
        Jar.Result r = Jar.run(dir, "bench", "--seconds", "1");
        assertEquals(0, r.exitCode(), r::toString);
        for (String subject : new String[] {"reference", "ND4J composed ops", "copy (same bytes)"}) {
            assertTrue(Pattern.compile("(?m)^  " + Pattern.quote(subject) + " +[0-9.]+ (s|ms|us) +[0-9.]+ ")
                    .matcher(r.out()).find(), () -> subject + " missing\n" + r);
        }
    }

    @Test
    void trainGetsCloseToTheEntropyRate() throws Exception {
        // a small setting: about 2 s; the defaults (V=256, B=512, 2000 steps) end near +1.6%
        Jar.Result r = Jar.run(dir, "train", "--vocab", "32", "--batch", "128", "--steps", "300", "--seed", "7");
        assertEquals(0, r.exitCode(), r::toString);
        Matcher m = Pattern.compile("Result: model cross-entropy ([0-9.]+) vs entropy rate ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r::toString);
        double ce = Double.parseDouble(m.group(1));
        double h = Double.parseDouble(m.group(2));
        // from ln 32 = 3.47 at the start; the bound: within 5% of the best any model can do
        assertTrue(ce >= h, r::toString);
        assertTrue(ce <= 1.05 * h, () -> "loss " + ce + " not within 5% of H = " + h + "\n" + r);
        assertTrue(r.out().contains("Gradient cross-check (long way vs fused) passed"), r::toString);
    }

    @Test
    void noArgumentsRunsEverythingAndSaysWhichBackendYouGet() throws Exception {
        Jar.Result r = Jar.run(dir);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("Backends (highest priority first):"), r::toString);
        assertTrue(r.out().contains("checks passed"), r::toString);
        assertTrue(r.out().contains("ND4J composed ops"), r::toString);
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("Your code gets backend '"), r::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "info", "check", "bench", "train", "run"})
    void everyCommandHasHelpWithExitCodes(String command) throws Exception {
        Jar.Result r = command.isEmpty() ? Jar.run(dir, "--help") : Jar.run(dir, command, "--help");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("Usage: softmax-backward"), r::toString);
        assertTrue(r.out().contains("Exit status:"), r::toString);
        assertTrue(r.out().contains("  2   bad usage"), r::toString);
    }

    @Test
    void badFlagsExitTwoWithAClearMessage() throws Exception {
        Jar.Result unknown = Jar.run(dir, "bench", "--rowz", "3");
        assertEquals(2, unknown.exitCode(), unknown::toString);
        assertTrue(unknown.err().contains("'--rowz'") && unknown.err().contains("--rows"), unknown::toString);
        Jar.Result value = Jar.run(dir, "bench", "--dtype", "f16");
        assertEquals(2, value.exitCode(), value::toString);
        assertTrue(value.err().contains("'f16' is not a dtype: use f32 or f64"), value::toString);
        Jar.Result range = Jar.run(dir, "train", "--vocab", "1");
        assertEquals(2, range.exitCode(), range::toString);
        assertTrue(range.err().contains("--vocab must be in [2, 8192] (got 1)"), range::toString);
        Jar.Result command = Jar.run(dir, "bnech");
        assertEquals(2, command.exitCode(), command::toString);
        assertTrue(command.err().contains("Did you mean"), command::toString);
    }
}
