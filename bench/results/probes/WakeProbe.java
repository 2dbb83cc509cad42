/*
 * A probe, not part of the build: what waking a parked thread costs on this machine, the step every RowExecutor
 * call on a pool thread takes. One thread parks; the main thread works (spins) for GAP µs, then unparks it and
 * times the unpark itself and the time until the woken thread runs. Used in stop 23 (bench/results/cpu-history.md).
 *
 *   javac -d /tmp/wake bench/results/probes/WakeProbe.java && java -cp /tmp/wake WakeProbe 2000 0,100,2000
 */
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

public final class WakeProbe {
    private static volatile long woke;
    private static volatile boolean parked;

    public static void main(String[] args) {
        int n = Integer.parseInt(args[0]);
        Thread sleeper = new Thread(() -> {
            while (true) {
                parked = true;
                LockSupport.park();
                if (!parked) {
                    woke = System.nanoTime();
                }
            }
        });
        sleeper.setDaemon(true);
        sleeper.start();
        double sink = 0;
        for (String gap : args[1].split(",")) {
            long gapNanos = Long.parseLong(gap) * 1000;
            long[] unpark = new long[n];
            long[] wake = new long[n];
            for (int i = 0; i < n; i++) {
                while (!parked) {
                    Thread.onSpinWait();
                }
                long end = System.nanoTime() + gapNanos;
                while (System.nanoTime() < end) {
                    sink += Math.sqrt(sink + 1);
                }
                woke = 0;
                long t0 = System.nanoTime();
                parked = false;
                LockSupport.unpark(sleeper);
                long t1 = System.nanoTime();
                while (woke == 0) {
                    Thread.onSpinWait();
                }
                unpark[i] = t1 - t0;
                wake[i] = woke - t0;
            }
            Arrays.sort(unpark);
            Arrays.sort(wake);
            System.out.printf("after %s µs of work: unpark p50 %.1f p90 %.1f µs; woken thread runs after p50 %.1f p90 %.1f µs%n",
                    gap, unpark[n / 2] / 1e3, unpark[n * 9 / 10] / 1e3, wake[n / 2] / 1e3, wake[n * 9 / 10] / 1e3);
        }
        if (sink == -1) {
            System.out.println();
        }
    }
}
