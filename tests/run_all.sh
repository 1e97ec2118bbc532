#!/usr/bin/env bash
# The whole test suite: the unit and host tiers on this machine, then the real-kernel tier in the test VM.
# Prints one combined line `N passed, N failed[, N skipped]` and exits non-zero if anything failed, the VM
# did not report, or a real-kernel test was ignored inside the VM (where the hardware must be present).
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

echo "== unit and host tiers" >&2
deno test --allow-all --no-prompt --ignore=tests/kernel tests/ 2>&1 | tee "$logs/host.log"
host_status=${PIPESTATUS[0]}
read -r host_passed host_failed host_ignored host_runs < <(summary "$logs/host.log")

echo "== real-kernel tier (test VM)" >&2
# The guest runs the tests with --no-check (type-checking under emulation takes minutes): check them here.
if ! deno check tests/kernel/ >"$logs/check.log" 2>&1; then
  cat "$logs/check.log" >&2
  echo "run_all: tests/kernel/ does not type-check" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
deno task test:vm 2>&1 | tee "$logs/vm.log"
vm_status=${PIPESTATUS[0]}
read -r vm_passed vm_failed vm_ignored vm_runs < <(summary "$logs/vm.log")

passed=$((host_passed + vm_passed))
failed=$((host_failed + vm_failed))
skipped=$((host_ignored + vm_ignored))
status=0
if [ "$host_runs" -eq 0 ]; then
  echo "run_all: the host tiers printed no deno test summary (exit $host_status)" >&2
  failed=$((failed + 1)); status=1
fi
if [ "$vm_runs" -eq 0 ]; then
  echo "run_all: the VM tier printed no deno test summary (exit $vm_status): see the messages above" >&2
  failed=$((failed + 1)); status=1
fi
if [ "$vm_ignored" -gt 0 ]; then
  echo "run_all: $vm_ignored real-kernel test(s) were ignored inside the VM, where nothing may be" >&2
  failed=$((failed + vm_ignored)); status=1
fi
[ "$host_status" -eq 0 ] || status=1
[ "$vm_status" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
