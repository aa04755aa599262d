#!/usr/bin/env bash
# Builds the fuzz targets with clang-14 and libFuzzer (ASan and UBSan on) in
# build-fuzz/, then runs each for SECONDS (default 60) on its corpus.
# A crash leaves crash-* in build-fuzz/findings/NAME; turn it into a corpus
# file under fuzz/corpus/NAME so the normal test suite replays it forever.
#
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DWISP_FUZZ=ON
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(sed -n 's/^wisp_fuzzer(\([a-z_]*\).*/\1/p' fuzz/CMakeLists.txt))
fi
cmake --build build-fuzz --target "${targets[@]/%/_fuzzer}"
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/findings/$t" "build-fuzz/corpus/$t"
  echo "fuzzing $t for ${seconds}s"
  "build-fuzz/fuzz/${t}_fuzzer" -max_total_time="$seconds" -artifact_prefix="build-fuzz/findings/$t/" \
    "build-fuzz/corpus/$t" "fuzz/corpus/$t"
done
