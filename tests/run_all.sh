#!/usr/bin/env bash
# The whole test suite: the unit and host tiers on this machine, then the real-kernel tiers in the test VM —
# x86_64 on Linux 5.10, 6.1, 6.12 and 7.2 (deno test tests/kernel/; each followed by the real-program tier
# once more with vivid on videobuf2_dma_contig) and the arm64 board on Linux 6.12 with 4 KiB and
# 16 KiB pages (dmabuf smoke and the lab scenario, TAP, through the arm64 bundle; see tests/vm/test_vm.ts),
# and the LAVA tier (LAVA's own dispatcher runs the lab's job on QEMU x86_64 and arm64 devices; see
# tests/lava/test_lava.ts).
# Prints each tier's wall time, then one combined line `N passed, N failed[, N skipped]`, and exits non-zero
# if anything failed, a VM tier did not report, or a test was ignored (skipped) inside a VM, where the
# hardware must be present.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export PATH="$root/node_modules/.bin:$PATH" NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
command -v deno >/dev/null || { echo "run_all: deno not found: run npm ci first" >&2; exit 1; }

logs=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-tests.XXXXXX")
prebuild_pid=
trap '[ -z "$prebuild_pid" ] || kill -- -"$prebuild_pid" 2>/dev/null; rm -rf "$logs"' EXIT

# Sums deno test's summary lines ("ok | 5 passed (2 steps) | 0 failed | 1 ignored (29ms)") in a log.
summary() {
  sed -E 's/\x1b\[[0-9;]*m//g' "$1" |
    sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed[^|]*\| ([0-9]+) failed( \| ([0-9]+) ignored)?.*/\2 \3 \5/p' |
    awk '{p+=$1; f+=$2; i+=$3; n++} END {printf "%d %d %d %d\n", p, f, i, n}'
}

passed=0 failed=0 skipped=0 status=0
times=()

# The kernels, built (once, into the cache) in the background in the order the tiers need them, at the
# lowest priority: while a tier's emulated guest runs, the next kernel builds on the CPU time the guest leaves
# over, instead of after it. A tier whose kernel is not built yet waits for build_kernel.sh's lock (and
# builds it itself, in the foreground with its errors shown, if the background build failed).
prebuild() {
  local spec
  for spec in "--kernel 5.10" "--kernel 6.1" "--kernel 6.12" "--kernel 7.2" "--arch arm64 --kernel 6.12" \
    "--arch arm64 --kernel 6.12 --page-size 16k"; do
    # shellcheck disable=SC2086 # the spec is words
    nice -n 19 bash tests/vm/build_kernel.sh $spec >/dev/null 2>&1 || echo "run_all: background build $spec failed" >&2
  done
}
# In a session of its own, so that an interrupted run stops the whole build (make and the compilers too).
setsid bash -c "$(declare -f prebuild); prebuild" 2>"$logs/prebuild.log" &
prebuild_pid=$!

# tier NAME VM LOG COMMAND...: runs one tier, adds its counts, records its wall time. VM is 1 for VM tiers,
# where an ignored test is a failure and a missing summary means the VM did not report.
tier() {
  local name=$1 vm=$2 log=$logs/$3 start=$SECONDS tier_status tier_passed tier_failed tier_ignored tier_runs
  shift 3
  echo "== $name" >&2
  "$@" 2>&1 | tee "$log"
  tier_status=${PIPESTATUS[0]}
  times+=("$name: $((SECONDS - start)) s")
  read -r tier_passed tier_failed tier_ignored tier_runs < <(summary "$log")
  passed=$((passed + tier_passed))
  failed=$((failed + tier_failed))
  skipped=$((skipped + tier_ignored))
  if [ "$tier_runs" -eq 0 ]; then
    echo "run_all: $name printed no test summary (exit $tier_status): see the messages above" >&2
    failed=$((failed + 1)); status=1
  fi
  if [ "$vm" = 1 ] && [ "$tier_ignored" -gt 0 ]; then
    echo "run_all: $tier_ignored test(s) were ignored in $name, inside the VM, where nothing may be" >&2
    failed=$((failed + tier_ignored)); status=1
  fi
  [ "$tier_status" -eq 0 ] || status=1
}

tier "unit and host tiers" 0 host.log deno test --allow-all --no-prompt --ignore=tests/kernel tests/

# The guest runs the tests with --no-check (type-checking under emulation takes minutes): check them here.
if ! deno check tests/kernel/ >"$logs/check.log" 2>&1; then
  cat "$logs/check.log" >&2
  echo "run_all: tests/kernel/ does not type-check" >&2
  failed=$((failed + 1)); status=1
fi
# vivid exports through videobuf2_vmalloc by default (no attachment on import) and through
# videobuf2_dma_contig with vivid.allocators=1,1 (the importer attaches): after each kernel's tier, the
# real-program tier again on that kernel, so both exporters and both import paths are checked on each.
for kernel in 5.10 6.1 6.12 7.2; do
  tier "real-kernel tier, x86_64 Linux $kernel" 1 "vm-$kernel.log" deno task test:vm --kernel "$kernel"
  tier "real-program tier, x86_64 Linux $kernel, vivid on dma-contig" 1 "vm-contig-$kernel.log" \
    deno task vm --kernel "$kernel" --require-hw --append vivid.allocators=1,1 -- \
    deno test --allow-all --no-prompt --no-check tests/kernel/real_programs_test.ts
done
tier "board tier, arm64 Linux 6.12, 4 KiB pages" 1 board-4k.log deno task test:vm --arch arm64 --page-size 4k
tier "board tier, arm64 Linux 6.12, 16 KiB pages" 1 board-16k.log deno task test:vm --arch arm64 --page-size 16k
tier "LAVA tier, lava-run on a QEMU x86_64 device, Linux 6.12" 1 lava.log deno task test:lava
tier "LAVA tier, lava-run on a QEMU arm64 device, Linux 6.12" 1 lava-arm64.log deno task test:lava --arch arm64

wait "$prebuild_pid"
prebuild_pid=
cat "$logs/prebuild.log" >&2
echo "== wall time per tier" >&2
printf '  %s\n' "${times[@]}" >&2
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
