#!/usr/bin/env bash
# The cuda backend's whole GPU check, in one call, on the GPU machine (H100/H200, CUDA 13 driver,
# PyTorch, no Java, no network). Everything goes under $OUT (the device tool's output folder).
#
#   on the development machine:  echo /.devrt/ >> .git/info/exclude; cuda-backend/scripts/build-devrt.sh
#   then with the device tool:   run(command="bash cuda-backend/scripts/device-check.sh", carry=[".devrt"])
#
# Steps (each one's output in its own file, and all of it in $OUT/device-check.log):
#   1. nvidia-smi (the device line for bench/results/gpu-<device>.md)
#   2. the conformance suite with the cuda backend selected (-Dsoftmaxbackward.backend=cuda): every
#      test class in the carried test jars (cuda-backend's CudaGpuTest: bitwise equality with reference
#      for every variant and dtype; the tests module's suite when its test jar is there)
#   3. the leak check: 10^5 device-resident calls, device memory steady
#   4. the benchmark sweep (CUDA events, median of 50, inputs rotated past L2, D2D copy of the same bytes)
#   5. the PyTorch baselines on the same shapes (torch._softmax_backward_data, autograd, copy)
# The exit status is non-zero if any step failed; later steps still run. To stay inside one call's
# time limit, steps can be chosen: device-check.sh conformance leak   (names: device conformance leak
# bench torch; default: all; "device" also prints the ptxas report and counts 16-byte SASS loads).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
OUT="${OUT:-$root/device-check-out}"
DEVRT="${DEVRT:-$root/.devrt}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/device-check.log") 2>&1
JAVA="$DEVRT/jre/bin/java"
CP="$DEVRT/lib/*"
status=0
step() { echo; echo "=== $* ($(date -u +%FT%TZ))"; }
want() { [[ $# -eq 0 ]] && return 0; local s; for s in "${STEPS[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }
STEPS=("$@")
[[ ${#STEPS[@]} -eq 0 ]] && STEPS=(device conformance leak bench torch)

if want device; then
step "1. device"
echo "command: $0 $*"; echo "git: $(git rev-parse HEAD 2>/dev/null || echo '?')"
nvidia-smi | tee "$OUT/nvidia-smi.txt" || status=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory --format=csv \
  | tee "$OUT/nvidia-smi-line.csv"
"$JAVA" -version 2>&1

step "1b. compiler: ptxas resource report for sm_90 and 16-byte loads in the SASS"
if command -v nvcc > /dev/null; then
  bash cuda-backend/scripts/build-ptx.sh --report > "$OUT/ptxas-sm90.txt" 2>&1 || status=1
  grep -c "Used" "$OUT/ptxas-sm90.txt"; grep -E "spill (stores|loads)" "$OUT/ptxas-sm90.txt" | grep -v " 0 bytes spill" || echo "no spills"
  if command -v cuobjdump > /dev/null; then
    nvcc -arch=sm_90 -cubin -fmad=false -O3 -std=c++17 -o "$OUT/softmax_backward.sm_90.cubin" \
      cuda-backend/src/main/cuda/softmax_backward.cu && cuobjdump -sass "$OUT/softmax_backward.sm_90.cubin" > "$OUT/sass-sm90.txt"
    for k in sb_block_f32 sb_reread_f32 sb_split_output_f32 sb_block_bf16; do
      echo "$k: $(cuobjdump -sass -fun "$k" "$OUT/softmax_backward.sm_90.cubin" | grep -cE '(LDG|STG)[.A-Z0-9]*\.128') 16-byte LDG/STG"
    done
  fi
else
  echo "no nvcc here"
fi

fi

if want conformance; then
step "2. conformance with cuda selected"
roots=$(ls "$DEVRT"/lib/*-tests.jar 2>/dev/null | paste -sd: -)
"$JAVA" -Dsoftmaxbackward.backend=cuda -Dorg.slf4j.simpleLogger.defaultLogLevel=info -cp "$CP" \
  org.junit.platform.console.ConsoleLauncher execute --scan-class-path "$roots" \
  --reports-dir "$OUT/junit" --details=tree --disable-banner 2>&1 | tee "$OUT/conformance.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
# a GPU run must not skip the GPU tests: their assumption failing means the backend did not come up
if grep -q "Assumption failed: cuda unavailable" "$OUT/conformance.txt"; then
  echo "FAILED: the GPU tests were skipped on the GPU machine: cuda did not come up (reason above)"; status=1
fi

fi

if want leak; then
step "3. leak check"
"$JAVA" -cp "$CP" dev.softmaxbackward.cuda.DeviceCheck leak 2>&1 | tee "$OUT/leak.txt"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

fi

if want bench; then
step "4. benchmark sweep (cuda)"
"$JAVA" -Xmx8g -cp "$CP" dev.softmaxbackward.cuda.DeviceCheck bench 2>&1 | tee "$OUT/bench-cuda.md"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

fi

if want torch; then
step "5. PyTorch baselines"
python3 cuda-backend/scripts/torch_baseline.py 2>&1 | tee "$OUT/bench-torch.md"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

fi

step "done: status $status"
exit $status
