package dev.softmaxbackward.conformance;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.Guarantee;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.Arrays;
import java.util.List;

/**
 * Runs one input on a backend and checks everything that holds for every input: the call leaves y and
 * g alone, writes every entry, gives the reference's bits (where the backend declares it, through
 * {@link SoftmaxBackwardBackend#guarantees()}), gives them again on a second call, in place,
 * and when the batch is split in two; and the output satisfies the exact-oracle bound, the row-sum
 * bound and the constant-row rule.
 */
public final class Conformance {
    /** The oracle every backend must equal bit for bit (a fresh instance: it has no state). */
    public static final SoftmaxBackwardBackend REFERENCE = new ReferenceBackend();

    private Conformance() {}

    /** How many rows each row-wise check covered (so callers can insist a check really ran). */
    public record Coverage(int oracleRows, int sumRows, int constantRows) {
        public Coverage plus(Coverage o) {
            return new Coverage(oracleRows + o.oracleRows, sumRows + o.sumRows, constantRows + o.constantRows);
        }
    }

    /**
     * Every check of {@code softmaxBackward} on one batch.
     *
     * @param split where to cut the batch in two for the batch-independence check (0 or rows: no cut)
     * @return how many rows each row-wise check covered
     */
    public static Coverage backward(SoftmaxBackwardBackend backend, Batch batch, int split) {
        return backward(backend, batch, split, true);
    }

    /**
     * As {@link #backward(SoftmaxBackwardBackend, Batch, int)}; with {@code rowChecks} false the oracle,
     * row-sum and constant-row checks are left out for a backend that declares
     * {@link Guarantee#BIT_EXACT_BACKWARD} (its bits were just found equal to the reference's, whose
     * output passed them on the same batch); a backend that does not declare it always gets them.
     */
    public static Coverage backward(SoftmaxBackwardBackend backend, Batch batch, int split, boolean rowChecks) {
        String who = backend.name() + " " + batch;
        Batch before = batch.copy();
        Output out = batch.backward(backend);
        if (!batch.sameBits(before)) {
            throw new AssertionError(who + ": softmaxBackward modified its inputs y or g");
        }
        Checks.allWritten(who + " gradIn", out);
        if (backwardExactly(backend)) {
            Output reference = backend instanceof ReferenceBackend ? out : batch.backward(REFERENCE);
            Checks.sameBits(who + " vs reference", reference, out);
        }
        Checks.sameBits(who + " second call", out, batch.backward(backend));
        Checks.sameBits(who + " in place (gradIn == gradOut)", out, batch.backwardInPlace(backend));
        if (split > 0 && split < batch.rows()) {
            int cut = split * batch.cols();
            Checks.sameBits(who + " rows [0, " + split + ") alone", out.slice(0, cut),
                    batch.rows(0, split).backward(backend));
            Checks.sameBits(who + " rows [" + split + ", " + batch.rows() + ") alone", out.slice(cut, out.length()),
                    batch.rows(split, batch.rows()).backward(backend));
        }
        if (!rowChecks && backwardExactly(backend)) {
            return new Coverage(0, 0, 0);
        }
        return new Coverage(Checks.oracleBound(batch, out), Checks.sumBound(batch, out),
                Checks.constantRows(batch, out));
    }

    /**
     * The contract's worked examples (docs/contract.md §1) in one dtype: y = [0.2, 0.3, 0.5] with
     * g = [1, 0, 0] gives [0.16, -0.06, -0.10]; a constant g gives exact zeros, for y from the tests'
     * softmax and from the backend's own; and every check of {@link #backward} on each.
     */
    public static List<Case> workedExamples(SoftmaxBackwardBackend b, DType dt) {
        double[] want = {0.16, -0.06, -0.10};
        double tol = dt == DType.FLOAT32 ? 1e-7 : 1e-15;
        Case textbook = new Case("y=[0.2,0.3,0.5] g=[1,0,0] -> [0.16,-0.06,-0.10] " + dt.label(), () -> {
            Batch batch = Batch.rounded(dt, new double[] {0.2, 0.3, 0.5}, new double[] {1, 0, 0}, 1, 3);
            Output out = batch.backward(b);
            for (int i = 0; i < 3; i++) {
                if (!(Math.abs(out.get(i) - want[i]) <= tol)) {
                    throw new AssertionError("entry " + i + ": " + out.describe(i) + ", want " + want[i] + " +- " + tol);
                }
            }
            backward(b, batch, 0);
        });
        Case zeros = new Case("y=softmax([1,2,3]) g=[0.5,0.5,0.5] -> bitwise zeros " + dt, () -> {
            double[] y = Inputs.softmax(new double[] {1, 2, 3}, 1, 3);
            Batch batch = Batch.rounded(dt, y, new double[] {0.5, 0.5, 0.5}, 1, 3);
            // and with y from the backend's own forward pass
            Output yb = forward(b, dt, new double[] {1, 2, 3}, 1, 3, b.name());
            Batch own = dt == DType.FLOAT32 ? Batch.of(yb.floats(), new float[] {0.5f, 0.5f, 0.5f}, 1, 3)
                    : Batch.of(yb.doubles(), new double[] {0.5, 0.5, 0.5}, 1, 3);
            for (Batch in : List.of(batch, own)) {
                Output out = in.backward(b);
                for (int i = 0; i < 3; i++) {
                    if (!Checks.isZero(out, i)) {
                        throw new AssertionError(in + " entry " + i + " = " + out.describe(i) + ", not +-0.0");
                    }
                }
            }
            backward(b, batch, 0);
        });
        return List.of(textbook, zeros);
    }

