#!/usr/bin/env bash
# Regenerates the PTX the cuda backend loads, from src/main/cuda/softmax_backward.cu.
#
#   cuda-backend/scripts/build-ptx.sh            # writes into src/main/resources/dev/softmaxbackward/cuda
#   cuda-backend/scripts/build-ptx.sh DIR        # writes into DIR (PtxCurrencyTest compares the two)
#
# Writes softmax_backward.ptx and softmax_backward.cu.sha256 (the SHA-256 of the source the PTX was
# built from: the build checks it without nvcc). Commit both. The build itself never runs nvcc.
#
# Flags: compute_75 PTX (JIT-compiled by the driver on Turing and every later GPU); -fmad=false so no
# multiply-add is contracted into an fma (the kernels also use explicit _rn intrinsics); -O3.
#   cuda-backend/scripts/build-ptx.sh --report   # only prints ptxas's resource report for sm_90
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/src/main/cuda/softmax_backward.cu"
flags=(-fmad=false -O3 -std=c++17)
if [[ "${1:-}" == "--report" ]]; then
  exec nvcc -arch=sm_90 -cubin -Xptxas -v "${flags[@]}" -o /dev/null "$src"
fi
out="${1:-$here/src/main/resources/dev/softmaxbackward/cuda}"
flags=(-arch=compute_75 -ptx "${flags[@]}")
mkdir -p "$out"
nvcc "${flags[@]}" -o "$out/softmax_backward.ptx" "$src"
(cd "$(dirname "$src")" && sha256sum softmax_backward.cu) | cut -d' ' -f1 > "$out/softmax_backward.cu.sha256"
