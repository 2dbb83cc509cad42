package dev.softmaxbackward.cli;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.conformance.BadInputs;
import dev.softmaxbackward.conformance.Batch;
import dev.softmaxbackward.conformance.Case;
import dev.softmaxbackward.conformance.Checks;
import dev.softmaxbackward.conformance.Conformance;
import dev.softmaxbackward.conformance.DType;
import dev.softmaxbackward.conformance.Inputs;
import dev.softmaxbackward.conformance.Inputs.GradientKind;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code check}: the contract's invariants on each backend, as a pass/fail table. Every check is the
 * conformance kit's (softmax-backward-conformance-kit), the one the JUnit suite runs, against the same
 * exact oracle; this class only chooses the inputs (a subset of the suite's) and prints the table.
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"On each available backend, in float32 and float64, with the conformance suite's own "
            + "checkers: output shape and untouched inputs, the explicit Jacobian-vector product "
            + "(diag(y) - y y^T) g, central finite differences of L(x) = g . softmax(x), the row-sum bound "
            + "sum(gradIn) ~ 0, constant g rows giving exact zeros, the worked examples "
            + "(y=[0.2,0.3,0.5], g=[1,0,0] -> [0.16,-0.06,-0.10]), the exact oracle, the bad-input cases, and "
            + "bitwise agreement with the reference backend where the backend declares it (softmaxBackward, "
            + "crossEntropyBackward; forward softmax bitwise or within 2 ulp). Prints a pass/fail table; exit "
            + "status 1 on any failure."})
final class CheckCommand extends Subcommand {
    @Option(names = "--backend", paramLabel = "NAME|all", defaultValue = "all",
            description = "backend to check (default: ${DEFAULT-VALUE}, every available one)")
    String backend;

    @Option(names = {"-v", "--verbose"}, description = "also print each check's measurements (errors, ulps, rows tested)")
    boolean verbose;

    @Override
    boolean execute(PrintWriter out) {
        return run(Backends.resolve(backend), out, verbose);
    }

    /** A check's outcome: null failure means pass; detail is shown either way when not empty. */
    record Outcome(String failure, String detail) {
        static Outcome pass(String detail) {
            return new Outcome(null, detail);
        }

        static Outcome fail(String why) {
            return new Outcome(why, "");
        }
    }

    @FunctionalInterface
    interface Check {
        Outcome run(SoftmaxBackwardBackend b, DType t);
    }

    static final Map<String, Check> CHECKS = new LinkedHashMap<>();

    static {
        CHECKS.put("output shape, inputs untouched", CheckCommand::shape);
        CHECKS.put("Jacobian-vector product", CheckCommand::jacobian);
        CHECKS.put("finite differences", CheckCommand::finiteDifferences);
        CHECKS.put("sum(gradIn) ~ 0", CheckCommand::sumZero);
        CHECKS.put("constant g -> exact zeros", CheckCommand::constantRows);
        CHECKS.put("worked examples", CheckCommand::workedExamples);
        CHECKS.put("bitwise = reference (backward)", CheckCommand::bitwiseBackward);
        CHECKS.put("bitwise = reference (CE backward)", CheckCommand::bitwiseCrossEntropy);
        CHECKS.put("forward softmax vs reference", CheckCommand::forward);
        CHECKS.put("bad inputs rejected", CheckCommand::badInputs);
    }

