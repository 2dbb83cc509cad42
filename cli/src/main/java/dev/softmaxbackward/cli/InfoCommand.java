package dev.softmaxbackward.cli;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code info}: the backends found, which one is selected and why, and the machine. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Every discovered backend with its priority, whether it is available and why not; the "
            + "one selected and why (system property, environment variable or priority); JVM, OS and cores; "
            + "and what each available backend says about its device (for cuda: the GPU)."})
final class InfoCommand extends Subcommand {
    @Override
    boolean execute(PrintWriter out) {
        print(out);
        return true;
    }

    static void print(PrintWriter out) {
        Runtime rt = Runtime.getRuntime();
        out.printf("softmax-backward %s%n", versionOrDev());
        out.printf("JVM:   %s %s (%s), max heap %d MiB%n", System.getProperty("java.vm.name"),
                System.getProperty("java.version"), System.getProperty("java.vendor"), rt.maxMemory() >> 20);
        out.printf("OS:    %s %s (%s), %d cores available%n", System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("os.arch"), rt.availableProcessors());
        out.println();
        List<BackendStatus> all = SoftmaxBackward.backends();
        out.println("Backends (highest priority first):");
        int width = Math.max(7, all.stream().mapToInt(s -> s.name().length()).max().orElse(0));
        out.printf("  %-" + width + "s  %8s  %-11s  %s%n", "name", "priority", "available", "reason / device");
        for (BackendStatus s : all) {
            String detail = s.available() ? device(s.name()) : s.reason();
            out.println(String.format("  %-" + width + "s  %8s  %-11s  %s", s.name(),
                    s.priority() == Integer.MIN_VALUE ? "?" : Integer.toString(s.priority()),
                    s.available() ? "yes" : "no", detail).stripTrailing());
        }
        out.println();
        try {
            SoftmaxBackwardBackend selected = SoftmaxBackward.backend();
            out.printf("Selected: %s (%s)%n", selected.name(), SoftmaxBackward.selectionReason());
        } catch (BackendUnavailableException e) {
            out.printf("Selected: none: %s%n", e.getMessage());
        }
        out.println("  (choose with -Dsoftmaxbackward.backend=NAME or SOFTMAX_BACKWARD_BACKEND=NAME)");
        if (SoftmaxBackward.backends().stream().anyMatch(s -> s.name().equals("cpu") && s.available())) {
            out.println("  " + vectorModuleNote());
        }
    }

    /** What this JVM runs for the cpu backend's kernel, and why: the module is there or it is not. */
    static String vectorModuleNote() {
        if (ModuleLayer.boot().findModule(VectorRelaunch.MODULE).isPresent()) {
            return "(this JVM has " + VectorRelaunch.MODULE + (System.getProperty(VectorRelaunch.PARENT) != null
                    ? ", added by this CLI when it restarted itself" : "")
                    + ": the cpu backend runs its vector kernel)";
        }
        return "(this JVM runs without " + VectorRelaunch.MODULE + ": the cpu backend runs its plain-Java kernel, "
                + "the same bits about 10x slower; start the JVM with --add-modules " + VectorRelaunch.MODULE
                + " for the vector kernel)";
    }

    /**
     * What an available backend says about its device or kernel ({@code describe()}: the GPU for cuda),
     * on one line; "" when it has nothing to add. The CLI stays on the core API alone.
     */
    static String device(String name) {
        try {
            return SoftmaxBackward.backend(name).describe().replace('\n', ' ').strip();
        } catch (RuntimeException e) {
            return "";
        }
    }

    static String versionOrDev() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }
}
