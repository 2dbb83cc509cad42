package dev.softmaxbackward.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code run}: .npy files from real NumPy through the jar and back, and every kind of bad file. */
class RunIT {
    @TempDir
    Path dir;

    /** Writes inputs with NumPy; compares the jar's output with NumPy's y * (g - (y*g).sum(-1, keepdims=True)). */
    private static final String MAKE = String.join("\n",
            "import sys, numpy as np",
            "dtype, shape, seed = sys.argv[1], tuple(int(s) for s in sys.argv[2].split('x')), int(sys.argv[3])",
            "rng = np.random.default_rng(seed)",
            "x = rng.standard_normal(shape) * 2",
            "y = np.exp(x - x.max(-1, keepdims=True)); y /= y.sum(-1, keepdims=True)",
            "g = rng.standard_normal(shape) * 3",
            "np.save('y.npy', y.astype(dtype)); np.save('g.npy', g.astype(dtype))");

    private static final String COMPARE = String.join("\n",
            "import sys, numpy as np",
            "y, g, o = np.load('y.npy'), np.load('g.npy'), np.load('out.npy')",
            "assert o.dtype == y.dtype and o.shape == y.shape, (o.dtype, o.shape, y.dtype, y.shape)",
            "L = np.longdouble",
            "yl, gl = y.astype(L), g.astype(L)",
            "d = (yl * gl).sum(-1, keepdims=True)",
            "e = yl * (gl - d)  # NumPy's formula, evaluated in extended precision",
            "s = yl.sum(-1, keepdims=True)",
            "u = 2.0**-24 if y.dtype == np.float32 else 2.0**-53",
            "bound = (u * (2 * abs(e) + 2 * yl * abs(gl).max(-1, keepdims=True))  # the contract's bound (invariant 5)",
            "         + yl * abs(d) * abs(1 - 1 / s)  # the contract divides by sum(y), this formula does not",
            "         + y.shape[-1] * np.finfo(L).eps * yl * abs(yl * gl).sum(-1, keepdims=True)  # the sum above",
            "         + np.finfo(y.dtype).smallest_subnormal)",
            "err = abs(o.astype(L) - e)",
            "print('max error / bound = %.3g' % (err / bound).max(initial=0))",
            "sys.exit(0 if (err <= bound).all() else 1)");

