#!/bin/sh
# The board tier, run on the arm64 test board (busybox + the dmabuf bundle) by `deno task test:vm --arch
# arm64`, which copies this, scenario.sh, LAVA's recorders (tests/lava/lava-test-case, lava-test-set) and the
# LAVA definition's run.sh (dmabuf-smoke-run.sh, written by tests/lava/definition.ts with the job parameters
# DMABUF_ROOT and DMABUF_VERSION of the bundle under /opt) to the job share (/job). Prints the machine and
# its page size, then sections, each between `@@tap NAME` or `@@text NAME` and `@@exit STATUS`: TAP of
# `dmabuf smoke --format tap` and of the lab scenario (scenario.sh); the console of the definition's run as
# LAVA runs it (busybox sh, run.sh in a work directory, the recorders first on PATH); `dmabuf smoke --json`.
# tests/vm/test_vm.ts checks both TAP streams strictly and compares the LAVA run's cases with the JSON.
here=$(dirname "$0")
page=$(sed -n 's/^KernelPageSize: *\([0-9]*\) kB$/\1/p' /proc/self/smaps | head -n 1)
echo "@@machine $(uname -m) $(uname -r) page=${page}k"
echo "@@tap smoke"
dmabuf smoke --format tap --color never
echo "@@exit $?"
echo "@@tap scenario"
sh "$here/scenario.sh"
echo "@@exit $?"
echo "@@text lava-run"
lava=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-lava.XXXXXX") &&
  cp "$here/lava-test-case" "$here/lava-test-set" "$here/dmabuf-smoke-run.sh" "$lava/" &&
  chmod 755 "$lava/lava-test-case" "$lava/lava-test-set" &&
  (cd "$lava" && PATH="$lava:$PATH" LAVA_RECORD="$lava/lava-record.txt" exec sh ./dmabuf-smoke-run.sh)
echo "@@exit $?"
echo "@@text smoke-json"
dmabuf smoke --json
echo "@@exit $?"
