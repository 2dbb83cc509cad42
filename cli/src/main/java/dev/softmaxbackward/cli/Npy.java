package dev.softmaxbackward.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NumPy {@code .npy} files: float32 or float64, C order, 1-D or 2-D.
 *
 * <p>Reading is done here, strictly, rather than with ND4J's {@code Nd4j.createFromNpyFile}, because
 * that reader (1.0.0-M2.1, checked against NumPy 2.4 files) reads a Fortran-order file as if it were
 * C order (silently transposed data), reads past the end of a truncated file (garbage values, no
 * error), returns an empty {@code [0, 0]} array for a file cut inside its header, and kills the JVM
 * with a native assertion on a big-endian file. Each of those must be a clear error here.
 *
 * <p>Writing is done here too: ND4J's {@code Nd4j.toNpyByteArray} writes 2-D and non-empty 1-D arrays
 * that NumPy reads back exactly, but throws a NullPointerException on an empty 1-D array, and the
 * format is a 10-byte preamble and one line of header. The bytes go to a temporary file in the
 * target's directory that is then moved over the target atomically, so a failure leaves no partial file.
 * Without ND4J here, {@code run} also works where ND4J's natives do not load.
 */
final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private Npy() {}

    /** A bad file: what is wrong, in one line. */
    static final class FormatException extends Exception {
        private static final long serialVersionUID = 1L;

        FormatException(String message) {
            super(message);
        }
    }

    /**
     * An open .npy input, header checked, data not yet read: rows are read on demand, so a file far larger
     * than the heap streams through {@code run} a few rows at a time.
     */
    record Input(Path file, FileChannel ch, Header header, long dataStart) implements AutoCloseable {
        int[] shape() {
            return header.shape.clone();
        }

        boolean isFloat32() {
            return header.itemSize == 4;
        }

        int itemSize() {
            return header.itemSize;
        }

        String dtype() {
            return header.dtypeName();
        }

        long rows() {
            return header.shape.length == 1 ? 1 : header.shape[0];
        }

        int cols() {
            return header.shape[header.shape.length - 1];
        }

        String shapeString() {
            return header.shapeString();
        }

        /** Reads rows {@code first} to {@code first + n} into {@code dst} (a float[] or double[] of n * cols). */
        void readRows(long first, int n, Object dst) throws IOException {
            long count = (long) n * cols();
            long pos = dataStart + first * cols() * header.itemSize;
            ByteBuffer data = ByteBuffer.allocate((int) Math.min(count * header.itemSize, CHUNK_BYTES))
                    .order(header.order);
            int filled = 0;
            while (filled < count) {
                data.clear();
                data.limit((int) Math.min(data.capacity(), (count - filled) * header.itemSize));
                readFully(ch, data, pos);
                if (data.hasRemaining()) {
                    throw new IOException(file + ": the file shrank while it was being read");
                }
                pos += data.position();
                data.flip();
                int k = data.remaining() / header.itemSize;
                if (dst instanceof float[] f) {
                    data.asFloatBuffer().get(f, filled, k);
                } else {
                    data.asDoubleBuffer().get((double[]) dst, filled, k);
                }
                filled += k;
            }
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /** The I/O buffer size: independent of the array's size, so memory use is bounded. */
    static final int CHUNK_BYTES = 1 << 20;

    /**
     * Opens {@code file} and checks its header and size against each other; nothing of the data is read yet.
     * Only a regular file is accepted: a pipe or a device (process substitution, /dev/stdin from a pipe, a
     * FIFO) is refused from its attributes alone, before it is opened, since opening a FIFO without a writer
     * would block forever.
     */
    static Input open(Path file) throws FormatException {
        String name = Text.quote(file.toString());
        if (!Files.exists(file)) {
            throw new FormatException(name + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new FormatException(name + ": not a regular file (a pipe, FIFO, device or directory): "
                    + "save the array to a file and pass that");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            Input in = open(file, name, ch);
            ch = null;
            return in;
        } catch (NoSuchFileException e) {
            throw new FormatException(name + ": no such file");
        } catch (IOException e) {
            throw new FormatException(name + ": cannot read: " + Text.quote(e.toString()));
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing with the reason that matters
                }
            }
        }
    }

    private static Input open(Path file, String name, FileChannel ch) throws IOException, FormatException {
        long size = ch.size();
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pre, 0);
        pre.flip();
        if (pre.remaining() < 10) {
            throw new FormatException(name + ": not a .npy file (" + size + " bytes, too short for the header)");
        }
        byte[] magic = new byte[6];
        pre.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new FormatException(name + ": not a .npy file (no \\x93NUMPY magic at the start)");
        }
        int major = pre.get() & 0xff;
        int minor = pre.get() & 0xff;
        long headerLength;
        int preamble;
        if (major == 1 && minor == 0) {
            headerLength = pre.getShort() & 0xffff;
            preamble = 10;
        } else if ((major == 2 || major == 3) && minor == 0) {
            if (pre.remaining() < 4) {
                throw new FormatException(name + ": truncated in the .npy preamble");
            }
            headerLength = pre.getInt() & 0xffffffffL;
            preamble = 12;
        } else {
            throw new FormatException(name + ": unsupported .npy format version " + major + "." + minor);
        }
        if (preamble + headerLength > size) {
            throw new FormatException(name + ": truncated: the header says it is " + headerLength
                    + " bytes but the file has only " + (size - preamble) + " after the preamble");
        }
        if (headerLength > 1 << 20) {
            throw new FormatException(name + ": implausible .npy header length " + headerLength);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLength);
        readFully(ch, hb, preamble);
        String text = new String(hb.array(), 0, hb.position(),
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = Header.parse(text, name);
        long dataStart = preamble + headerLength;
        long count = 1;
        for (int d : h.shape) {
            count *= d;
        }
        long expected = count * h.itemSize;
        long actual = size - dataStart;
        if (actual < expected) {
            throw new FormatException(name + ": truncated: shape " + h.shapeString() + " of " + h.dtypeName()
                    + " needs " + expected + " data bytes but the file has " + actual);
        }
        if (actual > expected) {
            throw new FormatException(name + ": malformed: " + (actual - expected)
                    + " unexpected bytes after the data of shape " + h.shapeString());
        }
        return new Input(file, ch, h, dataStart);
    }

    /** Fills {@code buf} from {@code pos} on, or up to the end of the file. */
    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                return;
            }
            pos += n;
        }
    }

    /**
     * A .npy file being written, little-endian, C order, format version 1.0: rows are appended to a
     * temporary file in the target's directory, which {@link #commit} moves over the target atomically; on
     * {@link #close} without a commit the temporary file is removed and the target is left as it was.
     */
    static final class Output implements AutoCloseable {
        private final Path target;
        private final Path tmp;
        private final FileChannel ch;
        private final boolean float32;
        private final ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private boolean committed;

        Output(Path target, int[] shape, boolean float32) throws IOException {
            this.target = target.toAbsolutePath();
            this.float32 = float32;
            String dims = shape.length == 1 ? shape[0] + "," : shape[0] + ", " + shape[1];
            StringBuilder header = new StringBuilder("{'descr': '" + (float32 ? "<f4" : "<f8")
                    + "', 'fortran_order': False, 'shape': (" + dims + "), }");
            // NumPy pads the header with spaces so the data starts on a 64-byte boundary, and ends it with \n
            while ((MAGIC.length + 4 + header.length() + 1) % 64 != 0) {
                header.append(' ');
            }
            header.append('\n');
            this.tmp = Files.createTempFile(this.target.getParent(), "." + this.target.getFileName() + ".", ".tmp");
            // a JVM stopped part way (SIGTERM, the launcher gone) leaves no temporary file behind either
            tmp.toFile().deleteOnExit();
            FileChannel c = null;
            try {
                c = FileChannel.open(tmp, StandardOpenOption.WRITE);
                ByteBuffer pre = ByteBuffer.allocate(MAGIC.length + 4 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
                pre.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length())
                        .put(header.toString().getBytes(StandardCharsets.ISO_8859_1)).flip();
                writeFully(c, pre);
            } catch (IOException | RuntimeException e) {
                if (c != null) {
                    c.close();
                }
                Files.deleteIfExists(tmp);
                throw e;
            }
            this.ch = c;
        }

        /** Appends the first {@code n} entries of {@code data} (a float[] or double[]). */
        void append(Object data, int n) throws IOException {
            int size = float32 ? 4 : 8;
            int per = buf.capacity() / size;
            for (int from = 0; from < n; from += per) {
                int len = Math.min(per, n - from);
                buf.clear();
                if (float32) {
                    buf.asFloatBuffer().put((float[]) data, from, len);
                } else {
                    buf.asDoubleBuffer().put((double[]) data, from, len);
                }
                buf.limit(len * size);
                writeFully(ch, buf);
            }
        }

        /** Flushes to disk and moves the file over the target. */
        void commit() throws IOException {
            ch.force(true);
            ch.close();
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            committed = true;
        }

        @Override
        public void close() throws IOException {
            ch.close();
            if (!committed) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** The parsed header dictionary: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }. */
    private record Header(int[] shape, int itemSize, ByteOrder order) {
        String shapeString() {
            return shape.length == 1 ? "(" + shape[0] + ",)" : "(" + shape[0] + ", " + shape[1] + ")";
        }

        String dtypeName() {
            return itemSize == 4 ? "float32" : "float64";
        }

        /** Parses the header text of the file called {@code name} (already quoted for messages). */
        static Header parse(String text, String name) throws FormatException {
            Map<String, Object> dict;
            try {
                dict = new Literal(text).dict();
            } catch (IllegalArgumentException e) {
                throw new FormatException(name + ": malformed .npy header (" + e.getMessage() + "): "
                        + Text.quote(text.strip()));
            }
            if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
                throw new FormatException(name + ": malformed .npy header: keys " + Text.quote(dict.keySet().toString())
                        + ", expected descr, fortran_order, shape");
            }
            if (!(dict.get("descr") instanceof String descr)) {
                throw new FormatException(name + ": unsupported dtype " + Text.quote(String.valueOf(dict.get("descr")))
                        + ": expected float32 or float64");
            }
            if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
                throw new FormatException(name + ": malformed .npy header: fortran_order is "
                        + Text.quote(String.valueOf(dict.get("fortran_order"))));
            }
            if (!(dict.get("shape") instanceof List<?> dims)) {
                throw new FormatException(name + ": malformed .npy header: shape is "
                        + Text.quote(String.valueOf(dict.get("shape"))));
            }
            int itemSize;
            ByteOrder order;
            switch (descr) {
                case "<f4" -> { itemSize = 4; order = ByteOrder.LITTLE_ENDIAN; }
                case ">f4" -> { itemSize = 4; order = ByteOrder.BIG_ENDIAN; }
                case "<f8" -> { itemSize = 8; order = ByteOrder.LITTLE_ENDIAN; }
                case ">f8" -> { itemSize = 8; order = ByteOrder.BIG_ENDIAN; }
                default -> throw new FormatException(name + ": unsupported dtype '" + Text.quote(descr)
                        + "': expected float32 ('<f4') or float64 ('<f8')");
            }
            if (dims.size() != 1 && dims.size() != 2) {
                throw new FormatException(name + ": unsupported shape " + Text.quote(tuple(dims))
                        + ": expected 1-D or 2-D");
            }
            int[] shape = new int[dims.size()];
            for (int i = 0; i < shape.length; i++) {
                long d = (Long) dims.get(i);
                if (d > Integer.MAX_VALUE) {
                    throw new FormatException(name + ": shape " + tuple(dims) + " is too large");
                }
                shape[i] = (int) d;
            }
            // rows are streamed, so the total may exceed 2^31 entries; one row is one Java array
            if (shape[shape.length - 1] > Integer.MAX_VALUE - 8) {
                throw new FormatException(name + ": shape " + tuple(dims) + " has rows of more than 2^31 - 9 "
                        + "entries, more than a Java array holds");
            }
            // A 1-D array has the same bytes in either order; a 2-D Fortran-order one is the transpose.
            if (fortran && shape.length == 2) {
                throw new FormatException(name + ": Fortran-order (column-major) array of shape " + tuple(dims)
                        + ": save it in C order (numpy.ascontiguousarray) first");
            }
            return new Header(shape, itemSize, order);
        }
    }

    private static String tuple(List<?> dims) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(dims.get(i));
        }
        return sb.append(dims.size() == 1 ? ",)" : ")").toString();
    }

    /** Just enough of Python's literal syntax for a .npy header: a dict of str to str, bool or int tuple. */
    private static final class Literal {
        private final String s;
        private int i;

        Literal(String s) {
            this.s = s;
        }

        Map<String, Object> dict() {
            skip();
            expect('{');
            Map<String, Object> out = new LinkedHashMap<>();
            skip();
            while (peek() != '}') {
                String key = string();
                skip();
                expect(':');
                Object value = value();
                if (out.put(key, value) != null) {
                    throw new IllegalArgumentException("duplicate key '" + Text.quote(key) + "'");
                }
                separator('}');
            }
            i++;
            skip();
            if (i != s.length()) {
                throw new IllegalArgumentException("unexpected text after the dictionary at offset " + i);
            }
            return out;
        }

        /** After a dict entry or tuple item: a ',' and what follows it, or else {@code close} must come. */
        private void separator(char close) {
            skip();
            if (peek() == ',') {
                i++;
                skip();
            } else if (peek() != close) {
                throw new IllegalArgumentException("expected ',' or '" + close + "' at offset " + i);
            }
        }

        private Object value() {
            skip();
            char c = peek();
            if (c == '\'' || c == '"') {
                return string();
            }
            if (c == '(') {
                i++;
                List<Long> dims = new ArrayList<>();
                skip();
                while (peek() != ')') {
                    dims.add(integer());
                    separator(')');
                }
                i++;
                return dims;
            }
            if (s.startsWith("True", i)) {
                i += 4;
                return true;
            }
            if (s.startsWith("False", i)) {
                i += 5;
                return false;
            }
            // anything else (a structured dtype's list, a nested dict) is kept as text for the message
            throw new IllegalArgumentException("unsupported value at offset " + i);
        }

        private long integer() {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start || i - start > 12) {
                throw new IllegalArgumentException("expected a dimension at offset " + start);
            }
            if (i < s.length() && s.charAt(i) == 'L') {
                i++; // Python 2 long literal, as old NumPy wrote it
            }
            return Long.parseLong(s.substring(start, s.charAt(i - 1) == 'L' ? i - 1 : i));
        }

        private String string() {
            char q = peek();
            if (q != '\'' && q != '"') {
                throw new IllegalArgumentException("expected a string at offset " + i);
            }
            int end = s.indexOf(q, i + 1);
            if (end < 0) {
                throw new IllegalArgumentException("unterminated string at offset " + i);
            }
            String out = s.substring(i + 1, end);
            i = end + 1;
            return out;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at offset " + i);
            }
            i++;
        }

        private char peek() {
            if (i >= s.length()) {
                throw new IllegalArgumentException("header ends early");
            }
            return s.charAt(i);
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
    }
}
