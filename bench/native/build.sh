#!/usr/bin/env bash
# Compiles batch.cpp (FAISS batched search, issue 21 item 4) and kernel.cpp (FAISS's 4-bit fast-scan kernel alone,
# item 2) against the FAISS library that the shared native peers build (../shared/peers/native/build.sh, about 12
# minutes on two cores; run that first).
#   bench/native/build.sh [OUT]        # OUT defaults to bench/native/bin/batch; the kernel goes beside it as kernel
# env: FAISS_LIB=faiss_avx2 picks another of the build tree's libraries (default: the first of faiss_avx512,
#      faiss_avx2, faiss; the peers' build makes faiss_avx512 only, `cmake --build $WORK/faiss/build --target
#      faiss_avx2 -j2` the AVX2 one); KERNEL_OUT names the kernel binary (default: kernel beside OUT)
# env: NATIVE_WORK=${TMPDIR:-/tmp}/nativepeers (the peers' FAISS source and build tree)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${NATIVE_WORK:-${TMPDIR:-/tmp}/nativepeers}
OUT=${1:-$HERE/bin/batch}
LIB=
for name in ${FAISS_LIB:-faiss_avx512 faiss_avx2 faiss}; do
  if [ -f "$WORK/faiss/build/faiss/lib$name.a" ]; then LIB=$WORK/faiss/build/faiss/lib$name.a; break; fi
done
[ -n "$LIB" ] || { echo "no ${FAISS_LIB:-FAISS} library under $WORK/faiss/build: run ../shared/peers/native/build.sh first (its README), and for faiss_avx2 then: cmake --build $WORK/faiss/build --target faiss_avx2 -j2" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
g++ -O3 -march=native -DNDEBUG -std=c++20 -fopenmp -I"$WORK/faiss" -o "$OUT" "$HERE/batch.cpp" "$LIB" -lopenblas
echo "built $OUT against $LIB" >&2
KERNEL_OUT=${KERNEL_OUT:-$(dirname "$OUT")/kernel}
mkdir -p "$(dirname "$KERNEL_OUT")"
g++ -O3 -march=native -DNDEBUG -std=c++20 -fopenmp -I"$WORK/faiss" -o "$KERNEL_OUT" "$HERE/kernel.cpp" "$LIB" -lopenblas
echo "built $KERNEL_OUT against $LIB" >&2
