package dev.softmaxbackward.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

class MarkovTrainingTest {
    @Test
    void distributedTrainingConvergesLikeTheSingleMachineOne() {
        MarkovTraining training = new MarkovTraining(32, 512, 4, 7);
        int steps = 120;
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
        double spark = training.crossEntropy(training.train(jsc, steps, step -> { }));
        double local = training.crossEntropy(training.trainLocally(new ReferenceBackend(), steps));
        double start = training.crossEntropy(new float[32 * 32]);
        String numbers = "spark " + spark + ", one machine " + local + ", start " + start + ", H " + training.entropyRate;
        assertTrue(Math.abs(spark - local) <= 0.01 * local, numbers);
        // it learned: more than half of the way from the uniform model to the entropy rate
        assertTrue(spark - training.entropyRate < 0.5 * (start - training.entropyRate), numbers);
    }
}
