package dev.softmaxbackward.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts {@code java -jar softmax-backward.jar ARGS} as a separate process, as a user would. */
final class Jar {
    private Jar() {}

    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Path jar() {
        Path jar = Paths.get(System.getProperty("softmaxbackward.cli.jar", "target/softmax-backward.jar"));
        assertTrue(Files.isRegularFile(jar), "the shaded jar " + jar.toAbsolutePath()
                + " is missing: run the tests with `mvn verify` (failsafe, after package)");
        return jar;
    }

    static Result run(Path workDir, String... args) throws IOException, InterruptedException {
        return run(workDir, Map.of(), args);
    }

    static Result run(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        return run(workDir, env, List.of(), 240, args);
    }

    /** With JVM options before {@code -jar} (a small -Xmx) and a time limit in seconds. */
    static Result run(Path workDir, Map<String, String> env, List<String> jvmOptions, int seconds, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar().toAbsolutePath().toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("cli-out", ".txt");
        Path err = Files.createTempFile("cli-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            // selection by environment would change what these tests see
            pb.environment().remove("SOFTMAX_BACKWARD_BACKEND");
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("timed out after " + seconds + " s: " + command + "\n--- stderr\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static String java() {
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }
}
