#!/usr/bin/env bash
# Compiles batch.cpp (FAISS batched search, issue 21 item 4) against the FAISS library that the shared native peers
# build (../shared/peers/native/build.sh, about 12 minutes on two cores; run that first).
#   bench/native/build.sh [OUT]        # OUT defaults to bench/native/bin/batch
# env: NATIVE_WORK=${TMPDIR:-/tmp}/nativepeers (the peers' FAISS source and build tree)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${NATIVE_WORK:-${TMPDIR:-/tmp}/nativepeers}
OUT=${1:-$HERE/bin/batch}
LIB=
for name in faiss_avx512 faiss_avx2 faiss; do
  if [ -f "$WORK/faiss/build/faiss/lib$name.a" ]; then LIB=$WORK/faiss/build/faiss/lib$name.a; break; fi
done
[ -n "$LIB" ] || { echo "no FAISS library under $WORK/faiss/build: run ../shared/peers/native/build.sh first (its README)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
g++ -O3 -march=native -DNDEBUG -std=c++20 -fopenmp -I"$WORK/faiss" -o "$OUT" "$HERE/batch.cpp" "$LIB" -lopenblas
echo "built $OUT against $LIB" >&2
