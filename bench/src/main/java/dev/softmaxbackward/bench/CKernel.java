package dev.softmaxbackward.bench;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs the C driver {@code bench/src/main/c/softmax_backward_ref.c}: through files to check its bits
 * against {@link ReferenceBackend}, and in its timing mode, whose per-iteration times get the same
 * statistics {@link BenchMain} takes of JMH's iterations (median and range). A process, not JNI: it works the same on
 * every JDK, and the C kernel's speed is measured without any Java in the loop.
 */
final class CKernel {
    private CKernel() {}

    /**
     * Runs sample batches through the C kernel (2 threads) and the reference; "same bits ..." when every
     * output agrees bit for bit (NaNs compared as NaN), otherwise a line naming the first difference.
     */
    static String checkBits(Path driver) throws IOException, InterruptedException {
        int[][] shapes = {{7, 45}, {6, 5 * 4096 + 7}, {64, 50257}};
        long entries = 0;
        for (String dtype : new String[] {"f32", "f64"}) {
            for (int[] shape : shapes) {
                int rows = shape[0];
                int cols = shape[1];
                double[] g = new double[rows * cols];
                double[] y = new double[rows * cols];
                sample(rows, cols, g, y);
                Path dir = Files.createTempDirectory("sb-c-check");
                try {
                    String diff = dtype.equals("f32") ? checkFloat(driver, dir, rows, cols, g, y)
                            : checkDouble(driver, dir, rows, cols, g, y);
                    if (diff != null) {
                        return "bits DIFFER from reference at " + dtype + " [" + rows + ", " + cols + "]: " + diff
                                + " (C rows dropped)";
                    }
                } finally {
                    try (var files = Files.list(dir)) {
                        for (Path f : (Iterable<Path>) files::iterator) {
                            Files.delete(f);
                        }
                    }
                    Files.delete(dir);
                }
                entries += (long) rows * cols;
            }
        }
        return "same bits as reference on " + entries + " entries (float32 and float64; [7, 45], [6, 20487] with"
                + " constant, zero-y, NaN and infinite rows, [64, 50257])";
    }

