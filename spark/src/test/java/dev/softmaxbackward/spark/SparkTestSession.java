package dev.softmaxbackward.spark;

import org.apache.spark.sql.SparkSession;

/** One local session for every test class in the JVM: two threads, a failed task retried once. */
final class SparkTestSession {
    private static SparkSession session;

    private SparkTestSession() {}

    static synchronized SparkSession get() {
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
