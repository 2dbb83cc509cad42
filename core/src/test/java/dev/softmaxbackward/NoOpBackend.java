package dev.softmaxbackward;

/** A backend whose six array methods do nothing, for tests of selection and of the SPI's defaults. */
abstract class NoOpBackend implements SoftmaxBackwardBackend {
    @Override public void softmaxBackward(float[] g, float[] y, float[] gi, int rows, int cols) {}
    @Override public void softmaxBackward(double[] g, double[] y, double[] gi, int rows, int cols) {}
    @Override public void softmax(float[] x, float[] out, int rows, int cols) {}
    @Override public void softmax(double[] x, double[] out, int rows, int cols) {}
    @Override public void crossEntropyBackward(float[] y, int[] l, float s, float[] gi, int rows, int cols) {}
    @Override public void crossEntropyBackward(double[] y, int[] l, double s, double[] gi, int rows, int cols) {}
}
