#!/usr/bin/env bash
# The whole test suite: the unit and host tiers on this machine, then the real-kernel tiers in the test VM —
# x86_64 on Linux 5.10, 6.1, 6.12 and 7.2 (deno test tests/kernel/; each followed by the real-program tier
# once more with vivid on videobuf2_dma_contig) and the arm64 board on Linux 6.12 with 4 KiB and
# 16 KiB pages (dmabuf smoke and the lab scenario, TAP, through the arm64 bundle; see tests/vm/test_vm.ts),
# and the LAVA tier (LAVA's own dispatcher runs the lab's job on QEMU x86_64 and arm64 devices; see
# tests/lava/test_lava.ts).
#
# The VM tiers run in two lanes at once: an emulated guest runs its tests on one host CPU (qemu at ~100%,
# the other core idle: measured), so two guests share a two-core machine's time instead of leaving half of
# it unused. A tier's output is printed whole when it ends, with a line when each starts.
#
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
lanes=()
stop() {
  [ -z "$prebuild_pid" ] || kill -- -"$prebuild_pid" 2>/dev/null
  [ "${#lanes[@]}" -eq 0 ] || kill -- "${lanes[@]/#/-}" 2>/dev/null
  rm -rf "$logs"
}
trap stop EXIT

# Sums deno test's summary lines ("ok | 5 passed (2 steps) | 0 failed | 1 ignored (29ms)") in a log.
summary() {
  sed -E 's/\x1b\[[0-9;]*m//g' "$1" |
    sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed[^|]*\| ([0-9]+) failed( \| ([0-9]+) ignored)?.*/\2 \3 \5/p' |
    awk '{p+=$1; f+=$2; i+=$3; n++} END {printf "%d %d %d %d\n", p, f, i, n}'
}

passed=0 failed=0 skipped=0 status=0
times=()

# The kernels, built (once, into the cache) in the background in the order the tiers need them, at the
# lowest priority: while a tier's emulated guest runs, the next kernel builds on the CPU time the guests leave
# over, instead of after them. A tier whose kernel is not built yet waits for build_kernel.sh's lock (and
# builds it itself, with its errors shown, if the background build failed).
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

# run_tier ID COMMAND...: runs one tier into $logs/ID.log and records its exit status and wall time.
run_tier() {
  local id=$1 start=$SECONDS
  shift
  "$@" >"$logs/$id.log" 2>&1
  echo "$? $((SECONDS - start))" >"$logs/$id.done"
}

