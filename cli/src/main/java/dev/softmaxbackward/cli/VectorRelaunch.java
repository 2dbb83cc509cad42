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
 *
 * <p>The child ends with the launcher: a shutdown hook in the launcher (SIGTERM, Ctrl-C) stops it, and
 * the child, told the launcher's pid in {@value #PARENT}, exits when the launcher is gone however it
 * went (SIGKILL included). Arguments naming files only the launcher can open (process substitution's
 * /dev/fd/N, /dev/stdin, a FIFO) are not relaunched at all: this JVM runs the command itself, on the
 * plain-Java kernel (the same bits), and {@code run} refuses what is not a regular file in one line.
 */
final class VectorRelaunch {
    static final String MODULE = "jdk.incubator.vector";
    static final String PROPERTY = "softmaxbackward.cli.relaunch";
    /** Set on the relaunched child: the launcher's pid. */
    static final String PARENT = "softmaxbackward.cli.parent";
    /** Exit status of a child whose launcher is gone (nobody reads it: as for SIGTERM, 128 + 15). */
    static final int ORPHANED = 143;

    private VectorRelaunch() {}

    /** The exit status of the relaunched CLI, or empty when this JVM should run the command itself. */
    static OptionalInt relaunchIfNeeded(String[] args) {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))
                || ModuleLayer.boot().findModule(MODULE).isPresent()
                || ModuleFinderHolder.missing()
                || java.util.Arrays.stream(args).anyMatch(VectorRelaunch::launcherOnly)) {
            return OptionalInt.empty();
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules=" + MODULE);
        command.add("-D" + PROPERTY + "=false"); // never twice
        command.add("-D" + PARENT + "=" + ProcessHandle.current().pid());
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
            Thread stop = new Thread(() -> stop(process), "stop relaunched CLI");
            Runtime.getRuntime().addShutdownHook(stop);
            Thread errors = new Thread(() -> copyErrors(process.getErrorStream()), "stderr");
            errors.setDaemon(true);
            errors.start();
            int status = process.waitFor();
            errors.join();
            try {
                Runtime.getRuntime().removeShutdownHook(stop);
            } catch (IllegalStateException e) {
                // already shutting down: the hook finds the child gone
            }
            return OptionalInt.of(status);
        } catch (IOException e) {
            return OptionalInt.empty(); // cannot start a JVM: run here, on the plain-Java kernel
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.of(Main.INTERNAL);
        }
    }

    /** The launcher is going away (SIGTERM, Ctrl-C, System.exit): the child goes too. */
    private static void stop(Process child) {
        if (!child.isAlive()) {
            return;
        }
        child.destroy();
        try {
            if (!child.waitFor(3, java.util.concurrent.TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor(3, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            child.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * In a relaunched child: exits as soon as the launcher has (or at once if it already has), so a
     * launcher killed with SIGKILL, whose shutdown hook never runs, leaves no orphan behind.
     */
    static void exitWithParent() {
        String parent = System.getProperty(PARENT);
        if (parent == null) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(parent.strip());
        } catch (NumberFormatException e) {
            return;
        }
        java.util.Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            System.exit(ORPHANED);
        }
        // System.exit, not halt: shutdown runs, so run's temporary output file is removed (deleteOnExit)
        var unused = handle.get().onExit().thenRun(() -> System.exit(ORPHANED)); // fire and forget
    }

    /**
     * Whether {@code arg} (or the value of {@code --option=value}) names an existing file that a child
     * process could not open as this one does: not a regular file or directory (a pipe, FIFO, device), or
     * a path under /dev or /proc (a descriptor of this process: {@code <(...)}, /dev/stdin). Only
     * attributes are read: a FIFO is never opened, so this never blocks.
     */
    static boolean launcherOnly(String arg) {
        String value = arg.startsWith("-") && arg.indexOf('=') > 0 ? arg.substring(arg.indexOf('=') + 1) : arg;
        if (value.isEmpty() || value.indexOf('\0') >= 0) {
            return false;
        }
        try {
            Path p = Path.of(value);
            if (!java.nio.file.Files.exists(p)) {
                return false;
            }
            String abs = p.toAbsolutePath().normalize().toString();
            return abs.startsWith("/dev/") || abs.startsWith("/proc/")
                    || !(java.nio.file.Files.isRegularFile(p) || java.nio.file.Files.isDirectory(p));
        } catch (RuntimeException e) {
            return false; // not a path at all
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
