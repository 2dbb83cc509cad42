package dev.softmaxbackward.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ArgumentsTest {

    static String iae(Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    @Test
    void messagesNameTheArgumentAndTheNumbers() {
        assertEquals("gradOut.length 6 != rows*cols = 2*4",
                iae(() -> Arguments.softmaxBackward(new float[6], new float[8], new float[8], 2, 4)));
        assertEquals("softmaxOut.length 7 != rows*cols = 2*4",
                iae(() -> Arguments.softmaxBackward(new double[8], new double[7], new double[8], 2, 4)));
        assertEquals("gradIn.length 9 != rows*cols = 2*4",
                iae(() -> Arguments.softmaxBackward(new float[8], new float[8], new float[9], 2, 4)));
        assertEquals("rows -1 < 0", iae(() -> Arguments.size(-1, 4)));
        assertEquals("cols -4 < 0", iae(() -> Arguments.size(1, -4)));
        assertEquals("rows*cols = 65536*65536 = 4294967296 overflows int (max 2147483647)",
                iae(() -> Arguments.softmax(new float[0], new float[0], 65536, 65536)));
        assertEquals("out.length 3 != rows*cols = 1*4",
                iae(() -> Arguments.softmax(new double[4], new double[3], 1, 4)));
        assertEquals("labels.length 3 != rows 2",
                iae(() -> Arguments.crossEntropyBackward(new float[8], new int[3], new float[8], 2, 4)));
        assertEquals("labels[1] = 4 is outside [0, cols) = [0, 4) and is not the ignore index -100",
                iae(() -> Arguments.crossEntropyBackward(new double[8], new int[] {0, 4}, new double[8], 2, 4)));
        assertEquals("labels[0] = -1 is outside [0, cols) = [0, 4) and is not the ignore index -100",
                iae(() -> Arguments.labels(new int[] {-1}, 1, 4)));
        Arguments.labels(new int[] {-100, 3}, 2, 4);
        Arguments.softmaxBackward(new float[0], new float[0], new float[0], 0, 5);
        Arguments.softmaxBackward(new float[0], new float[0], new float[0], 7, 0);
    }

    @Test
    void nullsAreNamed() {
        assertEquals("softmaxOut must not be null", assertThrows(NullPointerException.class,
                () -> Arguments.softmaxBackward(new float[1], null, new float[1], 1, 1)).getMessage());
        assertEquals("labels must not be null", assertThrows(NullPointerException.class,
                () -> Arguments.crossEntropyBackward(new float[1], null, new float[1], 1, 1)).getMessage());
    }
}
