package dev.softmaxbackward.conformance;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.conformance.Inputs.GradientKind;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.statistics.Statistics;

/**
 * The conformance properties, for jqwik: random shapes (rows up to 4096, at most
 * {@link #MAX_ELEMENTS} entries per batch so the suite stays fast), logit scales from 1e-3 to 1e3
 * (near-uniform to near-one-hot y, computed in float64 by the test, then rounded) or arbitrary
 * non-negative y (normalised or not, of ordinary or tiny magnitude), upstream gradients
 * of every {@link GradientKind} (constant rows, huge and tiny magnitudes, mixed signs and magnitudes),
 * and both dtypes.
 *
 * <p>Each try checks the reference's output against every invariant and then every backend of
 * {@link #backendsUnderTest()} against the reference, bit for bit (so a backend equal to the
 * reference inherits the reference's checks). The number of tries is fixed per property and
 * generation is always randomized (never exhaustive), so a run is exactly {@link #TOTAL_TRIES} cases.
 */
public abstract class SoftmaxBackwardProperties {
    public static final int MAX_ELEMENTS = 32768;
    public static final int TRIES_BACKWARD = 1000;
    public static final int TRIES_GRADIENT = 300;
    public static final int TRIES_CONSTANT_ROWS = 400;
    public static final int TRIES_SOFTMAX = 400;
    public static final int TRIES_CROSS_ENTROPY = 300;
    /** Cases per run, all properties together. */
    public static final int TOTAL_TRIES =
            TRIES_BACKWARD + TRIES_GRADIENT + TRIES_CONSTANT_ROWS + TRIES_SOFTMAX + TRIES_CROSS_ENTROPY;

    /** The backends to compare with the reference; the reference itself is always checked. */
    protected abstract List<SoftmaxBackwardBackend> backendsUnderTest();

    /** A batch shape. */
    public record Shape(int rows, int cols) {
        @Override
        public String toString() {
            return "[" + rows + "x" + cols + "]";
        }
    }

    /** rows log-uniform in [1, 4096], then cols log-uniform in [1, MAX_ELEMENTS / rows]. */
    @Provide
    Arbitrary<Shape> shapes() {
        return logUniform(4096).flatMap(rows -> logUniform(MAX_ELEMENTS / rows).map(cols -> new Shape(rows, cols)));
    }

    /** A size class for the statistics jqwik reports. */
    static String bucket(Shape s) {
        int n = s.rows() * s.cols();
        String size = n < 100 ? "<100" : n < 1000 ? "<1000" : n < 4097 ? "<=4096" : ">4096";
        String cols = s.cols() > 4096 ? ", >1 segment" : "";
        return size + cols;
    }

    /** An integer in [1, max], its logarithm uniform. */
    static Arbitrary<Integer> logUniform(int max) {
        double top = Math.log(max + 0.999);
        return Arbitraries.integers().between(0, 1 << 20).withDistribution(RandomDistribution.uniform())
                .map(k -> (int) Math.max(1, Math.min(max, Math.floor(Math.exp(top * k / (1 << 20))))));
    }

    /** Small shapes, for the explicit Jacobian and finite differences (quadratic in cols). */
    @Provide
    Arbitrary<Shape> smallShapes() {
        return net.jqwik.api.Combinators.combine(
                Arbitraries.integers().between(1, 8).withDistribution(RandomDistribution.uniform()),
                Arbitraries.integers().between(1, 64).withDistribution(RandomDistribution.uniform())).as(Shape::new);
    }

    /** 10^U(-3, 3). */
    @Provide
    Arbitrary<Double> logitScales() {
        return Arbitraries.integers().between(-3_000_000, 3_000_000).withDistribution(RandomDistribution.uniform()).map(k -> Math.pow(10, k / 1e6));
    }

    private SoftmaxBackwardBackend[] others() {
        return backendsUnderTest().stream().filter(b -> !(b instanceof ReferenceBackend))
                .toArray(SoftmaxBackwardBackend[]::new);
    }

    @Property(tries = TRIES_BACKWARD, generation = GenerationMode.RANDOMIZED)
    void backwardMatchesOracleAndReference(@ForAll("shapes") Shape shape, @ForAll DType dtype,
                                           @ForAll Inputs.YKind yKind, @ForAll("logitScales") double logitScale,
                                           @ForAll GradientKind kind,
                                           @ForAll @DoubleRange(min = 0, max = 0.5) double constantRowChance,
                                           @ForAll long seed) {
        Statistics.label("dtype").collect(dtype);
        Statistics.label("gradient").collect(kind);
        Statistics.label("entries").collect(bucket(shape));
        Statistics.label("y").collect(yKind);
        checkBackward(shape, dtype, yKind, logitScale, kind, constantRowChance, seed);
    }

