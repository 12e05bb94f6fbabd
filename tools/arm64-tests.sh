#!/usr/bin/env bash
# The kernel and codec tests on Arm64, under user-mode emulation, from this x64 machine (issue 18).
#
# Publishes tests/VectorStore.Tests self-contained for linux-arm64 (the Arm64 runtime pack comes from NuGet) and runs
# the published executable (its own in-process runner, tests/VectorStore.Tests/TestProgram.cs) under qemu-aarch64
# three times: the kernel and codec test classes with the NEON paths (AdvSimd and the dot-product extension), the
# int8 kernel tests without the dot-product extension (the widening paths of Cortex-A53/A72 boards), and the kernel
# test classes with every hardware intrinsic off (the scalar references), as .ci/run reruns the x86 kernel tests per
# SIMD level.
# The kernel tests compare each path with its scalar reference (integer kernels exactly); Arm64IntrinsicsKernelTests
# and the ISA line checked below prove that each pass took the paths it was meant to.
#
# Exits 0 only when every pass ran tests and none failed. Its last "Passed!/Failed!" line totals the three passes in
# `dotnet test`'s format, which .ci/run counts. Timings under emulation say nothing about speed: this is correctness.
#
# Environment: ARM64_TESTS_FILTER (comma-separated words a test's Namespace.Class.Method must contain, for every pass;
# default: kernel and codec test classes in the first pass, kernel test classes in the others), ARM64_TESTS_EXCLUDE
# (words that drop a test; default the training-heavy codec tests named below), ARM64_TESTS_DIR (work folder; default
# artifacts/arm64 in this checkout, ignored by git), ARM64_TESTS_TIMEOUT (seconds per pass; default 900).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work=${ARM64_TESTS_DIR:-$PWD/artifacts/arm64}
timeout_s=${ARM64_TESTS_TIMEOUT:-900}
# The Arm64 loader, libc, libstdc++ and libgcc_s of Debian's cross packages; qemu is pointed at them with -L, so no
# binfmt registration (which needs a privileged mount) and no multiarch dpkg set-up is needed.
sysroot=/usr/aarch64-linux-gnu
started=$(date +%s)

need=()
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
for pkg in libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "arm64-tests: installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
qemu=$(command -v qemu-aarch64-static)
echo "arm64-tests: $("$qemu" --version | head -n 1)"

# A separate artifacts folder: the Arm64 build never touches the bin/ and obj/ of the x64 build that .ci/run reuses.
mkdir -p "$work"
echo "arm64-tests: publishing tests/VectorStore.Tests for linux-arm64"
dotnet publish tests/VectorStore.Tests -c Release -r linux-arm64 --self-contained \
  --artifacts-path "$work/artifacts" -o "$work/bin" 2>&1 | tail -n 2
exe="$work/bin/VectorStore.Tests"
[ -x "$exe" ] || { echo "arm64-tests: $exe was not produced"; exit 1; }
echo "arm64-tests: published in $(( $(date +%s) - started )) s"

# DOTNET_EnableWriteXorExecute=0 is required under qemu-user. With W^X the runtime writes JIT-compiled code through a
# second, writable mapping of the executable pages; qemu notices code changes only through writes to the pages it has
# translated, so when the runtime reuses code memory (reflection invoke stubs are short-lived) qemu goes on running
# its stale translation: NullReferenceException inside InvokeStub_* and "Illegal instruction" crashes, gone with W^X
# off. DOTNET_TieredCompilation=0 compiles each method once, fully optimized: under emulation the JIT itself runs
# emulated and tier-0 loops are slow, so this halves the run (measured 338 s -> 185 s for the first pass).
common="DOTNET_EnableWriteXorExecute=0 DOTNET_TieredCompilation=0"
# Bounded time. Float training (k-means, OPQ, PCA) is what qemu emulates slowest, so the codec tests that train many
# codecs stay on x64: the recall measurement and the three round-trip tests took 280 s of the first pass, where the
# kernel tests that check each path against its reference take 60 s. The dot-product extension only changes the int8
# kernels, so the pass without it runs the classes that use them.
exclude=${ARM64_TESTS_EXCLUDE-CompressedSearchFindsMostTrueNeighbours,RoundTripIsByteIdenticalAndEncodesTheSame,AsymmetricDistanceMatchesDistanceToReconstruction,ParametersRoundTripByteForByte}
# Each pass: label | environment | the ISA line the runner must print | filter.
passes=(
  "NEON (AdvSimd, dot product)|$common|AdvSimd=True Dp=True V128=True|${ARM64_TESTS_FILTER:-Kernel,CodecTests.}"
  "NEON without the dot-product extension|$common DOTNET_EnableArm64Dp=0|AdvSimd=True Dp=False V128=True|${ARM64_TESTS_FILTER:-DistanceKernelTests.,Sq8TraversalKernelTests.,Arm64IntrinsicsKernelTests.}"
  "scalar (hardware intrinsics off)|$common DOTNET_EnableHWIntrinsic=0|AdvSimd=False Dp=False V128=False|${ARM64_TESTS_FILTER:-Kernel}"
)

passed=0; failed=0; skipped=0; bad=0
for pass in "${passes[@]}"; do
  IFS='|' read -r label vars isa filter <<<"$pass"
  echo "== arm64 tests, $label: $vars, filter $filter"
  log=$(mktemp)
  t0=$(date +%s)
  set +e
  # shellcheck disable=SC2086 # $vars is a list of NAME=value words
  env $vars timeout "$timeout_s" "$qemu" -L "$sysroot" "$exe" --filter "$filter" --exclude "$exclude" --slowest 5 >"$log" 2>&1
  rc=$?
  set -e
  # The runner's own summary line is renamed so that only the total below reads as a `dotnet test` result.
  sed -E 's/^(Passed|Failed)!/\1 (this pass)/' "$log"
  line=$(grep -E "^(Passed|Failed)!" "$log" | tail -n 1 || true)
  p=$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line"); f=$(sed -nE 's/.*Failed: *([0-9]+).*/\1/p' <<<"$line"); s=$(sed -nE 's/.*Skipped: *([0-9]+).*/\1/p' <<<"$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  why=""
  if [ "$rc" -eq 124 ]; then why="timed out after $timeout_s s"
  elif [ "$rc" -ne 0 ]; then why="exit code $rc"
  elif [ -z "$line" ] || [ "${p:-0}" -eq 0 ]; then why="no test ran"
  elif ! grep -q "$isa" "$log"; then why="expected '$isa' in the runner's first line"
  fi
  if [ -n "$why" ]; then bad=$((bad + 1)); echo "== arm64 tests, $label: FAILED ($why)"; fi
  echo "== arm64 tests, $label: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped in $(( $(date +%s) - t0 )) s"
  rm -f "$log"
done

# A pass that failed without a failing test (crash, timeout, wrong ISA) still fails the total.
if [ "$bad" -gt 0 ] && [ "$failed" -eq 0 ]; then failed=$bad; fi
total=$((passed + failed + skipped))
verdict=$([ "$bad" -eq 0 ] && [ "$failed" -eq 0 ] && echo "Passed!" || echo "Failed!")
echo "$verdict  - Failed: $failed, Passed: $passed, Skipped: $skipped, Total: $total, Duration: $(( $(date +%s) - started )) s - VectorStore.Tests (linux-arm64 under qemu, ${#passes[@]} passes)"
echo "arm64 tests: $passed passed, $failed failed, $skipped skipped"
[ "$verdict" = "Passed!" ]
