#!/usr/bin/env bash
# The whole test suite: the unit and host tiers on this machine, then the real-kernel tiers in the test VM —
# x86_64 on Linux 6.1 and 6.12 (deno test tests/kernel/; the real-program tier once more with vivid on
# videobuf2_dma_contig) and the arm64 board on Linux 6.12 with 4 KiB and
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
trap 'rm -rf "$logs"' EXIT

# Sums deno test's summary lines ("ok | 5 passed (2 steps) | 0 failed | 1 ignored (29ms)") in a log.
summary() {
  sed -E 's/\x1b\[[0-9;]*m//g' "$1" |
    sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed[^|]*\| ([0-9]+) failed( \| ([0-9]+) ignored)?.*/\2 \3 \5/p' |
    awk '{p+=$1; f+=$2; i+=$3; n++} END {printf "%d %d %d %d\n", p, f, i, n}'
}

passed=0 failed=0 skipped=0 status=0
times=()

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
tier "real-kernel tier, x86_64 Linux 6.1" 1 vm-6.1.log deno task test:vm --kernel 6.1
tier "real-kernel tier, x86_64 Linux 6.12" 1 vm-6.12.log deno task test:vm --kernel 6.12
# vivid exports through videobuf2_vmalloc by default (no attachment on import) and through
# videobuf2_dma_contig with vivid.allocators=1,1 (the importer attaches): the real-program tier again, so
# both exporters and both import paths are checked.
tier "real-program tier, x86_64 Linux 6.1, vivid on dma-contig" 1 vm-contig.log deno task vm --kernel 6.1 \
  --require-hw --append vivid.allocators=1,1 -- deno test --allow-all --no-prompt --no-check \
  tests/kernel/real_programs_test.ts
tier "board tier, arm64 Linux 6.12, 4 KiB pages" 1 board-4k.log deno task test:vm --arch arm64 --page-size 4k
tier "board tier, arm64 Linux 6.12, 16 KiB pages" 1 board-16k.log deno task test:vm --arch arm64 --page-size 16k
tier "LAVA tier, lava-run on a QEMU x86_64 device, Linux 6.12" 1 lava.log deno task test:lava
tier "LAVA tier, lava-run on a QEMU arm64 device, Linux 6.12" 1 lava-arm64.log deno task test:lava --arch arm64

echo "== wall time per tier" >&2
printf '  %s\n' "${times[@]}" >&2
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
