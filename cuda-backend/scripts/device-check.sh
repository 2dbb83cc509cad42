#!/usr/bin/env bash
# The cuda backend's whole GPU check, in one command, on a GPU machine that has an NVIDIA GPU, a CUDA 13
# driver, nvcc/cuobjdump, nvidia-smi and Python with PyTorch, but no Java, no Maven and no network.
# It needs the working tree plus .devrt (built by cuda-backend/scripts/build-devrt.sh on a development
# machine, at most 60 MiB) copied next to it.
#
#   bash cuda-backend/scripts/device-check.sh [OUTDIR]            # on the GPU machine
#   bash cuda-backend/scripts/device-check.sh --dry-run [OUTDIR]  # anywhere, without a GPU (see below)
#
# OUTDIR defaults to $OUT, else ./device-check-out. It receives at most 8 files, so that the results
# are few to collect:
#   device-check.log   everything, step by step, with times     nvidia-smi.txt  the device and driver
#   sass-128bit.txt    16-byte LDG/STG per kernel in the SASS    bench-cuda.md   our sweep
#   bench-torch.md     PyTorch eager on the same shapes          junit/          the conformance reports (2)
#
# Steps, each under `timeout`, with the time written down for it (the whole run must fit 6 minutes):
#   1. device        nvidia-smi, java -version                                         est.   5 s
#   2. smoke         the PTX loads (JIT time printed); every kernel family for all four dtypes, in place
#                    and not: sb_warp, sb_block, sb_reread, sb_split bitwise against the kernel model
#                    (== reference), ce_bwd bitwise against reference, sm_fwd within the documented
#                    2 ulp (GPU exp); on a mismatch it names the plan and the run stops est.  40 s
#   3. conformance   the conformance suite and properties with cuda selected, and CudaGpuTest
#                    (not PtxCurrencyTest: no sources to hash there)                   est.  90 s
#   4. leak          10^5 device-resident calls, device memory steady                  est.  40 s
#   5. bench         our sweep: CUDA events, 10 launches per event pair, L2 flushed (256 MiB memset)
#                    outside the events, inputs rotated through >= 256 MiB, next to the
#                    device-to-device copy of the same bytes rotated the same way      est.  90 s
#   6. torch         torch._softmax_backward_data and autograd of torch.softmax, and the copy, the same
#                    shapes timed the same way                                         est.  60 s
#   7. sass          count of 128-bit loads and stores in the sm_90 SASS               est.  20 s
#                                                                             total    est. 345 s
# Correctness steps (2-4) run with CUDA_LAUNCH_BLOCKING=1. Exit status: 0 when every step passed.
#
# --dry-run (no GPU needed): builds .devrt (cuda-backend/scripts/build-devrt.sh, JDK 17 and Maven
# needed there) and checks its size, then runs every step that needs no GPU: the JVM from .devrt starts,
# the smoke step reports cuda unavailable, the launcher finds the selected tests, cuda is reported
# unavailable and the GPU tests skip with the reason, the SASS count runs if nvcc and cuobjdump are
# there. Exits 0 when all of that holds.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
dry=0
if [[ "${1:-}" == "--dry-run" ]]; then dry=1; shift; fi
OUTDIR="${1:-${OUT:-$root/device-check-out}}"
DEVRT="${DEVRT:-$root/.devrt}"
mkdir -p "$OUTDIR"
exec > >(tee -a "$OUTDIR/device-check.log") 2>&1
status=0
started=$(date +%s)
step() { echo; echo "=== $* (at $(( $(date +%s) - started )) s, $(date -u +%FT%TZ))"; }
fail() { echo "FAILED: $*"; status=1; }
echo "device-check.sh $( ((dry)) && echo --dry-run ) $OUTDIR; git $(git rev-parse HEAD 2>/dev/null || echo '?') (the copy's .git may be older than its files); CUDA source sha256 $(sha256sum cuda-backend/src/main/cuda/softmax_backward.cu | cut -c1-16)"

