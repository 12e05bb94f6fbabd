#!/usr/bin/env bash
# Coverage-guided fuzzing of the frame parser and request decoding, in one command:
#   tools/VectorStore.Fuzz/fuzz.sh [SECONDS=60] [SEED=1]
# Builds into a private directory, instruments the protocol and server code with SharpFuzz (edge coverage), then
# runs the in-process mutational fuzzer guided by that coverage. Crashing inputs land in fuzz-crashes/; copy them to
# tests/VectorStore.Tests/Protocol/FuzzRegressions/ once fixed so the regression test replays them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${TMPDIR:-/tmp}/vectorstore-fuzz-bin"
dotnet build "$root/tools/VectorStore.Fuzz" -c Release -o "$out" 2>&1 | grep -E "error|Build succeeded" | sort -u
dotnet "$out/VectorStore.Fuzz.dll" instrument "$out/VectorStore.Core.dll" "$out/VectorStore.Server.dll" "$out/VectorStore.Protocol.dll" \
    "$out/VectorStore.Abstractions.dll"
dotnet "$out/VectorStore.Fuzz.dll" run --seconds "${1:-60}" --seed "${2:-1}" --crashes "$root/fuzz-crashes" \
    --corpus "$root/tests/VectorStore.Tests/Protocol/FuzzRegressions"
