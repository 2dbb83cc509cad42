#!/usr/bin/env bash
# Reproducible-build check (issue 12): builds the committed tree (HEAD) twice, in two independent
# copies under temporary directories, one after the other, with `./mvnw -B -q package -DskipTests`,
# and compares the SHA-256 of every jar the two builds produced, in every module (the shaded CLI jar
# and the test jars included). Exits 1 and names the jars when a jar differs or exists in one build
# only; exits 0 only when both builds produced the same, non-empty set of byte-identical jars.
# Entry times come from project.build.outputTimestamp in the parent POM.
#   scripts/check-reproducible.sh            # uses the JDK of JAVA_HOME (or the PATH), like ./mvnw
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/sb-repro.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS

build() { # $1: directory name; a fresh copy of HEAD's tracked files, built from scratch
  local dir="$work/$1"
  mkdir -p "$dir"
  git -C "$root" archive --format=tar HEAD | tar -x -C "$dir"
  echo "== build $1 in $dir"
  (cd "$dir" && ./mvnw -B -q package -DskipTests)
  (cd "$dir" && find . -path '*/target/*' -name '*.jar' -type f -print0 | sort -z | xargs -0 sha256sum) \
    > "$work/$1.sha256"
}

build a
build b

count=$(wc -l < "$work/a.sha256")
if [ "$count" -eq 0 ]; then
  echo "reproducibility: the build produced no jar" >&2
  exit 1
fi
if ! diff -u "$work/a.sha256" "$work/b.sha256" > "$work/diff.txt"; then
  echo "reproducibility: FAILED: these jars differ between two builds of the same commit (- first, + second):" >&2
  grep '^[-+][0-9a-f]' "$work/diff.txt" >&2 || cat "$work/diff.txt" >&2
  exit 1
fi
echo "reproducibility: $count jars byte-identical across two clean builds of $(git -C "$root" rev-parse --short HEAD) ($((SECONDS - start)) s):"
sed 's/^/  /' "$work/a.sha256"