if ((dry)); then
  step "0. build .devrt (dry run only)"
  bash cuda-backend/scripts/build-devrt.sh "$DEVRT" || { echo "FAILED: build-devrt.sh"; exit 1; }
fi
size_mib=$(( $(du -sk "$DEVRT" 2>/dev/null | cut -f1) / 1024 ))
echo ".devrt: $size_mib MiB (limit 60)"
(( size_mib <= 60 )) || fail ".devrt is $size_mib MiB, over 60 MiB"
JAVA="$DEVRT/jre/bin/java"
CP="$DEVRT/lib/*"
[[ -x "$JAVA" ]] || { echo "FAILED: no $JAVA: build .devrt with cuda-backend/scripts/build-devrt.sh"; exit 1; }
JQWIK_DB_DIR="$(mktemp -d "${TMPDIR:-/tmp}/jqwik.XXXXXX")"
# the GPU image keeps its CUDA tools and driver libraries outside the default paths on some machines
for d in /usr/local/cuda/bin /usr/local/cuda-13.0/bin; do [[ -d "$d" ]] && PATH="$PATH:$d"; done
if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [[ -e "$d/libcuda.so.1" ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
fi
export PATH

step "1. device (est. 5 s)"
if ((dry)); then
  echo "dry run: no nvidia-smi"
else
  timeout 20 nvidia-smi > "$OUTDIR/nvidia-smi.txt" 2>&1 || fail "nvidia-smi"
  timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >> "$OUTDIR/nvidia-smi.txt" 2>&1
  cat "$OUTDIR/nvidia-smi.txt"
fi
timeout 30 "$JAVA" -version || fail "the JVM from .devrt does not start"

step "2. smoke (est. 40 s)"
CUDA_LAUNCH_BLOCKING=1 timeout 90 "$JAVA" -cp "$CP" dev.softmaxbackward.cuda.DeviceCheck smoke
rc=$?
cuda_up=1
if ((dry)); then
  [[ $rc -eq 2 ]] || fail "dry run: the smoke step should report cuda unavailable (exit 2), got $rc"
elif [[ $rc -eq 2 ]]; then
  # one run is all the lease allows: say why cuda did not come up, skip the Java GPU steps, and still
  # run the PyTorch baseline and the SASS count
  fail "the smoke step: cuda unavailable (exit 2)"; cuda_up=0
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; ldconfig -p 2>/dev/null | grep -E 'libcuda\.so' || echo "ldconfig: no libcuda"
  ls -l /usr/local/nvidia/lib64/libcuda* /usr/lib/x86_64-linux-gnu/libcuda* 2>/dev/null
elif [[ $rc -ne 0 ]]; then
  # a mismatch or a crash: the later steps run in fresh JVMs and say more
  fail "the smoke step (exit $rc)"
fi

if ((cuda_up)); then
step "3. conformance with cuda selected (est. 90 s)"
rm -rf "$OUTDIR/junit"
CUDA_LAUNCH_BLOCKING=1 timeout 240 "$JAVA" -Dsoftmaxbackward.backend=cuda -cp "$CP" \
  org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=summary \
  --details-theme=ascii --config="jqwik.database=$JQWIK_DB_DIR/jqwik-database" \
  --exclude-engine=junit-vintage --exclude-engine=junit-platform-suite \
  --select-class dev.softmaxbackward.conformance.EveryBackendConformance \
  --select-class dev.softmaxbackward.conformance.EveryBackendProperties \
  --select-class dev.softmaxbackward.cuda.CudaGpuTest \
  --reports-dir "$OUTDIR/junit" > "$JQWIK_DB_DIR/conformance.txt" 2>&1
rc=$?
cat "$JQWIK_DB_DIR/conformance.txt"
[[ $rc -eq 0 ]] || fail "conformance (exit $rc)"
found=$(grep -Eo '[0-9]+ tests found' "$JQWIK_DB_DIR/conformance.txt" | head -1)
[[ -n "$found" && "$found" != "0 tests found" ]] || fail "the launcher found no tests"
skipped_gpu=$(cat "$OUTDIR"/junit/*.xml 2>/dev/null | grep -c "cuda unavailable")
if ((dry)); then
  (( skipped_gpu > 0 )) || fail "dry run: the GPU tests should skip with the reason 'cuda unavailable'"
  grep -q "backend 'cuda' .* UNAVAILABLE" "$JQWIK_DB_DIR/conformance.txt" || fail "dry run: cuda should report unavailable"
else
  (( skipped_gpu == 0 )) || fail "the GPU tests were skipped on the GPU machine: cuda did not come up"
fi

fi

if ((dry)); then
  step "4.-6. leak, bench, torch: need a GPU, not run in a dry run"
else
  if ((cuda_up)); then
    step "4. leak check (est. 40 s)"
    CUDA_LAUNCH_BLOCKING=1 timeout 120 "$JAVA" -cp "$CP" dev.softmaxbackward.cuda.DeviceCheck leak || fail "leak check"
    step "5. sweep, ours (est. 90 s)"
    timeout 180 "$JAVA" -Xmx8g -cp "$CP" dev.softmaxbackward.cuda.DeviceCheck bench > "$OUTDIR/bench-cuda.md" 2>&1 \
      || fail "bench"
    cat "$OUTDIR/bench-cuda.md"
  fi
  step "6. sweep, PyTorch eager (est. 60 s)"
  timeout 150 python3 cuda-backend/scripts/torch_baseline.py > "$OUTDIR/bench-torch.md" 2>&1 || fail "torch baseline"
  cat "$OUTDIR/bench-torch.md"
fi

step "7. 128-bit loads and stores in the SASS (est. 20 s)"
# the shipped PTX, assembled for sm_90 as the driver's JIT assembles it, with ptxas's resource report
# (registers, spills, shared memory) per kernel; then the 128-bit LDG/STG/LDS/STS per kernel
if command -v ptxas > /dev/null && command -v cuobjdump > /dev/null; then
  cubin="$JQWIK_DB_DIR/softmax_backward.sm_90.cubin"
  ptx=cuda-backend/src/main/resources/dev/softmaxbackward/cuda/softmax_backward.ptx
  if timeout 120 ptxas -arch=sm_90 -O3 -v -o "$cubin" "$ptx" > "$JQWIK_DB_DIR/ptxas.txt" 2>&1; then
    {
      echo "# ptxas -arch=sm_90 -O3 -v of the shipped PTX ($(ptxas --version | tail -1))"
      grep -E "Compiling entry|Used|spill" "$JQWIK_DB_DIR/ptxas.txt" | sed 's/^ptxas info *: //'
      echo
      echo "# 128-bit LDG/STG/LDS/STS per kernel (cuobjdump -sass)"
      timeout 60 cuobjdump -sass "$cubin" | awk '
        /Function : / { if (f != "") print f ": " n; f = $NF; n = 0 }
        /(LDG|STG|LDS|STS)[.A-Z0-9_]*\.128/ { n++ }
        END { if (f != "") print f ": " n }'
    } > "$OUTDIR/sass-128bit.txt"
    tail -50 "$OUTDIR/sass-128bit.txt"
  else
    cat "$JQWIK_DB_DIR/ptxas.txt"; fail "ptxas -arch=sm_90 of the shipped PTX"
  fi
else
  echo "no ptxas/cuobjdump here: skipped"
fi

rm -rf "$JQWIK_DB_DIR"
files=$(find "$OUTDIR" -type f | wc -l)
step "done: status $status, $files files in $OUTDIR, $(( $(date +%s) - started )) s"
(( files <= 8 )) || { echo "FAILED: $files files in $OUTDIR, more than 8"; status=1; }
exit $status