    static Stream<Arguments> numpyCases() {
        return Stream.of(Arguments.of("float32", "3x7"), Arguments.of("float64", "4x5000"),
                Arguments.of("float32", "9"), Arguments.of("float64", "4097"), Arguments.of("float32", "2x10000"),
                Arguments.of("float64", "0x3"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("numpyCases")
    void numpyRoundTripAgreesWithNumpyWithinTheContractBound(String dtype, String shape) throws Exception {
        Assumptions.assumeTrue(numpy(), "skipped: `python3 -c 'import numpy'` does not work on this machine");
        python(MAKE, dtype, shape, "11");
        Jar.Result r = Jar.run(dir, "run", "--grad-out", "g.npy", "--softmax-out", "y.npy", "--out", "out.npy");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("wrote out.npy: " + dtype), r::toString);
        String compared = python(COMPARE);
        assertTrue(compared.startsWith("max error / bound"), compared);
    }

    private boolean numpy() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private String python(String script, String... args) throws Exception {
        Path file = dir.resolve("script.py");
        Files.writeString(file, script);
        List<String> cmd = new java.util.ArrayList<>(List.of("python3", file.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> "python failed:\n" + out);
        return out;
    }

    // ---- bad files: written byte by byte here, so these run with or without NumPy -----------------------

    private static final String F8_2X3 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";

    static byte[] npy(String header, int dataBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] h = (header + "\n").getBytes(StandardCharsets.ISO_8859_1);
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.writeBytes(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) h.length).array());
        out.writeBytes(h);
        ByteBuffer data = ByteBuffer.allocate(dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        while (data.remaining() >= 8) {
            data.putDouble(0.25);
        }
        out.writeBytes(data.array());
        return out.toByteArray();
    }

    static Stream<Arguments> badFiles() {
        byte[] good = npy(F8_2X3, 48);
        return Stream.of(
                Arguments.of("Fortran order", npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", 48),
                        "Fortran-order"),
                Arguments.of("truncated data", java.util.Arrays.copyOf(good, good.length - 7), "truncated"),
                Arguments.of("truncated header", java.util.Arrays.copyOf(good, 30), "truncated"),
                Arguments.of("empty file", new byte[0], "not a .npy file"),
                Arguments.of("not npy", "just some text, not an array\n".getBytes(StandardCharsets.UTF_8),
                        "not a .npy file"),
                Arguments.of("trailing bytes", java.util.Arrays.copyOf(good, good.length + 8), "unexpected bytes"),
                Arguments.of("int32", npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24),
                        "unsupported dtype '<i4'"),
                Arguments.of("3-D", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", 48),
                        "unsupported shape (1, 2, 3)"),
                Arguments.of("no shape key", npy("{'descr': '<f8', 'fortran_order': False, }", 48),
                        "malformed .npy header"),
                Arguments.of("broken header", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3", 48),
                        "malformed .npy header"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void aBadFileExitsTwoWithOneLineAndNoOutput(String name, byte[] bytes, String message) throws Exception {
        Files.write(dir.resolve("bad.npy"), bytes);
        Files.write(dir.resolve("y.npy"), npy(F8_2X3, 48));
        // as the gradient, as the softmax output, and over an output file that must stay as it was
        for (String[] args : new String[][] {{"--grad-out", "bad.npy", "--softmax-out", "y.npy"},
            {"--grad-out", "y.npy", "--softmax-out", "bad.npy"}}) {
            assertRejected(message, args);
        }
        Files.writeString(dir.resolve("out.npy"), "previous contents");
        assertRejected(message, "--grad-out", "bad.npy", "--softmax-out", "y.npy");
        assertEquals("previous contents", Files.readString(dir.resolve("out.npy")));
    }

    @Test
    void mismatchedShapesOrDtypesExitTwo() throws Exception {
        Files.write(dir.resolve("g.npy"), npy(F8_2X3, 48));
        Files.write(dir.resolve("y.npy"), npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 48));
        assertRejected("mismatched shapes: g.npy is (2, 3), y.npy is (3, 2)", "--grad-out", "g.npy",
                "--softmax-out", "y.npy");
        Files.write(dir.resolve("y.npy"), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24));
        assertRejected("mismatched dtypes: g.npy is float64, y.npy is float32", "--grad-out", "g.npy",
                "--softmax-out", "y.npy");
        assertRejected("no such file", "--grad-out", "missing.npy", "--softmax-out", "y.npy");
    }

    @Test
    void aGoodFileWrittenHereGivesTheExpectedBits() throws Exception {
        // y = 1/4 each, g = [1, 2, 3, 4]: d = 2.5 exactly, gradIn = [-3/8, -1/8, 1/8, 3/8] exactly
        ByteBuffer y = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer g = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) {
            y.putDouble(0.25);
            g.putDouble(i + 1);
        }
        String header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }";
        Files.write(dir.resolve("y.npy"), withData(header, y.array()));
        Files.write(dir.resolve("g.npy"), withData(header, g.array()));
        Jar.Result r = Jar.run(dir, "run", "--grad-out", "g.npy", "--softmax-out", "y.npy", "--out", "out.npy",
                "--backend", "reference");
        assertEquals(0, r.exitCode(), r::toString);
        byte[] out = Files.readAllBytes(dir.resolve("out.npy"));
        assertEquals(0, (out.length - 32) % 64, "the data starts on a 64-byte boundary, as NumPy writes it");
        String written = new String(out, 10, out.length - 42, StandardCharsets.ISO_8859_1);
        assertEquals(header, written.strip());
        ByteBuffer data = ByteBuffer.wrap(out, out.length - 32, 32).order(ByteOrder.LITTLE_ENDIAN);
        double[] got = new double[4];
        data.asDoubleBuffer().get(got);
        assertArrayEquals(new double[] {-0.375, -0.125, 0.125, 0.375}, got);
        try (Stream<Path> files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "a temporary file was left");
        }
    }

    // ---- issue 10: memory, pipes, overwrites, raw bytes in messages ---------------------------------------

    /** A header for float64 of {@code shape}, and data written by {@code fill(row, dst)}, a batch at a time. */
    private static void writeRows(Path file, int rows, int cols, java.util.function.ObjIntConsumer<double[]> fill)
            throws Exception {
        String header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(npy(header, 0)));
            ByteBuffer buf = ByteBuffer.allocate(cols * 8).order(ByteOrder.LITTLE_ENDIAN);
            double[] row = new double[cols];
            for (int r = 0; r < rows; r++) {
                fill.accept(row, r);
                buf.clear();
                buf.asDoubleBuffer().put(row);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        }
    }

    @Test
    void inputsLargerThanTheHeapStreamThroughRowByRow() throws Exception {
        // 2 x 32 MiB of input and 32 MiB out under a 32 MiB heap (before: OutOfMemoryError, exit 1).
        // y = 2^-13 and g = j + r in row r: d = 4095.5 + r exactly, so gradIn = (j - 4095.5) / 8192 exactly.
        int rows = 512;
        int cols = 8192;
        writeRows(dir.resolve("y.npy"), rows, cols, (row, r) -> java.util.Arrays.fill(row, 0x1p-13));
        writeRows(dir.resolve("g.npy"), rows, cols, (row, r) -> {
            for (int j = 0; j < cols; j++) {
                row[j] = j + r;
            }
        });
        Jar.Result r = Jar.run(dir, java.util.Map.of(), List.of("-Xmx32m"), 120, "run", "--grad-out", "g.npy",
                "--softmax-out", "y.npy", "--out", "out.npy");
        assertEquals(0, r.exitCode(), r::toString);
        byte[] out = Files.readAllBytes(dir.resolve("out.npy"));
        assertEquals(128 + 8L * rows * cols, out.length, r::toString);
        java.nio.DoubleBuffer data = ByteBuffer.wrap(out, 128, out.length - 128).order(ByteOrder.LITTLE_ENDIAN)
                .asDoubleBuffer();
        for (int i = 0; i < rows * cols; i++) {
            double expected = ((i % cols) - 4095.5) / 8192;
            if (data.get(i) != expected) {
                throw new AssertionError("entry " + i + ": " + data.get(i) + ", expected " + expected);
            }
        }
    }

    @Test
    void aRowLargerThanTheHeapExitsTwoNamingTheXmxThatWouldDo() throws Exception {
        // one row of 2^28 float64 (2 GiB, a sparse file: nothing written) under a 64 MiB heap
        Path big = dir.resolve("big.npy");
        Files.write(big, npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 268435456), }", 0));
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(f.length() + (8L << 28));
        }
        Jar.Result r = Jar.run(dir, java.util.Map.of(), List.of("-Xmx64m"), 60, "run", "--grad-out", "big.npy",
                "--softmax-out", "big.npy", "--out", "out.npy");
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), r::toString);
        assertTrue(r.err().contains("a batch of 1 row of 268435456 float64 (g, y and gradIn) needs about 6147 MiB")
                && r.err().contains("run with java -Xmx8g -jar"), r::toString);
        assertFalse(Files.exists(dir.resolve("out.npy")), r::toString);
    }

    @Test
    void aReadOnlyOutOrAnOutThatIsAnInputIsRefused() throws Exception {
        Files.write(dir.resolve("g.npy"), npy(F8_2X3, 48));
        Files.write(dir.resolve("y.npy"), npy(F8_2X3, 48));
        Path out = dir.resolve("out.npy");
        Files.writeString(out, "previous contents");
        Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
        assertRejected("out.npy: the file is read-only", "--grad-out", "g.npy", "--softmax-out", "y.npy");
        assertEquals("previous contents", Files.readString(out));

        byte[] g = Files.readAllBytes(dir.resolve("g.npy"));
        Files.createLink(dir.resolve("link.npy"), dir.resolve("g.npy"));
        for (String same : new String[] {"./g.npy", "link.npy"}) {
            Jar.Result r = Jar.run(dir, "run", "--grad-out", "g.npy", "--softmax-out", "y.npy", "--out", same);
            assertEquals(2, r.exitCode(), r::toString);
            assertEquals(1, r.err().strip().lines().count(), r::toString);
            assertTrue(r.err().contains("is the same file as the input g.npy"), r::toString);
            assertArrayEquals(g, Files.readAllBytes(dir.resolve("g.npy")));
        }
    }

    @Test
    void rawBytesInAHeaderAreEscapedAndCutToOneShortLine() throws Exception {
        StringBuilder junk = new StringBuilder("{'descr': '<f8\n\u0000\u0007\u00ff\r");
        for (int i = 0; i < 200; i++) {
            junk.append((char) (i * 37 % 256));
        }
        Files.write(dir.resolve("bad.npy"), npy(junk.toString(), 48));
        Files.write(dir.resolve("y.npy"), npy(F8_2X3, 48));
        assertRejected("malformed .npy header", "--grad-out", "bad.npy", "--softmax-out", "y.npy");
        Jar.Result r = Jar.run(dir, "run", "--grad-out", "bad.npy", "--softmax-out", "y.npy", "--out", "out.npy");
        String line = r.err().strip();
        assertTrue(line.chars().allMatch(c -> c >= 0x20 && c < 0x7f), r::toString);
        assertTrue(line.contains("'descr': '<f8\\n\\x00\\x07\\xff\\r"), r::toString);
        assertTrue(line.length() < 300, r::toString);
        // a dtype string with a newline in it, quoted in the dtype message
        Files.write(dir.resolve("bad.npy"), npy("{'descr': '<f8\nx', 'fortran_order': False, 'shape': (2, 3), }", 48));
        assertRejected("unsupported dtype '<f8\\nx'", "--grad-out", "bad.npy", "--softmax-out", "y.npy");
    }

    @Test
    void inputsOnlyTheLauncherCanOpenAreRefusedInOneLineAndNeverHang() throws Exception {
        Files.write(dir.resolve("y.npy"), npy(F8_2X3, 48));
        Process mk = new ProcessBuilder("mkfifo", dir.resolve("fifo").toString()).inheritIO().start();
        assertTrue(mk.waitFor(30, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo failed");
        // a FIFO nobody writes to: opening it would block forever
        Jar.Result fifo = Jar.run(dir, java.util.Map.of(), List.of(), 60, "run", "--grad-out", "fifo",
                "--softmax-out", "y.npy", "--out", "out.npy");
        assertEquals(2, fifo.exitCode(), fifo::toString);
        assertEquals(1, fifo.err().strip().lines().count(), fifo::toString);
        assertTrue(fifo.err().contains("fifo: not a regular file"), fifo::toString);
        // process substitution: /dev/fd/63 exists in the launcher only
        String cmd = "exec " + Jar.java() + " -jar " + Jar.jar().toAbsolutePath()
                + " run --grad-out <(cat y.npy) --softmax-out y.npy --out out.npy";
        Process p = new ProcessBuilder("bash", "-c", cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), text);
        assertEquals(2, p.exitValue(), text);
        assertEquals(1, text.strip().lines().count(), text);
        assertTrue(text.matches("(?s).*/dev/fd/\\d+: not a regular file.*"), text);
        assertFalse(Files.exists(dir.resolve("out.npy")));
    }

    private static byte[] withData(String header, byte[] data) {
        byte[] head = npy(header, 0);
        byte[] out = java.util.Arrays.copyOf(head, head.length + data.length);
        System.arraycopy(data, 0, out, head.length, data.length);
        return out;
    }

    private void assertRejected(String message, String... inputs) throws Exception {
        String[] args = Stream.concat(Stream.of("run"), Stream.concat(Stream.of(inputs), Stream.of("--out", "out.npy")))
                .toArray(String[]::new);
        boolean existed = Files.exists(dir.resolve("out.npy"));
        Jar.Result r = Jar.run(dir, args);
        assertEquals(2, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), () -> "one line of error\n" + r);
        assertTrue(r.err().contains(message), () -> "expected '" + message + "'\n" + r);
        assertEquals(existed, Files.exists(dir.resolve("out.npy")), r::toString);
        try (Stream<Path> files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "a temporary file was left");
        }
    }
}
