#!/bin/sh
# Builds the C kernel of the reference's numerics (softmax_backward_ref.c) into $1 (the bench build
# calls this from the `bench` profile). Without gcc, or when the compile fails, it writes $1/NOTE
# saying why, and BenchMain reports the C rows as not measured with that reason.
out="$1"
src="$(dirname "$0")/softmax_backward_ref.c"
mkdir -p "$out"
rm -f "$out/NOTE" "$out/softmax_backward_ref"
if ! command -v gcc >/dev/null 2>&1; then
  echo "no C kernel: gcc is not on the PATH of the bench build" > "$out/NOTE"
  cat "$out/NOTE"
  exit 0
fi
flags="-O3 -march=native -ffp-contract=off -fopenmp"
if gcc $flags -o "$out/softmax_backward_ref" "$src" -lm 2> "$out/gcc.log"; then
  echo "gcc $flags ($(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion))" > "$out/FLAGS"
  cat "$out/FLAGS"
else
  { echo "no C kernel: gcc $flags failed:"; cat "$out/gcc.log"; } > "$out/NOTE"
  cat "$out/NOTE"
fi
exit 0