    /**
     * Every check of forward {@code softmax} on one batch of logits: inputs untouched, every entry
     * written, the exact exp/sum oracle and the row sums, and the reference's bits (for a backend
     * without {@link Guarantee#BIT_EXACT_FORWARD}, within 2 ulp of them: docs/contract.md §3, invariant 6).
     *
     * @return the rows the oracle checked
     */
    public static int softmax(SoftmaxBackwardBackend backend, DType t, double[] logits, int rows, int cols) {
        String who = backend.name() + " softmax " + t + "[" + rows + "x" + cols + "]";
        Output out = forward(backend, t, logits, rows, cols, who);
        Output ref = backend instanceof ReferenceBackend ? out : forward(REFERENCE, t, logits, rows, cols, who);
        if (forwardExactly(backend)) {
            Checks.sameBits(who + " vs reference", ref, out);
        } else {
            Checks.withinUlps(who + " vs reference", ref, out, 2);
        }
        Checks.sameBits(who + " second call", out, forward(backend, t, logits, rows, cols, who));
        if (rows > 1) {
            int split = rows / 2;
            Checks.sameBits(who + " rows [" + split + ", " + rows + ") alone", out.slice(split * cols, rows * cols),
                    forward(backend, t, Arrays.copyOfRange(logits, split * cols, rows * cols), rows - split, cols, who));
        }
        double[] widened = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            widened[i] = t.round(logits[i]);
        }
        // out equals ref bit for bit (or within 2 ulp without BIT_EXACT_FORWARD): the oracle judges the contract's bits
        return Checks.softmaxOracle(t, widened, ref, rows, cols);
    }

    /** Whether the backend's softmaxBackward and crossEntropyBackward must equal the reference bit for bit. */
    public static boolean backwardExactly(SoftmaxBackwardBackend backend) {
        return backend.guarantees().contains(Guarantee.BIT_EXACT_BACKWARD);
    }

    /** Checks out against the reference's bits for the same batch, if the backend declares them. */
    public static void sameBitsAsReferenceIfDeclared(SoftmaxBackwardBackend backend, Batch batch, Output out) {
        if (backwardExactly(backend) && !(backend instanceof ReferenceBackend)) {
            Checks.sameBits(backend.name() + " " + batch + " vs reference", batch.backward(REFERENCE), out);
        }
    }

    /** Whether the backend's forward softmax must equal the reference bit for bit: what it declares. */
    public static boolean forwardExactly(SoftmaxBackwardBackend backend) {
        return backend.guarantees().contains(Guarantee.BIT_EXACT_FORWARD);
    }

    /** Forward softmax of logits rounded to {@code t}, into a sentinel-filled output; inputs checked untouched. */
    public static Output forward(SoftmaxBackwardBackend backend, DType t, double[] logits, int rows, int cols,
                                 String who) {
        Output o = Output.sentinel(t, logits.length);
        boolean untouched;
        if (t == DType.FLOAT32) {
            float[] x = Batch.narrowed(logits);
            float[] copy = x.clone();
            backend.softmax(x, o.floats(), rows, cols);
            untouched = Arrays.equals(x, copy);
        } else {
            double[] x = logits.clone();
            backend.softmax(x, o.doubles(), rows, cols);
            untouched = Arrays.equals(x, logits);
        }
        if (!untouched) {
            throw new AssertionError(who + ": softmax modified its logits");
        }
        Checks.allWritten(who + " out", o);
        return o;
    }

    /**
     * Every check of {@code crossEntropyBackward}: inputs untouched, every entry written, the contract's
     * formula exactly, -100 rows +0.0, the reference's bits (if the backend declares
     * {@link Guarantee#BIT_EXACT_BACKWARD}).
     */
    public static void crossEntropy(SoftmaxBackwardBackend backend, Batch yOnly, int[] labels, double scale) {
        String who = backend.name() + " crossEntropyBackward " + yOnly;
        Output out = crossEntropyRun(backend, yOnly, labels, scale, who);
        Checks.crossEntropy(yOnly, labels, scale, out);
        if (backwardExactly(backend) && !(backend instanceof ReferenceBackend)) {
            Checks.sameBits(who + " vs reference", crossEntropyRun(REFERENCE, yOnly, labels, scale, who), out);
        }
        Checks.sameBits(who + " second call", out, crossEntropyRun(backend, yOnly, labels, scale, who));
    }

    private static Output crossEntropyRun(SoftmaxBackwardBackend backend, Batch yOnly, int[] labels, double scale,
                                          String who) {
        Batch before = yOnly.copy();
        int[] labelsBefore = labels.clone();
        Output out = yOnly.sentinelOutput();
        if (yOnly.dtype() == DType.FLOAT32) {
            backend.crossEntropyBackward(yOnly.yFloats(), labels, (float) scale, out.floats(), yOnly.rows(),
                    yOnly.cols());
        } else {
            backend.crossEntropyBackward(yOnly.yDoubles(), labels, scale, out.doubles(), yOnly.rows(), yOnly.cols());
        }
        if (!yOnly.sameBits(before) || !Arrays.equals(labels, labelsBefore)) {
            throw new AssertionError(who + ": crossEntropyBackward modified its inputs");
        }
        Checks.allWritten(who + " gradIn", out);
        return out;
    }
}
