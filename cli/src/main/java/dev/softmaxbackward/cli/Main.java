package dev.softmaxbackward.cli;

import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar softmax-backward.jar [COMMAND]}. With no command: {@code info}, then {@code check},
 * then a short {@code bench}, then one line saying which backend the caller's code gets and how fast.
 */
@Command(name = "softmax-backward", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"The softmax backward pass gradIn = y * (g - sum(y*g)/sum(y)), bit-identical on every backend.",
            "With no command: info, check, a short bench, and which backend your code gets."},
        subcommands = {InfoCommand.class, CheckCommand.class, BenchCommand.class, TrainCommand.class,
            RunCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
    /** Exit statuses, the same for every command (listed in each command's --help). */
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int NO_BACKEND = 3;
    static final int INTERNAL = 4;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        VectorRelaunch.exitWithParent();
        java.util.OptionalInt relaunched = VectorRelaunch.relaunchIfNeeded(args);
        System.exit(relaunched.isPresent() ? relaunched.getAsInt() : execute(commandLine(), args));
    }

    /**
     * Runs {@code args} on {@code cl}; an OutOfMemoryError that the commands' heap checks did not foresee
     * becomes one line and exit status 4 rather than a stack trace (the arrays that filled the heap are
     * unreachable by the time it is caught, so printing works).
     */
    static int execute(CommandLine cl, String[] args) {
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            PrintWriter err = cl.getErr();
            err.println(cl.getCommandSpec().qualifiedName() + ": out of memory (max heap "
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB): " + Text.quote(String.valueOf(e.getMessage()))
                    + ": run with a larger java -Xmx or a smaller size");
            err.flush();
            return INTERNAL;
        }
    }

    /** The configured command line; tests and {@link #main} both start here. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler(Main::usageError);
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put(" " + OK, "success");
        codes.put(" " + FAILED, "a check failed (check, the no-argument run, train's gradient cross-check)");
        codes.put(" " + USAGE, "bad usage: unknown option or bad value; for run, a malformed, truncated, "
                + "Fortran-order or mismatched .npy file (no output file is left behind)");
        codes.put(" " + NO_BACKEND, "the backend asked for (--backend, softmaxbackward.backend, "
                + "SOFTMAX_BACKWARD_BACKEND) is unknown or unavailable here");
        codes.put(" " + INTERNAL, "unexpected error (a bug: please report the message)");
        configure(cl, codes);
        return cl;
    }

    private static void configure(CommandLine cl, Map<String, String> codes) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit status:%n").exitCodeList(codes);
        for (CommandLine sub : cl.getSubcommands().values()) {
            configure(sub, codes);
        }
    }

    /** A bad flag or value: the message, a pointer to --help, and exit status 2. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(cl.getColorScheme().errorText(Text.printable(String.valueOf(e.getMessage()))));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return USAGE;
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        int code;
        if (e instanceof CliException ce) {
            err.println(name + ": " + Text.printable(ce.getMessage()));
            code = ce.exitCode;
        } else if (e instanceof BackendUnavailableException) {
            err.println(name + ": " + Text.printable(e.getMessage()));
            code = NO_BACKEND;
        } else {
            err.println(name + ": unexpected error: " + e);
            e.printStackTrace(err);
            code = INTERNAL;
        }
        err.flush();
        return code;
    }

    /** An error the user can act on: one line, and the exit status that goes with it. */
    static final class CliException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        CliException(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        InfoCommand.print(out);
        out.println();
        List<SoftmaxBackwardBackend> all = Backends.resolve("all");
        boolean ok = CheckCommand.run(all, out, false);
        out.println();
        BenchCommand bench = new BenchCommand();
        bench.seconds = 0.5;
        List<BenchCommand.Result> results = bench.run(all, out);
        out.println();
        SoftmaxBackwardBackend mine;
        try {
            mine = SoftmaxBackward.backend();
        } catch (BackendUnavailableException e) {
            out.println("Your code gets no backend: " + e.getMessage());
            out.flush();
            return NO_BACKEND;
        }
        String how = SoftmaxBackward.selectionReason();
        BenchCommand.Result r = results.stream().filter(x -> x.name().equals(mine.name())).findFirst().orElse(null);
        if (r == null) {
            out.printf("Your code gets backend '%s' (%s).%n", mine.name(), how);
        } else {
            boolean vector = mine.name().equals("cpu")
                    && ModuleLayer.boot().findModule(VectorRelaunch.MODULE).isPresent();
            out.printf("Your code gets backend '%s' (%s): %s per call on [%d x %d] %s, %.1f GB/s%s%s%s.%n",
                    mine.name(), how, BenchCommand.time(r.secondsPerCall()), bench.rows, bench.cols,
                    bench.dtype.label(), r.gigabytesPerSecond(),
                    Double.isNaN(r.ofCopy()) ? "" : String.format(", %.0f%% of copy bandwidth", 100 * r.ofCopy()),
                    Double.isNaN(r.speedup()) ? "" : String.format(", %.1fx ND4J composed ops", r.speedup()),
                    vector ? " (with --add-modules " + VectorRelaunch.MODULE + ", as this CLI runs: start your JVM"
                            + " with it too)" : "");
        }
        if (!ok) {
            out.println("Some checks FAILED (see the table above).");
        }
        out.flush();
        return ok ? OK : FAILED;
    }

    /** The version from the jar's manifest (the Maven project version), or "development" when unpackaged. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"softmax-backward " + (v == null ? "(development build)" : v),
                "JVM: ${java.version} (${java.vendor} ${java.vm.name} ${java.vm.version})",
                "OS: ${os.name} ${os.version} ${os.arch}"};
        }
    }
}
