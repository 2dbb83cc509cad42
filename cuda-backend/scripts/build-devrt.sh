#!/usr/bin/env bash
# Builds .devrt/ (a small JRE and the jars) for the GPU machine, which has no Java and no network
# (see /work/shared/GPU.md, "Running the cuda-backend on a real GPU"). Run on the development machine
# from the project root; .devrt must be git-ignored locally and is carried to the GPU machine:
#
#   echo /.devrt/ >> .git/info/exclude
#   cuda-backend/scripts/build-devrt.sh              # or: build-devrt.sh /some/other/dir
#   then, with the device tool: run(command="cuda-backend/scripts/device-check.sh", carry=[".devrt"])
#
# Never commit .devrt. It holds about 39 MB of JRE plus the jars (JCuda natives ~26 MB: under the 64 MiB
# the working tree may carry in all, the PTX included).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="${1:-$root/.devrt}"
cd "$root"
rm -rf "$dest"
mkdir -p "$dest/lib"
jlink --add-modules java.base,java.logging,jdk.unsupported,java.management,java.xml,jdk.zipfs \
      --strip-debug --no-man-pages --no-header-files --compress=2 --output "$dest/jre"
# the project's jars (main and test jars of core, cuda-backend and tests) ...
./mvnw -B -q -o install -DskipTests -pl core,cuda-backend -am
modules=(core cuda-backend)
if [[ -d tests/src ]]; then
  ./mvnw -B -q -o install -DskipTests -pl tests -am
  modules+=(tests)
fi
for m in "${modules[@]}"; do
  cp "$m"/target/*.jar "$dest/lib/"
  # test classes without a test-jar (the tests module's conformance suite): jar them up here
  if [[ -d "$m/target/test-classes" ]] && ! ls "$m"/target/*-tests.jar > /dev/null 2>&1; then
    jar cf "$dest/lib/softmax-backward-$m-tests.jar" -C "$m/target/test-classes" .
  fi
  # ... and what they need at run time and for tests (JCuda + natives, slf4j, JUnit)
  ./mvnw -B -q -o dependency:copy-dependencies -pl "$m" -DincludeScope=test -DexcludeTransitive=false \
        -DoutputDirectory="$dest/lib" -Dmdep.overWriteIfNewer=true
done
rm -f "$dest"/lib/slf4j-nop-*.jar           # keep one SLF4J binding: simple, so the probe's log shows
# the console launcher carries its own JUnit: drop the loose copies so the class path has one
rm -f "$dest"/lib/junit-*.jar "$dest"/lib/opentest4j-*.jar "$dest"/lib/apiguardian-*.jar
./mvnw -B -q -o dependency:copy -Dartifact=org.slf4j:slf4j-simple:2.0.17 -DoutputDirectory="$dest/lib"
./mvnw -B -q -o dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4 \
      -DoutputDirectory="$dest/lib"
du -sh "$dest/jre" "$dest/lib"
