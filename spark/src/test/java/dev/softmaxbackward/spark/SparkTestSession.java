package dev.softmaxbackward.spark;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;

/** One local session for every test class in the JVM: two threads, a failed task retried once. */
final class SparkTestSession {
    private static SparkSession session;

    private SparkTestSession() {}

    static synchronized SparkSession get() {
        // Spark 4.0 supports Java 17 and 21; its Hadoop client calls Subject.getSubject, which JDK 24+
        // no longer supports (JEP 486), so no SparkSession can start there.
        Assumptions.assumeTrue(Runtime.version().feature() < 24, () -> "Spark 4.0 does not run on JDK "
                + Runtime.version().feature() + " (Hadoop's Subject.getSubject is unsupported from JDK 24): Spark tests"
                + " run on JDK 17 and 21");
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[2,2]") // 2 threads, spark.task.maxFailures = 2
                    .appName("softmax-backward-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
        }
        return session;
    }
}
