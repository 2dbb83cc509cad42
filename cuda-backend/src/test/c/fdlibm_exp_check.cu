// Host build of the kernels' fdlibm_exp, for FdlibmExpPortTest: reads little-endian doubles from
// stdin, writes fdlibm_exp of each to stdout (8 bytes each). The test compares with StrictMath.exp.
//   nvcc -O2 -Xcompiler -ffp-contract=off -o fdlibm_exp_check fdlibm_exp_check.cu
#include <cstdio>

#include "../../main/cuda/softmax_backward.cu"

int main() {
    double x[4096];
    size_t n;
    while ((n = fread(x, sizeof(double), 4096, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) x[i] = fdlibm_exp(x[i]);
        if (fwrite(x, sizeof(double), n, stdout) != n) return 1;
    }
    return 0;
}
