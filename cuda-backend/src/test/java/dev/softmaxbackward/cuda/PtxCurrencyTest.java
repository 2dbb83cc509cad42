package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed PTX is the one the committed CUDA source compiles to. Without nvcc (CI): the SHA-256
 * of the source recorded by scripts/build-ptx.sh must match the source. With nvcc on the PATH: the
 * script recompiles into a temporary folder and the PTX must be byte-identical.
 */
class PtxCurrencyTest {
    /** The module folder: the working directory under Maven, its cuda-backend/ from the project root. */
    private static final Path MODULE = Files.isDirectory(Path.of("src/main/cuda")) ? Path.of("").toAbsolutePath()
            : Path.of("cuda-backend").toAbsolutePath();
    private static final Path SOURCE = MODULE.resolve("src/main/cuda/softmax_backward.cu");
    private static final Path RESOURCES = MODULE.resolve("src/main/resources/dev/softmaxbackward/cuda");

    static String ptx() throws Exception {
        return CudaRuntime.readPtx();
    }

    @Test
    void ptxIsOnTheClasspathNextToTheBackend() throws Exception {
        String ptx = ptx();
        assertTrue(ptx.contains(".target sm_75"), "the PTX must target compute_75 (Turing and later)");
        assertTrue(ptx.contains(".address_size 64"));
        assertTrue(CudaRuntime.ptxVersion(ptx).startsWith("PTX ISA 9.0 from nvcc 13.0"), CudaRuntime.ptxVersion(ptx));
    }

    @Test
    void sourceHashMatchesTheOneThePtxWasBuiltFrom() throws Exception {
        String recorded = Files.readString(RESOURCES.resolve("softmax_backward.cu.sha256"), StandardCharsets.US_ASCII)
                .strip();
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(SOURCE)));
        assertEquals(recorded, actual, "softmax_backward.cu changed since the PTX was built: run "
                + "cuda-backend/scripts/build-ptx.sh and commit the PTX and the .sha256");
    }

    @Test
    void everyKernelTheHostLaunchesIsAnEntryAndNoEntryIsUnused() throws Exception {
        Set<String> entries = new TreeSet<>();
        Matcher m = Pattern.compile("\\.visible \\.entry (\\w+)\\(").matcher(ptx());
        while (m.find()) {
            entries.add(m.group(1));
        }
        assertEquals(new TreeSet<>(CudaRuntime.kernelNames()), entries);
    }

    @Test
    void noFusedMultiplyAddOutsideTheDoubleDoubleSteps() throws Exception {
        // -fmad=false and the _rn intrinsics: the float32/bf16/fp16 kernels contain no fma at all
        String[] kernels = ptx().split("\n\\.visible \\.entry ");
        int checked = 0;
        for (int i = 1; i < kernels.length; i++) {
            String name = kernels[i].substring(0, kernels[i].indexOf('('));
            // the forward kernels call the GPU's exp, which uses fma internally (documented: not bitwise)
            if (!name.contains("f64") && !name.startsWith("sm_fwd_")) {
                assertTrue(!kernels[i].contains("fma.rn"), name + " contains an fma");
                checked++;
            }
        }
        assertTrue(checked > 20, "parsed " + checked + " kernels");
    }

    @Test
    void nvccReproducesTheCommittedPtx(@TempDir Path out) throws Exception {
        Assumptions.assumeTrue(onPath("nvcc"), "nvcc is not on the PATH: only the source hash is checked");
        String committed = Files.readString(RESOURCES.resolve("softmax_backward.ptx"), StandardCharsets.US_ASCII);
        String version = run("nvcc", "--version");
        Matcher release = Pattern.compile("release (\\S+),").matcher(version);
        Assumptions.assumeTrue(release.find() && committed.contains("release " + release.group(1) + ","),
                "nvcc here is not the release the committed PTX was built with; cannot compare byte for byte");
        run("bash", MODULE.resolve("scripts/build-ptx.sh").toString(), out.toString());
        assertEquals(committed, Files.readString(out.resolve("softmax_backward.ptx"), StandardCharsets.US_ASCII),
                "the committed PTX is stale: run cuda-backend/scripts/build-ptx.sh and commit");
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", command) + " timed out");
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + output);
        return output;
    }
}