    /** One case of {@link #backwardMatchesOracleAndReference}, callable outside jqwik. */
    void checkBackward(Shape shape, DType dtype, Inputs.YKind yKind, double logitScale, GradientKind kind,
                       double constantRowChance, long seed) {
        Random rnd = new Random(seed);
        Batch batch = Inputs.batch(rnd, dtype, yKind, shape.rows(), shape.cols(), logitScale, kind,
                constantRowChance);
        int split = shape.rows() > 1 ? 1 + rnd.nextInt(shape.rows() - 1) : 0;
        Conformance.Coverage c = Conformance.backward(Conformance.REFERENCE, batch, split);
        if (c.oracleRows() != shape.rows()) {
            throw new AssertionError("the oracle checked " + c.oracleRows() + " of " + shape.rows() + " rows");
        }
        for (SoftmaxBackwardBackend b : others()) {
            Conformance.backward(b, batch, split, false);
        }
    }

    @Property(tries = TRIES_GRADIENT, generation = GenerationMode.RANDOMIZED)
    void backwardIsTheGradient(@ForAll("smallShapes") Shape shape, @ForAll DType dtype,
                               @ForAll("logitScales") double logitScale,
                               @ForAll @DoubleRange(min = 0.1, max = 3) double gScale, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = shape.rows();
        int cols = shape.cols();
        double[] x = Inputs.logits(rnd, rows, cols, logitScale);
        double[] g = Inputs.gradient(rnd, dtype, GradientKind.UNIT, rows, cols, 0);
        for (int i = 0; i < g.length; i++) {
            g[i] = dtype.round(g[i] * gScale);
        }
        Batch batch = Batch.rounded(dtype, Inputs.softmax(x, rows, cols), g, rows, cols);
        for (SoftmaxBackwardBackend b : backendsUnderTest()) {
            Output out = batch.backward(b);
            Checks.jacobian(batch, out, dtype == DType.FLOAT32 ? 1e-6 : 1e-12);
            Checks.finiteDifferences(x, batch, out, dtype == DType.FLOAT32 ? 1e-3 : 1e-7);
        }
    }

    @Property(tries = TRIES_CONSTANT_ROWS, generation = GenerationMode.RANDOMIZED)
    void constantRowsGiveZeros(@ForAll("shapes") Shape shape, @ForAll DType dtype,
                               @ForAll("logitScales") double logitScale, @ForAll boolean normalisedY,
                               @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = shape.rows();
        int cols = shape.cols();
        double[] y;
        if (normalisedY) {
            y = Inputs.softmax(Inputs.logits(rnd, rows, cols, logitScale), rows, cols);
        } else {
            // any non-negative y, some zeros; the first entry of a row never zero so no row sums to 0
            y = new double[rows * cols];
            for (int i = 0; i < y.length; i++) {
                y[i] = i % cols != 0 && rnd.nextInt(4) == 0 ? 0.0 : 1 - rnd.nextDouble();
            }
        }
        double[] g = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            Arrays.fill(g, r * cols, (r + 1) * cols, Inputs.constantValue(rnd, dtype));
        }
        Batch batch = Batch.rounded(dtype, y, g, rows, cols);
        List<SoftmaxBackwardBackend> all = new java.util.ArrayList<>(backendsUnderTest());
        all.add(Conformance.REFERENCE);
        for (SoftmaxBackwardBackend b : all) {
            Output out = batch.backward(b);
            int checked = Checks.constantRows(batch, out);
            if (checked != rows) {
                throw new AssertionError(b.name() + ": " + checked + " of " + rows + " constant rows checked");
            }
        }
    }

    @Property(tries = TRIES_SOFTMAX, generation = GenerationMode.RANDOMIZED)
    void softmaxMatchesOracleAndReference(@ForAll("shapes") Shape shape, @ForAll DType dtype,
                                          @ForAll("logitScales") double logitScale, @ForAll long seed) {
        double[] x = Inputs.logits(new Random(seed), shape.rows(), shape.cols(), logitScale);
        int checked = Conformance.softmax(Conformance.REFERENCE, dtype, x, shape.rows(), shape.cols());
        if (checked != shape.rows()) {
            throw new AssertionError("the oracle checked " + checked + " of " + shape.rows() + " rows");
        }
        for (SoftmaxBackwardBackend b : others()) {
            Conformance.softmax(b, dtype, x, shape.rows(), shape.cols());
        }
    }

    @Property(tries = TRIES_CROSS_ENTROPY, generation = GenerationMode.RANDOMIZED)
    void crossEntropyIsScaledYMinusOneHot(@ForAll("shapes") Shape shape, @ForAll DType dtype,
                                          @ForAll @DoubleRange(min = -4, max = 4) double scale, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = shape.rows();
        int cols = shape.cols();
        double[] y = Inputs.softmax(Inputs.logits(rnd, rows, cols, 3.0), rows, cols);
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = rnd.nextInt(5) == 0 ? -100 : rnd.nextInt(cols);
        }
        Batch yOnly = Batch.rounded(dtype, y, new double[rows * cols], rows, cols);
        Conformance.crossEntropy(Conformance.REFERENCE, yOnly, labels, scale);
        for (SoftmaxBackwardBackend b : others()) {
            Conformance.crossEntropy(b, yOnly, labels, scale);
        }
    }
}
