package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Issue 9, defect 1: arguments that nothing but the call references must stay alive (with their
 * off-heap buffers) until the last output is written. One caller passes fresh, otherwise unreferenced
 * INDArrays while other threads allocate arrays of the same size (so freed native memory is reused at
 * once, with other values) and call System.gc(). Every result must be bitwise the reference's. Before
 * the fix this failed within a few thousand calls (wrong entries, once a SIGSEGV).
 */
class ReachabilityTest {
    private static final int ROWS = 4;
    private static final int COLS = 2048;
    private static final int CALLS = 10_000;

    @Test
    void unreferencedArgumentsStayAliveUntilTheLastWrite() throws InterruptedException {
        CpuBackend cpu = new CpuBackend(() -> null, () -> new RowExecutor(1), Kernels.defaultKernel(),
                Strategy.FUSED);
        SplittableRandom rnd = new SplittableRandom(9);
        long[] shape = {ROWS, COLS};
        List<double[]> ys = new ArrayList<>();
        List<double[]> gs = new ArrayList<>();
        List<double[]> expected = new ArrayList<>();
        List<double[]> expectedFused = new ArrayList<>(); // softmax of g as logits, then its cross-entropy
        int[] labels = new int[ROWS];
        for (int r = 0; r < ROWS; r++) {
            labels[r] = (7 * r) % COLS;
        }
        double[] ones = new double[ROWS];
        java.util.Arrays.fill(ones, 1.0);
        for (int i = 0; i < 4; i++) {
            double[] y = Data.y(rnd, ROWS, COLS);
            double[] g = Data.g(rnd, ROWS, COLS);
            double[] e = new double[ROWS * COLS];
            new ReferenceBackend().softmaxBackward(g, y, e, ROWS, COLS);
            ys.add(y);
            gs.add(g);
            expected.add(e);
            double[] soft = new double[ROWS * COLS];
            new ReferenceBackend().softmax(g, soft, ROWS, COLS);
            double[] ce = new double[ROWS * COLS];
            new ReferenceBackend().crossEntropyBackward(soft, labels, 1.0, ce, ROWS, COLS);
            expectedFused.add(ce);
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> churn = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                double[] garbage = new double[ROWS * COLS];
                java.util.Arrays.fill(garbage, -1e10);
                for (long n = 0; !stop.get(); n++) {
                    INDArray a = Nd4j.create(garbage, shape, 'c'); // same size: reuses what was freed
                    a.addi(1.0);
                    if (n % (id == 0 ? 50 : 200) == 0) {
                        System.gc();
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
            churn.add(thread);
        }
        int wrong = 0;
        String first = null;
        try {
            for (int call = 0; call < CALLS; call++) {
                int i = call & 3;
                boolean fused = (call & 4) != 0; // the one-pass forward and cross-entropy, every other 4 calls
                INDArray out = fused
                        ? cpu.softmaxCrossEntropyBackward(Nd4j.create(gs.get(i), shape, 'c'), labels, ones,
                                Nd4j.createUninitialized(DataType.DOUBLE, shape, 'c'), new double[ROWS],
                                Nd4j.createUninitialized(DataType.DOUBLE, shape, 'c'))
                        : cpu.softmaxBackward(Nd4j.create(gs.get(i), shape, 'c'), Nd4j.create(ys.get(i), shape, 'c'));
                double[] actual = out.data().asDouble();
                double[] e = (fused ? expectedFused : expected).get(i);
                for (int k = 0; k < e.length; k++) {
                    if (Double.doubleToRawLongBits(e[k]) != Double.doubleToRawLongBits(actual[k])) {
                        if (first == null) {
                            first = "call " + call + ", entry " + k + ": " + actual[k] + " where " + e[k]
                                    + " was due";
                        }
                        wrong++;
                        break;
                    }
                }
            }
        } finally {
            stop.set(true);
            for (Thread t : churn) {
                t.join();
            }
        }
        assertEquals(0, wrong, wrong + " of " + CALLS + " calls were wrong; first: " + first);
        assertEquals(DataType.DOUBLE, Nd4j.create(gs.get(0), shape, 'c').dataType());
    }
}
