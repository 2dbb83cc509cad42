package dev.softmaxbackward.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The cpu backend's fast kernel runs on JDK 17's incubating Vector API, which a JVM only resolves when
 * started with {@code --add-modules jdk.incubator.vector}; a jar manifest cannot ask for it. So that
 * {@code java -jar softmax-backward.jar} shows what the library does at full speed, the CLI starts
 * itself once more with that flag (same JVM options, same arguments, inherited I/O) when the module is
 * missing. {@code -Dsoftmaxbackward.cli.relaunch=false} turns this off.
 */
final class VectorRelaunch {
    static final String MODULE = "jdk.incubator.vector";
    static final String PROPERTY = "softmaxbackward.cli.relaunch";

    private VectorRelaunch() {}

    /** The exit status of the relaunched CLI, or empty when this JVM should run the command itself. */
    static OptionalInt relaunchIfNeeded(String[] args) {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))
                || ModuleLayer.boot().findModule(MODULE).isPresent()
                || ModuleFinderHolder.missing()) {
            return OptionalInt.empty();
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules=" + MODULE);
        command.add("-D" + PROPERTY + "=false"); // never twice
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                    .start();
            Thread errors = new Thread(() -> copyErrors(process.getErrorStream()), "stderr");
            errors.setDaemon(true);
            errors.start();
            int status = process.waitFor();
            errors.join();
            return OptionalInt.of(status);
        } catch (IOException e) {
            return OptionalInt.empty(); // cannot start a JVM: run here, on the plain-Java kernel
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.of(Main.INTERNAL);
        }
    }

    /**
     * Copies the child's stderr to ours as it comes, less the launcher's "WARNING: Using incubator
     * modules" line (always its first line): the user did not ask for the module, the CLI did.
     */
    private static void copyErrors(InputStream in) {
        try (in) {
            ByteArrayOutputStream firstLine = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1 && b != '\n') {
                firstLine.write(b);
            }
            String line = firstLine.toString(StandardCharsets.UTF_8);
            if (!line.startsWith("WARNING: Using incubator modules")) {
                System.err.write(firstLine.toByteArray());
                if (b == '\n') {
                    System.err.write('\n');
                }
            }
            System.err.flush();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) != -1) {
                System.err.write(buffer, 0, n);
                System.err.flush();
            }
        } catch (IOException e) {
            // the child is gone; nothing left to copy
        }
    }

    /** Whether this runtime lacks the module altogether (a jlinked JRE without it): then do not try. */
    private static final class ModuleFinderHolder {
        static boolean missing() {
            return java.lang.module.ModuleFinder.ofSystem().find(MODULE).isEmpty();
        }
    }
}
