package dev.softmaxbackward.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TextTest {
    @Test
    void controlAndNonAsciiCharactersAreEscaped() {
        assertEquals("a\\nb\\r\\t\\x00\\x7f\\xff\\u20ac\\", Text.printable("a\nb\r\t\u0000\u007f\u00ff\u20ac\\"));
        String once = Text.printable("x\ny");
        assertEquals(once, Text.printable(once));
        assertEquals("plain text", Text.printable("plain text"));
    }

    @Test
    void quotedTextIsCutAtEightyCharacters() {
        String eighty = "x".repeat(80);
        assertEquals(eighty, Text.quote(eighty));
        assertEquals(eighty + "...", Text.quote(eighty + "yz"));
        assertEquals("\\n".repeat(40) + "...", Text.quote("\n".repeat(200)));
    }
}
