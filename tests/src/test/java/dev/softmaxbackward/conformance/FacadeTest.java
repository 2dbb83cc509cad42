package dev.softmaxbackward.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.SoftmaxBackward;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The facade's one-row entry points, on whichever backend it selected. */
class FacadeTest {
    private static final int[] LENGTHS = {1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 33, 64, 100, 255, 256, 257, 1000, 4095, 4096,
        4097, 8192, 8193, 10007, 65536, 70000};

    @Test
    void seedExampleDouble() {
        double[] out = SoftmaxBackward.softmaxBackward(new double[] {1, 0, 0}, new double[] {0.2, 0.3, 0.5});
        double[] want = {0.16, -0.06, -0.10};
        assertEquals(3, out.length);
        for (int i = 0; i < 3; i++) {
            assertEquals(want[i], out[i], 1e-15, "entry " + i + " of " + Arrays.toString(out));
        }
    }

    @Test
    void seedExampleFloat() {
        float[] out = SoftmaxBackward.softmaxBackward(new float[] {1, 0, 0}, new float[] {0.2f, 0.3f, 0.5f});
        double[] want = {0.16, -0.06, -0.10};
        for (int i = 0; i < 3; i++) {
            assertEquals(want[i], out[i], 1e-7, "entry " + i + " of " + Arrays.toString(out));
        }
    }

    @Test
    void constantRowsAreBitwiseZeroDoubleAtManyLengths() {
        assertConstantRowsGiveZeros(42, DType.FLOAT64, new double[] {0.0, 1.0, -1.0, 0.5, 0.1, -3.75, Math.E, 1e-200,
            -1e200, 123456.789, 5 * Double.MIN_VALUE, -Double.MAX_VALUE});
    }

    @Test
    void constantRowsAreBitwiseZeroFloatAtManyLengths() {
        // float constants, widened exactly; the batch rounds them back
        assertConstantRowsGiveZeros(43, DType.FLOAT32, new double[] {0f, 1f, -1f, 0.5f, 0.1f, -3.75f, (float) Math.E,
            1e-40f, -1e30f, 123456.79f, Float.MAX_VALUE, -3 * Float.MIN_VALUE});
    }

    /**
     * For each length and constant {@code c}: the facade's one-row method of {@code dt}, on g = c
     * everywhere and a softmax y rounded to {@code dt}, gives only +0 or -0 (checked on the outputs
     * widened to double, which are zeros exactly when the outputs are).
     */
    private static void assertConstantRowsGiveZeros(long seed, DType dt, double[] constants) {
        Random rnd = new Random(seed);
        for (int n : LENGTHS) {
            double[] y = Inputs.softmax(Inputs.logits(rnd, 1, n, 2.0), 1, n);
            for (double c : constants) {
                double[] g = new double[n];
                Arrays.fill(g, c);
                Batch batch = Batch.rounded(dt, y, g, 1, n);
                Output out = dt == DType.FLOAT32
                        ? Output.of(SoftmaxBackward.softmaxBackward(batch.gFloats(), batch.yFloats()))
                        : Output.of(SoftmaxBackward.softmaxBackward(batch.gDoubles(), batch.yDoubles()));
                assertEquals(n, out.length());
                for (int i = 0; i < n; i++) {
                    assertEquals(0L, Double.doubleToRawLongBits(out.get(i)) & Long.MAX_VALUE,
                            dt + " length " + n + " constant " + c + " entry " + i + " = " + out.describe(i));
                }
            }
        }
    }

    @Test
    void oneRowFormMatchesTheBatchFormOfTheSelectedBackend() {
        Batch batch = Inputs.batch(new Random(7), DType.FLOAT64, 1, 4097, 1.0, Inputs.GradientKind.UNIT, 0);
        double[] out = SoftmaxBackward.softmaxBackward(batch.gDoubles(), batch.yDoubles());
        Checks.sameBits("facade vs backend()", batch.backward(SoftmaxBackward.backend()), Output.of(out));
        Checks.sameBits("facade vs reference", batch.backward(Conformance.REFERENCE), Output.of(out));
    }

    @Test
    void badArgumentsNameTheArgument() {
        NullPointerException npe = assertThrows(NullPointerException.class,
                () -> SoftmaxBackward.softmaxBackward((double[]) null, new double[1]));
        assertTrue(npe.getMessage().contains("gradOut"), npe.getMessage());
        npe = assertThrows(NullPointerException.class,
                () -> SoftmaxBackward.softmaxBackward(new float[1], (float[]) null));
        assertTrue(npe.getMessage().contains("softmaxOut"), npe.getMessage());
        IllegalArgumentException iae = assertThrows(IllegalArgumentException.class,
                () -> SoftmaxBackward.softmaxBackward(new double[3], new double[4]));
        assertTrue(iae.getMessage().contains("3") && iae.getMessage().contains("4"), iae.getMessage());
    }

    @Test
    void unknownBackendNameIsAClearException() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> SoftmaxBackward.backend("no-such-backend"));
        assertTrue(e.getMessage().contains("no-such-backend"), e.getMessage());
        assertTrue(e.getMessage().contains("reference"), "lists what was found: " + e.getMessage());
    }

    @Test
    void selectedBackendIsTheHighestPriorityAvailableOneUnlessForced() {
        String forced = System.getProperty("softmaxbackward.backend", System.getenv("SOFTMAX_BACKWARD_BACKEND"));
        if (forced != null && !forced.isBlank()) {
            assertEquals(forced.strip().toLowerCase(java.util.Locale.ROOT), SoftmaxBackward.backend().name());
            return;
        }
        int best = SoftmaxBackward.backends().stream().filter(s -> s.available())
                .mapToInt(s -> s.priority()).max().orElseThrow();
        assertEquals(best, SoftmaxBackward.backend().priority(), SoftmaxBackward.selectionReason());
    }
}