    /** Softmax-like y and gaussian g; in the [6, 20487] batch also the special rows of docs/numerics.md §4, §6. */
    private static void sample(int rows, int cols, double[] g, double[] y) {
        SplittableRandom rnd = new SplittableRandom(rows * 31L + cols);
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                y[i] = Math.exp(8 * rnd.nextDouble());
                sum += y[i];
                g[i] = rnd.nextGaussian();
            }
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                y[i] /= sum;
            }
        }
        if (rows == 6) {
            int c = cols;
            for (int i = c; i < 2 * c; i++) {
                g[i] = 0.3; // constant row: exact zeros
            }
            for (int i = 2 * c; i < 3 * c; i++) {
                y[i] = 0; // y sums to zero: d = 0
            }
            g[3 * c + 5000] = Double.NaN;
            g[4 * c + 17] = Double.POSITIVE_INFINITY;
        }
    }

    private static String checkFloat(Path driver, Path dir, int rows, int cols, double[] gd, double[] yd)
            throws IOException, InterruptedException {
        float[] g = Floats.of(gd);
        float[] y = Floats.of(yd);
        float[] expected = new float[rows * cols];
        new ReferenceBackend().softmaxBackward(g, y, expected, rows, cols);
        return compare(runCheck(driver, dir, "f32", rows, cols, bytes(g), bytes(y)), bytes(expected), Float.BYTES);
    }

    private static String checkDouble(Path driver, Path dir, int rows, int cols, double[] g, double[] y)
            throws IOException, InterruptedException {
        double[] expected = new double[rows * cols];
        new ReferenceBackend().softmaxBackward(g, y, expected, rows, cols);
        return compare(runCheck(driver, dir, "f64", rows, cols, bytes(g), bytes(y)), bytes(expected), Double.BYTES);
    }

    /** The driver's file format: little-endian entries. */
    private static ByteBuffer bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(Float.BYTES * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }

    private static ByteBuffer bytes(double[] v) {
        ByteBuffer b = ByteBuffer.allocate(Double.BYTES * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return b;
    }

    /**
     * The first entry ({@code width} bytes each) whose bits differ between the C output and the
     * reference's, in words; null when all agree. Equal bytes are equal bits, NaN payloads included.
     */
    private static String compare(ByteBuffer got, ByteBuffer expected, int width) {
        for (int i = 0; i < expected.capacity() / width; i++) {
            if (!got.slice(i * width, width).equals(expected.slice(i * width, width))) {
                return "entry " + i + ": C " + value(got, i, width) + ", reference " + value(expected, i, width);
            }
        }
        return null;
    }

    private static Object value(ByteBuffer b, int i, int width) {
        return width == Float.BYTES ? (Object) b.getFloat(i * width) : (Object) b.getDouble(i * width);
    }

    private static ByteBuffer runCheck(Path driver, Path dir, String dtype, int rows, int cols, ByteBuffer g,
                                       ByteBuffer y) throws IOException, InterruptedException {
        Path gf = dir.resolve("g.bin");
        Path yf = dir.resolve("y.bin");
        Path of = dir.resolve("out.bin");
        Files.write(gf, g.array());
        Files.write(yf, y.array());
        List<String> out = run(List.of(driver.toString(), "check", dtype, Integer.toString(rows), Integer.toString(cols),
                "2", gf.toString(), yf.toString(), of.toString()));
        if (!Files.exists(of)) {
            throw new IOException("the C driver wrote no output: " + out);
        }
        return ByteBuffer.wrap(Files.readAllBytes(of)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static final String PASSIVE = "kernel_passive";
    private static final String PAST_LINE = "kernel_16past";

    /**
     * The driver's timing modes: the kernel, the kernel with {@code OMP_WAIT_POLICY=passive}, glibc's
     * memcpy, and a copy with ordinary stores. By default libgomp's threads spin between parallel
     * regions, so a back-to-back call finds them running; passive threads sleep at once, as the cpu
     * backend's pool threads do, and each call wakes them (bench/results/cpu-history.md, stop 23). And the
     * kernel on arrays 16 bytes past a 64-byte line, where HotSpot puts a large array's elements and ND4J its
     * buffers, so every 64-byte access crosses a line: for float64 that alone took up to 2 x the time
     * (bench/results/cpu-stop30.md).
     */
    static final List<String> MODES = List.of("kernel", PASSIVE, PAST_LINE, "memcpy", "storecopy");

    /** Times {@code mode} (one of {@link #MODES}) on {@code threads} threads; the row is named c:MODE_tTHREADS. */
    static BenchMain.Row time(Path driver, String shape, String dtype, String mode, int threads, int round, int warmups,
                              int iterations, double warmupSeconds, double seconds)
            throws IOException, InterruptedException {
        String[] rc = shape.split("x");
        boolean passive = mode.equals(PASSIVE);
        List<String> lines = run(passive, List.of(driver.toString(), "bench", dtype, rc[0], rc[1],
                Integer.toString(threads), passive ? "kernel" : mode.equals(PAST_LINE) ? "kernel16" : mode,
                Integer.toString(warmups),
                Integer.toString(iterations), Double.toString(warmupSeconds),
                Double.toString(seconds)));
        List<Double> samples = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("ns/op ")) {
                samples.add(Double.parseDouble(line.substring(6).strip()));
            }
        }
        if (samples.isEmpty()) {
            throw new IOException("the C driver printed no timings: " + lines);
        }
        BenchMain.Row row = BenchMain.Row.of(shape, dtype, "c:" + mode + "_t" + threads, round, samples);
        System.out.printf("# %s %s %s (round %d): %.0f ns/op (median)%n", row.method(), shape, dtype, round, row.nanos());
        return row;
    }

    private static List<String> run(List<String> command) throws IOException, InterruptedException {
        return run(false, command);
    }

    /** Runs the driver; {@code passive}: with {@code OMP_WAIT_POLICY=passive}, else with libgomp's default. */
    private static List<String> run(boolean passive, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (passive) {
            pb.environment().put("OMP_WAIT_POLICY", "passive");
        } else {
            pb.environment().remove("OMP_WAIT_POLICY");
        }
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
            }
        }
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IOException(String.join(" ", command) + " exited " + rc + ": " + lines);
        }
        return lines;
    }
}
