package dev.softmaxbackward.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class MainTest {
    @Command(name = "greedy")
    static final class Greedy implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new OutOfMemoryError("Java heap space");
        }
    }

    @Test
    void anUnforeseenOutOfMemoryErrorIsOneLineAndExitFour() {
        CommandLine cl = new CommandLine(new Greedy());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(Main.INTERNAL, Main.execute(cl, new String[0]));
        String text = err.toString().strip();
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("greedy: out of memory (max heap ") && text.contains("Java heap space")
                && text.contains("-Xmx"), text);
    }

    @Test
    void messagesStayOneLine() {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        int code = Main.execute(cl, new String[] {"run", "--grad-out", "no\nsuch\u0001file", "--softmax-out", "y",
            "--out", "o"});
        assertEquals(Main.USAGE, code);
        assertEquals("softmax-backward run: no\\nsuch\\x01file: no such file", err.toString().strip());
        StringWriter usage = new StringWriter();
        cl.setErr(new PrintWriter(usage));
        assertEquals(Main.USAGE, Main.execute(cl, new String[] {"bench", "--rows", "1\n2"}));
        assertTrue(usage.toString().lines().findFirst().orElseThrow().contains("'1\\n2'"), usage.toString());
    }
}
