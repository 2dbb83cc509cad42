package dev.softmaxbackward.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemoryTest {
    @Test
    void whatFitsPassesAndWhatDoesNotNamesTheNumbersAndAnXmxThatFits() {
        long gib = 1L << 30;
        Memory.require(800L << 20, "small", gib);
        Main.CliException e = assertThrows(Main.CliException.class, () -> Memory.require(900L << 20, "big", gib));
        assertEquals(Main.USAGE, e.exitCode);
        assertEquals("big needs about 900 MiB of heap, more than this JVM can give it (max heap 1024 MiB): run with "
                + "java -Xmx2g -jar ..., or use a smaller size", e.getMessage());
        // the suggestion really fits, and is not far above what is needed
        for (long bytes : new long[] {1, 100L << 20, 900L << 20, 5L * gib, 6656L << 20}) {
            String x = Memory.xmx(bytes);
            long heap = Long.parseLong(x.substring(4, x.length() - 1)) << (x.endsWith("g") ? 30 : 20);
            Memory.require(bytes, "x", heap);
            assertTrue(heap <= bytes / Memory.USABLE + Memory.OVERHEAD + gib, x);
        }
        assertEquals("-Xmx65m", Memory.xmx(1));
    }

    @Test
    void trainCountsItsArrays() {
        // the largest its flags allow: 2 x 8 + 2 x 4 bytes per table entry, 5 x 4 per batch entry, 8 per sequence
        assertEquals(24L * 8192 * 8192 + 20L * 32768 * 8192 + 8L * 32768, TrainCommand.heapBytes(8192, 32768));
        assertEquals("-Xmx9g", Memory.xmx(TrainCommand.heapBytes(8192, 32768)));
    }
}