    static boolean run(List<SoftmaxBackwardBackend> backends, PrintWriter out, boolean verbose) {
        out.println("Checks (fixed seed; every backend in float32 and float64):");
        if (backends.isEmpty()) {
            out.println("  no backend is available: nothing to check");
            return false;
        }
        List<String> failures = new ArrayList<>();
        List<String> details = new ArrayList<>();
        Map<String, String[]> table = new LinkedHashMap<>();
        int total = CHECKS.size() * DType.values().length * backends.size();
        try (Progress bar = Progress.start("check", total)) {
            for (Map.Entry<String, Check> c : CHECKS.entrySet()) {
                for (DType t : DType.values()) {
                    String[] cells = new String[backends.size()];
                    for (int k = 0; k < backends.size(); k++) {
                        SoftmaxBackwardBackend b = backends.get(k);
                        bar.message(b.name() + " " + c.getKey());
                        Outcome o;
                        try {
                            o = c.getValue().run(b, t);
                        } catch (AssertionError e) {
                            o = Outcome.fail(String.valueOf(e.getMessage()));
                        } catch (RuntimeException e) {
                            o = Outcome.fail("threw " + e);
                        }
                        cells[k] = o.failure() == null ? "pass" : "FAIL";
                        if (o.failure() != null) {
                            failures.add(b.name() + ", " + t.label() + ", " + c.getKey() + ": " + o.failure());
                        } else if (!o.detail().isEmpty()) {
                            details.add(b.name() + ", " + t.label() + ", " + c.getKey() + ": " + o.detail());
                        }
                        bar.step();
                    }
                    table.put(c.getKey() + " (" + (t == DType.FLOAT32 ? "f32" : "f64") + ")", cells);
                }
            }
        }
        int width = table.keySet().stream().mapToInt(String::length).max().orElse(10);
        StringBuilder head = new StringBuilder(String.format("  %-" + width + "s", "check"));
        for (SoftmaxBackwardBackend b : backends) {
            head.append(String.format("  %-9s", b.name()));
        }
        out.println(head.toString().stripTrailing());
        for (Map.Entry<String, String[]> row : table.entrySet()) {
            StringBuilder line = new StringBuilder(String.format("  %-" + width + "s", row.getKey()));
            for (String cell : row.getValue()) {
                line.append(String.format("  %-9s", cell));
            }
            out.println(line.toString().stripTrailing());
        }
        if (verbose) {
            details.forEach(d -> out.println("  " + d));
        }
        if (failures.isEmpty()) {
            out.printf("All %d checks passed.%n", total);
        } else {
            out.printf("%d of %d checks FAILED:%n", failures.size(), total);
            failures.forEach(f -> out.println("  " + f));
        }
        return failures.isEmpty();
    }

    // ---- the checks: the kit's checkers on fixed inputs ---------------------------------------------

    private static final long SEED = 0x5eedL;

    /** The shapes of the random batches: tiny, odd, one and several 4096-entry segments, empty. */
    static final int[][] SHAPES = {{1, 1}, {1, 3}, {2, 5}, {7, 33}, {3, 4096}, {2, 4097}, {2, 12_300},
        {64, 1000}, {1, 40_000}, {0, 7}, {5, 0}};

    /** Small shapes, where the explicit Jacobian and finite differences are cheap (the suite's). */
    private static final int[][] SMALL = {{1, 1}, {1, 2}, {3, 5}, {4, 33}, {2, 100}, {2, 257}};

    static Outcome shape(SoftmaxBackwardBackend b, DType t) {
        int[][] shapes = {{1, 1}, {1, 3}, {3, 1}, {2, 5}, {7, 33}, {4, 4097}, {65, 64}};
        for (int[] s : shapes) {
            Batch batch = Inputs.batch(new Random(SEED + s[0] * 31L + s[1]), t, s[0], s[1], 2.0, GradientKind.UNIT, 0);
            // inputs untouched, every entry written, second call, in place, split batch, oracle and bounds
            Conformance.backward(b, batch, s[0] / 2);
        }
        return Outcome.pass(shapes.length + " shapes");
    }

    static Outcome jacobian(SoftmaxBackwardBackend b, DType t) {
        double atol = t == DType.FLOAT32 ? 1e-6 : 1e-12;
        for (int[] s : SMALL) {
            Batch batch = Inputs.batch(new Random(SEED + 1 + s[1]), t, s[0], s[1], 2.0, GradientKind.UNIT, 0);
            Checks.jacobian(batch, batch.backward(b), atol);
        }
        return Outcome.pass(SMALL.length + " shapes, atol " + atol);
    }

    static Outcome finiteDifferences(SoftmaxBackwardBackend b, DType t) {
        double atol = t == DType.FLOAT32 ? 1e-3 : 1e-7;
        for (int[] s : SMALL) {
            Random rnd = new Random(SEED + 2 + s[1]);
            double[] x = Inputs.logits(rnd, s[0], s[1], 2.0);
            double[] g = Inputs.gradient(rnd, t, GradientKind.UNIT, s[0], s[1], 0);
            Batch batch = Batch.rounded(t, Inputs.softmax(x, s[0], s[1]), g, s[0], s[1]);
            Checks.finiteDifferences(x, batch, batch.backward(b), atol);
        }
        return Outcome.pass(SMALL.length + " shapes, atol " + atol);
    }

    static Outcome sumZero(SoftmaxBackwardBackend b, DType t) {
        int rows = 0;
        for (int[] s : new int[][] {{16, 5}, {16, 1000}, {4, 5000}}) {
            for (GradientKind kind : new GradientKind[] {GradientKind.UNIT, GradientKind.HUGE, GradientKind.OFFSET}) {
                Batch batch = Inputs.batch(new Random(SEED + 3 + s[1] + kind.ordinal()), t, s[0], s[1], 3.0, kind, 0);
                rows += Checks.sumBound(batch, batch.backward(b));
            }
        }
        if (rows == 0) {
            return Outcome.fail("no row of y summed to 1 within cols * u: nothing was tested");
        }
        return Outcome.pass(rows + " rows within 4*u*max|g| + cols*minSubnormal/2");
    }