# account NAME VM ID: prints a finished tier's log and adds its counts. VM is 1 for VM tiers, where an
# ignored test is a failure and a missing summary means the VM did not report.
account() {
  local name=$1 vm=$2 id=$3 tier_status seconds tier_passed tier_failed tier_ignored tier_runs
  read -r tier_status seconds <"$logs/$id.done"
  echo "== $name ($seconds s)" >&2
  cat "$logs/$id.log"
  times+=("$name: $seconds s")
  read -r tier_passed tier_failed tier_ignored tier_runs < <(summary "$logs/$id.log")
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

# The tiers: ID, lane (0 host, 1 and 2 the VM lanes), name, command. The lanes are balanced by the tiers'
# measured times; a lane runs its tiers in this order. vivid exports through videobuf2_vmalloc by default (no
# attachment on import) and through videobuf2_dma_contig with vivid.allocators=1,1 (the importer attaches):
# after each kernel's tier the real-program tier runs again on that kernel, so both exporters and both
# import paths are checked on each. The two LAVA tiers share a lane (and libguestfs's appliance cache).
contig() {
  deno task vm --kernel "$1" --require-hw --append vivid.allocators=1,1 -- \
    deno test --allow-all --no-prompt --no-check tests/kernel/real_programs_test.ts
}
ids=() lane_of=() names=() commands=()
add() { ids+=("$1"); lane_of+=("$2"); names+=("$3"); commands+=("$4"); }
# The tests that read the cache's kernel trees run after the VM tiers (below), once every kernel is built.
trees_tests="tests/ffi/structs_headers_test.ts tests/commands/lab/ktap_test.ts"
add host 0 "unit and host tiers" "deno test --allow-all --no-prompt --ignore=tests/kernel,${trees_tests// /,} tests/"
add vm-5.10 1 "real-kernel tier, x86_64 Linux 5.10" "deno task test:vm --kernel 5.10"
add contig-5.10 1 "real-program tier, x86_64 Linux 5.10, vivid on dma-contig" "contig 5.10"
add vm-6.1 2 "real-kernel tier, x86_64 Linux 6.1" "deno task test:vm --kernel 6.1"
add contig-6.1 2 "real-program tier, x86_64 Linux 6.1, vivid on dma-contig" "contig 6.1"
add vm-6.12 1 "real-kernel tier, x86_64 Linux 6.12" "deno task test:vm --kernel 6.12"
add contig-6.12 1 "real-program tier, x86_64 Linux 6.12, vivid on dma-contig" "contig 6.12"
add vm-7.2 2 "real-kernel tier, x86_64 Linux 7.2" "deno task test:vm --kernel 7.2"
add contig-7.2 2 "real-program tier, x86_64 Linux 7.2, vivid on dma-contig" "contig 7.2"
add board-4k 1 "board tier, arm64 Linux 6.12, 4 KiB pages" "deno task test:vm --arch arm64 --page-size 4k"
add board-16k 1 "board tier, arm64 Linux 6.12, 16 KiB pages" "deno task test:vm --arch arm64 --page-size 16k"
add lava 2 "LAVA tier, lava-run on a QEMU x86_64 device, Linux 6.12" "deno task test:lava"
add lava-arm64 2 "LAVA tier, lava-run on a QEMU arm64 device, Linux 6.12" "deno task test:lava --arch arm64"

# lane N: runs lane N's tiers one after the other, saying when each starts.
lane() {
  local i
  for i in "${!ids[@]}"; do
    [ "${lane_of[$i]}" = "$1" ] || continue
    echo "== started: ${names[$i]}" >&2
    # shellcheck disable=SC2086 # the command is words
    run_tier "${ids[$i]}" ${commands[$i]}
  done
}

lane 0
account "${names[0]}" 0 host

# The guest runs the tests with --no-check (type-checking under emulation takes minutes): check them here.
if ! deno check tests/kernel/ >"$logs/check.log" 2>&1; then
  cat "$logs/check.log" >&2
  echo "run_all: tests/kernel/ does not type-check" >&2
  failed=$((failed + 1)); status=1
fi

# Each lane in a session of its own, so that an interrupted run stops its VMs too.
for n in 1 2; do
  setsid bash -c "$(declare -p logs ids lane_of names commands); $(declare -f run_tier lane contig); lane $n" &
  lanes+=("$!")
done
wait "${lanes[@]}"
lanes=()
for i in "${!ids[@]}"; do
  [ "${lane_of[$i]}" = 0 ] || account "${names[$i]}" 1 "${ids[$i]}"
done

# The struct layouts against every tier kernel's headers and every tier kernel's own kunit.py reading our
# KTAP. Counted like a VM tier: a kernel the tiers ran that has no tree in the cache fails, nothing is ignored.
trees="x86_64:5.10 x86_64:6.1 x86_64:6.12 x86_64:7.2 arm64:6.12"
echo "== started: kernel-tree tier ($trees)" >&2
# shellcheck disable=SC2086 # the test files are words
DMABUF_KERNEL_TREES=$trees run_tier trees deno test --allow-all --no-prompt $trees_tests
account "kernel-tree tier: struct layouts and kunit.py of each tier's kernel" 1 trees

wait "$prebuild_pid"
prebuild_pid=
cat "$logs/prebuild.log" >&2
echo "== wall time per tier" >&2
printf '  %s\n' "${times[@]}" >&2
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
