package dev.softmaxbackward.cli;

/** Text from outside (a file's header, a path) made safe to quote in a one-line message. */
final class Text {
    /** Quoted text is cut after about this many characters (whole escapes kept), then "...". */
    static final int MAX_QUOTED = 80;

    private Text() {}

    /** {@link #printable} of {@code s}, cut once the escaped text reaches {@link #MAX_QUOTED} characters. */
    static String quote(String s) {
        return escape(s, MAX_QUOTED);
    }

    /**
     * {@code s} with every character outside printable ASCII written as an escape ({@code \n}, {@code \t},
     * {@code \xNN}, backslash-u and four hex digits), so a message stays one line of plain text
     * whatever bytes a file held. Backslashes stay as they are, so escaping twice changes nothing.
     */
    static String printable(String s) {
        return escape(s, Integer.MAX_VALUE);
    }

    private static String escape(String s, int max) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), max) + 8);
        for (int i = 0; i < s.length(); i++) {
            if (out.length() >= max) {
                return out.append("...").toString();
            }
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                out.append(c);
                continue;
            }
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            }
        }
        return out.toString();
    }
}
