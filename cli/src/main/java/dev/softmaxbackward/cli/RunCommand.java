package dev.softmaxbackward.cli;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code run}: .npy in, .npy out, for NumPy users. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Reads the upstream gradient g and the saved softmax output y from NumPy .npy files "
            + "(float32 or float64, C order, 1-D or 2-D; a 2-D array is a batch of rows), writes "
            + "gradIn = y * (g - sum(y*g)/sum(y)) per row to OUT with the same dtype and shape.",
            "A malformed, truncated, Fortran-order or mismatched file gets a one-line error and exit status 2; "
                + "OUT is written through a temporary file and an atomic move, so it is either complete or untouched."})
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

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
    public Integer call() {
        Npy.Array g;
        Npy.Array y;
        try {
            g = Npy.read(gradOut);
            y = Npy.read(softmaxOut);
        } catch (Npy.FormatException e) {
            throw new Main.CliException(Main.USAGE, e.getMessage());
        }
        if (g.isFloat32() != y.isFloat32()) {
            throw new Main.CliException(Main.USAGE, "mismatched dtypes: " + gradOut + " is " + g.dtype() + ", "
                    + softmaxOut + " is " + y.dtype());
        }
        if (!Arrays.equals(g.shape(), y.shape())) {
            throw new Main.CliException(Main.USAGE, "mismatched shapes: " + gradOut + " is " + g.shapeString()
                    + ", " + softmaxOut + " is " + y.shapeString());
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new Main.CliException(Main.USAGE, out + ": the directory " + parent + " does not exist");
        }
        SoftmaxBackwardBackend b = backend == null ? SoftmaxBackward.backend() : SoftmaxBackward.backend(backend);
        int rows = g.rows();
        int cols = g.cols();
        try {
            if (g.isFloat32()) {
                float[] result = new float[g.f32().length];
                b.softmaxBackward(g.f32(), y.f32(), result, rows, cols);
                Npy.write(out, g.shape(), result, null);
            } else {
                double[] result = new double[g.f64().length];
                b.softmaxBackward(g.f64(), y.f64(), result, rows, cols);
                Npy.write(out, g.shape(), null, result);
            }
        } catch (IOException e) {
            throw new Main.CliException(Main.USAGE, out + ": cannot write: " + e);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf("wrote %s: %s %s, %d row%s of %d, backend %s%n", out, g.dtype(), g.shapeString(), rows,
                rows == 1 ? "" : "s", cols, b.name());
        w.flush();
        return Main.OK;
    }
}
