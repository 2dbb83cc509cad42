#!/usr/bin/env bash
# Builds .devrt/ for a GPU machine that has no Java, no Maven and no network: a jlink JRE and the jars
# that device-check.sh needs. Run from the project root of a checkout on a development machine (JDK 17,
# network for Maven Central the first time); .devrt is git-ignored: copy it, next to the working tree,
# to the GPU machine.
#
#   cuda-backend/scripts/build-devrt.sh            # or: build-devrt.sh OTHER_DIR
#
# What goes in (and nothing else: no ND4J, no cpu backend):
#   jre/   jlink of java.base, java.logging, java.management, java.xml, jdk.unsupported, jdk.zipfs
#   lib/   the project's jars: core, cuda-backend (main and test jar), conformance-kit, tests;
#          jcuda and jcuda-natives (linux-x86_64); slf4j-api and slf4j-simple; jqwik's api and engine;
#          the JUnit console launcher (standalone). Versions are the build's own.
# Size: at most 60 MiB in all, so that the tree and .devrt copy quickly (checked at the end; the script
# fails above it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="${1:-$root/.devrt}"
limit_mib=60
cd "$root"
rm -rf "$dest"
mkdir -p "$dest/lib"
# package (never install: a shared local repository must not get this checkout's snapshots) and, in
# the same reactor, the run-time dependencies of core, cuda-backend and tests: jcuda, jcuda-natives,
# slf4j-api, JUnit Jupiter and jqwik (the tests module's kit is written against them; its test-scoped
# cpu backend and ND4J are left out)
./mvnw -B -q package dependency:copy-dependencies -DskipTests -pl core,cuda-backend,conformance-kit,tests -am \
      -DincludeScope=runtime -DexcludeGroupIds=dev.softmaxbackward -DoutputDirectory="$dest/deps"
# -am brings the cpu backend (a test dependency of tests) into the reactor: keep only what is named here
for jar in "$dest"/deps/*.jar; do
  case "$(basename "$jar")" in
    jcuda-*.jar|slf4j-api-*.jar|jqwik-*.jar) mv "$jar" "$dest/lib/" ;;
  esac
done
rm -rf "$dest/deps"
jlink --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.zipfs \
      --strip-debug --no-man-pages --no-header-files --compress=2 --output "$dest/jre"
cp core/target/softmax-backward-core-*.jar cuda-backend/target/softmax-backward-cuda-*.jar \
   conformance-kit/target/softmax-backward-conformance-kit-*.jar tests/target/softmax-backward-tests-*.jar "$dest/lib/"
rm -f "$dest"/lib/*-sources.jar "$dest"/lib/*-javadoc.jar
# the console launcher carries the JUnit Platform and Jupiter: drop the loose copies (one of each)
rm -f "$dest"/lib/junit-*.jar "$dest"/lib/opentest4j-*.jar "$dest"/lib/apiguardian-*.jar
version() { ./mvnw -B -q help:evaluate -N -Dexpression="$1" -DforceStdout; }
slf4j="$(version slf4j.version)"
junit_platform="$(version junit.version | sed 's/^5\./1./')"   # JUnit 5.x.y ships platform 1.x.y
for artifact in "org.slf4j:slf4j-simple:$slf4j" \
                "org.junit.platform:junit-platform-console-standalone:$junit_platform"; do
  ./mvnw -B -q dependency:copy -Dartifact="$artifact" -DoutputDirectory="$dest/lib"
done
ls -1 "$dest/lib"
size_mib=$(( $(du -sk "$dest" | cut -f1) / 1024 ))
echo ".devrt: ${size_mib} MiB (jre $(du -sh "$dest/jre" | cut -f1), lib $(du -sh "$dest/lib" | cut -f1)); limit ${limit_mib} MiB"
if (( size_mib > limit_mib )); then
  echo "FAILED: .devrt is ${size_mib} MiB, over its ${limit_mib} MiB limit" >&2
  exit 1
fi