    static Outcome constantRows(SoftmaxBackwardBackend b, DType t) {
        int rows = 0;
        for (int cols : new int[] {1, 3, 100, 4096, 5000}) {
            for (Inputs.YKind y : Inputs.YKind.values()) {
                Batch batch = Inputs.batch(new Random(SEED + 4 + cols + y.ordinal()), t, y, 12, cols, 2.0,
                        GradientKind.CONSTANT, 0);
                rows += Checks.constantRows(batch, batch.backward(b));
            }
        }
        return rows == 0 ? Outcome.fail("no constant row was checked") : Outcome.pass(rows + " rows");
    }

    static Outcome workedExamples(SoftmaxBackwardBackend b, DType t) {
        return cases(Conformance.workedExamples(b, t));
    }

    static Outcome badInputs(SoftmaxBackwardBackend b, DType t) {
        return cases(BadInputs.all(b).stream().filter(c -> c.title().contains(" " + t.label() + ": ")).toList());
    }

    private static Outcome cases(List<Case> cases) {
        if (cases.isEmpty()) {
            return Outcome.fail("no case to run");
        }
        for (Case c : cases) {
            try {
                c.check().run();
            } catch (AssertionError e) {
                return Outcome.fail(c.title() + ": " + e.getMessage());
            }
        }
        return Outcome.pass(cases.size() + " cases");
    }

    static Outcome bitwiseBackward(SoftmaxBackwardBackend b, DType t) {
        Random rnd = new Random(SEED + 5);
        long entries = 0;
        GradientKind[] kinds = GradientKind.values();
        for (int k = 0; k < SHAPES.length; k++) {
            int rows = SHAPES[k][0];
            int cols = SHAPES[k][1];
            double[] y = Inputs.softmax(Inputs.logits(rnd, rows, cols, 4), rows, cols);
            double[] g = Inputs.gradient(rnd, t, kinds[k % kinds.length], rows, cols, 0.1);
            // special rows: constant g, all-zero y, a NaN, an infinity, y not summing to 1
            if (rows >= 6 && cols >= 2) {
                Arrays.fill(g, 0, cols, 1.5);
                Arrays.fill(y, cols, 2 * cols, 0);
                g[2 * cols + 1] = Double.NaN;
                g[3 * cols] = Double.POSITIVE_INFINITY;
                for (int i = 4 * cols; i < 5 * cols; i++) {
                    y[i] = rnd.nextDouble();
                }
            }
            // the reference's bits (if declared), second call, in place, the batch cut in two, and the bounds
            Conformance.backward(b, Batch.rounded(t, y, g, rows, cols), rows / 2);
            entries += (long) rows * cols;
        }
        return Outcome.pass(entries + " entries, " + SHAPES.length + " shapes"
                + (Conformance.backwardExactly(b) ? "" : " (bits not declared: bounds only)"));
    }

    static Outcome bitwiseCrossEntropy(SoftmaxBackwardBackend b, DType t) {
        Random rnd = new Random(SEED + 6);
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            if (cols == 0 && rows > 0) {
                continue; // no valid label exists in an empty row
            }
            double[] y = Inputs.softmax(Inputs.logits(rnd, rows, cols, 4), rows, cols);
            int[] labels = new int[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = r % 5 == 4 ? -100 : rnd.nextInt(cols);
            }
            double scale = t.round(1.0 / Math.max(rows, 1) / 3);
            Conformance.crossEntropy(b, Batch.rounded(t, y, new double[rows * cols], rows, cols), labels, scale);
        }
        return Outcome.pass(Conformance.backwardExactly(b) ? "" : "bits not declared: formula only");
    }

    static Outcome forward(SoftmaxBackwardBackend b, DType t) {
        Random rnd = new Random(SEED + 7);
        int rows = 0;
        for (int[] shape : SHAPES) {
            double[] x = Inputs.logits(rnd, shape[0], shape[1], 5);
            rows += Conformance.softmax(b, t, x, shape[0], shape[1]);
        }
        return Outcome.pass(rows + " rows against the exact oracle, "
                + (Conformance.forwardExactly(b) ? "bitwise" : "within 2 ulp") + " vs reference");
    }
}
