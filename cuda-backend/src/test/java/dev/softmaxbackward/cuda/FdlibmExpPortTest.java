package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernels' {@code fdlibm_exp} (the forward softmax's exp) is {@code StrictMath.exp} bit for bit.
 * Its host build (src/test/c/fdlibm_exp_check.cu, the same source with plain IEEE double operations
 * where the device uses the _rn intrinsics) runs on every branch boundary and on random doubles across
 * the whole range and against StrictMath.exp; with no nvcc on the PATH the test is skipped.
 */
class FdlibmExpPortTest {
    private static final Path MODULE = Files.isDirectory(Path.of("src/main/cuda")) ? Path.of("").toAbsolutePath()
            : Path.of("cuda-backend").toAbsolutePath();

    @Test
    void theKernelsExpIsStrictMathExp(@TempDir Path dir) throws Exception {
        Path binary = dir.resolve("fdlibm_exp_check");
        Process nvcc;
        try {
            nvcc = new ProcessBuilder("nvcc", "-O2", "-Xcompiler", "-ffp-contract=off", "-o", binary.toString(),
                    MODULE.resolve("src/test/c/fdlibm_exp_check.cu").toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no nvcc on the PATH: " + e.getMessage());
            return;
        }
        String log = new String(nvcc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, nvcc.waitFor(), "nvcc: " + log);

        double[] x = inputs();
        ByteBuffer in = ByteBuffer.allocate(8 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        in.asDoubleBuffer().put(x);
        Process check = new ProcessBuilder(binary.toString()).start();
        CompletableFuture<Void> feed = CompletableFuture.runAsync(() -> {
            try (OutputStream stdin = check.getOutputStream()) {
                stdin.write(in.array());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] out;
        try (InputStream stdout = check.getInputStream()) {
            out = stdout.readAllBytes();
        }
        feed.get(60, TimeUnit.SECONDS);
        assertEquals(0, check.waitFor(), "fdlibm_exp_check exit status");
        assertEquals(8L * x.length, out.length, "bytes back");
        ByteBuffer results = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < x.length; i++) {
            long expected = Double.doubleToRawLongBits(StrictMath.exp(x[i]));
            long actual = results.getLong(8 * i);
            boolean bothNaN = Double.isNaN(StrictMath.exp(x[i])) && Double.isNaN(Double.longBitsToDouble(actual));
            if (expected != actual && !bothNaN) {
                assertEquals(Long.toHexString(expected), Long.toHexString(actual), "exp(" + x[i] + ") = exp("
                        + Long.toHexString(Double.doubleToRawLongBits(x[i])) + ")");
            }
        }
    }

    /** Each branch boundary of e_exp.c and its neighbours, special values, then random doubles. */
    static double[] inputs() {
        double[] edges = {0.0, -0.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, 0x1p-28, -0x1p-28,
            0.5 * Math.log(2), -0.5 * Math.log(2), 1.5 * Math.log(2), -1.5 * Math.log(2), 7.09782712893383973096e+02,
            -7.45133219101941108420e+02, 709.78, -708.39, -708.4, -709.08956571282405, -744.44, 1.0, -1.0,
            Double.MAX_VALUE, -Double.MAX_VALUE, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN,
            Double.longBitsToDouble(0x7ff0000000000001L), Math.log(Double.MIN_NORMAL), 1021 * Math.log(2),
            -1021 * Math.log(2), -1022 * Math.log(2)};
        int perEdge = 2001;
        int random = 3_000_000;
        double[] x = new double[edges.length * perEdge + random];
        int n = 0;
        for (double e : edges) {
            long bits = Double.doubleToRawLongBits(e);
            for (int d = -perEdge / 2; d <= perEdge / 2; d++) {
                x[n++] = Double.longBitsToDouble(bits + d);
            }
        }
        Random r = new Random(20261204);
        while (n < x.length) {
            // a softmax's arguments (x - max <= 0, mostly within -50) and the whole finite range
            int kind = n % 4;
            x[n++] = kind == 0 ? -r.nextDouble() * 50 : kind == 1 ? r.nextDouble() * 1460 - 750
                    : kind == 2 ? Double.longBitsToDouble(r.nextLong()) : -r.nextDouble() * 0.5;
        }
        return x;
    }
}
