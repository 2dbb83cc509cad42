package dev.softmaxbackward.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every subcommand shares, so that each says it once: picocli's spec (injected here, picocli
 * walks the class hierarchy), the output it prints to, flushed when it returns, and the exit status,
 * {@link Main#OK} or {@link Main#FAILED}. A subcommand only checks its options and runs.
 */
abstract class Subcommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        boolean ok = execute(out);
        out.flush();
        return ok ? Main.OK : Main.FAILED;
    }

    /**
     * Checks the options (a bad one is {@link #badOption}) and runs, printing to {@code out}.
     *
     * @return false when something the command checked failed (exit status 1)
     */
    abstract boolean execute(PrintWriter out) throws Exception;

    /** A bad option value: picocli prints the message with the usage hint (exit status 2). */
    CommandLine.ParameterException badOption(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
