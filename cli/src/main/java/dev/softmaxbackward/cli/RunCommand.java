package dev.softmaxbackward.cli;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code run}: .npy in, .npy out, for NumPy users. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Reads the upstream gradient g and the saved softmax output y from NumPy .npy files "
            + "(float32 or float64, C order, 1-D or 2-D; a 2-D array is a batch of rows), writes "
            + "gradIn = y * (g - sum(y*g)/sum(y)) per row to OUT with the same dtype and shape.",
            "Rows stream through a few MiB at a time, so the files may be larger than the heap; one row must fit.",
            "A malformed, truncated, Fortran-order or mismatched file, an input that is not a regular file (a "
                + "pipe, /dev/stdin), or an OUT that is read-only or one of the inputs, gets a one-line error and "
                + "exit status 2; OUT is written through a temporary file and an atomic move, so it is either "
                + "complete or untouched."})
final class RunCommand extends Subcommand {
    /** Rows are processed in batches of about this many bytes per array (at least one row). */
    static final long BATCH_BYTES = 4L << 20;

    @Option(names = "--grad-out", required = true, paramLabel = "G.npy", description = "upstream gradient g")
    Path gradOut;

    @Option(names = "--softmax-out", required = true, paramLabel = "Y.npy", description = "saved softmax output y")
    Path softmaxOut;

    @Option(names = "--out", required = true, paramLabel = "OUT.npy", description = "where gradIn goes")
    Path out;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "backend to use (default: the one your code gets, see info)")
    String backend;

    @Override
    boolean execute(PrintWriter w) throws IOException {
        try (Npy.Input g = open(gradOut); Npy.Input y = open(softmaxOut)) {
            if (g.isFloat32() != y.isFloat32()) {
                throw usage("mismatched dtypes: " + quote(gradOut) + " is " + g.dtype() + ", " + quote(softmaxOut)
                        + " is " + y.dtype());
            }
            if (!Arrays.equals(g.shape(), y.shape())) {
                throw usage("mismatched shapes: " + quote(gradOut) + " is " + g.shapeString() + ", "
                        + quote(softmaxOut) + " is " + y.shapeString());
            }
            checkOut();
            long rows = g.rows();
            int cols = g.cols();
            long rowBytes = (long) cols * g.itemSize();
            int batch = (int) Math.max(1, Math.min(rows, BATCH_BYTES / Math.max(1, rowBytes)));
            // g, y and gradIn for one batch of rows, and the reader's and writer's buffers
            Memory.require(3L * batch * rowBytes + 3L * Npy.CHUNK_BYTES, String.format("a batch of %d row%s of %d "
                    + "%s (g, y and gradIn)", batch, batch == 1 ? "" : "s", cols, g.dtype()));
            SoftmaxBackwardBackend b = backend == null ? SoftmaxBackward.backend() : SoftmaxBackward.backend(backend);
            try (Npy.Output o = new Npy.Output(out, g.shape(), g.isFloat32())) {
                Object gb = null;
                Object yb = null;
                Object rb = null;
                for (long first = 0; first < rows; first += batch) {
                    int n = (int) Math.min(batch, rows - first);
                    if (gb == null || java.lang.reflect.Array.getLength(gb) != n * cols) {
                        // the backend takes arrays of exactly rows * cols: the last, shorter batch gets its own
                        gb = yb = rb = null;
                        gb = array(g.isFloat32(), n * cols);
                        yb = array(g.isFloat32(), n * cols);
                        rb = array(g.isFloat32(), n * cols);
                    }
                    g.readRows(first, n, gb);
                    y.readRows(first, n, yb);
                    if (g.isFloat32()) {
                        b.softmaxBackward((float[]) gb, (float[]) yb, (float[]) rb, n, cols);
                    } else {
                        b.softmaxBackward((double[]) gb, (double[]) yb, (double[]) rb, n, cols);
                    }
                    o.append(rb, n * cols);
                }
                o.commit();
            } catch (IOException e) {
                throw usage(quote(out) + ": cannot write: " + Text.quote(e.toString()));
            }
            w.printf("wrote %s: %s %s, %d row%s of %d, backend %s%n", quote(out), g.dtype(), g.shapeString(), rows,
                    rows == 1 ? "" : "s", cols, b.name());
            return true;
        }
    }

    private static Object array(boolean float32, int n) {
        return float32 ? new float[n] : new double[n];
    }

    private static Npy.Input open(Path file) {
        try {
            return Npy.open(file);
        } catch (Npy.FormatException e) {
            throw usage(e.getMessage());
        }
    }

    /**
     * OUT must be a new file or a writable regular file that is neither input: the atomic move would
     * otherwise replace a read-only file (rename only needs the directory writable) or an input itself.
     */
    private void checkOut() throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw usage(quote(out) + ": the directory " + quote(parent) + " does not exist");
        }
        if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !Files.exists(out)) {
            return;
        }
        if (!Files.isRegularFile(out)) {
            throw usage(quote(out) + ": exists and is not a regular file: not replacing it");
        }
        if (readOnly(out)) {
            throw usage(quote(out) + ": the file is read-only: not replacing it (make it writable or remove it)");
        }
        for (Path in : new Path[] {gradOut, softmaxOut}) {
            if (Files.isSameFile(out, in)) {
                throw usage(quote(out) + ": is the same file as the input " + quote(in) + ": write elsewhere");
            }
        }
    }

    /** No write permission for us, or (as root, who may write anyway) no write bit at all. */
    private static boolean readOnly(Path file) throws IOException {
        if (!Files.isWritable(file)) {
            return true;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view == null) {
            return false;
        }
        Set<PosixFilePermission> p = view.readAttributes().permissions();
        return !p.contains(PosixFilePermission.OWNER_WRITE) && !p.contains(PosixFilePermission.GROUP_WRITE)
                && !p.contains(PosixFilePermission.OTHERS_WRITE);
    }

    private static String quote(Path p) {
        return Text.quote(String.valueOf(p));
    }

    private static Main.CliException usage(String message) {
        return new Main.CliException(Main.USAGE, message);
    }
}
