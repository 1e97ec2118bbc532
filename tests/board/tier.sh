#!/bin/sh
# The board tier, run on the arm64 test board (busybox + the dmabuf bundle) by `deno task test:vm --arch
# arm64`, which copies this and scenario.sh to the job share (/job). Prints the machine and its page size, then
# two TAP streams, each between `@@tap NAME` and `@@exit STATUS` lines: `dmabuf smoke --format tap` and the
# lab scenario (scenario.sh). tests/vm/test_vm.ts checks both strictly.
here=$(dirname "$0")
page=$(sed -n 's/^KernelPageSize: *\([0-9]*\) kB$/\1/p' /proc/self/smaps | head -n 1)
echo "@@machine $(uname -m) $(uname -r) page=${page}k"
echo "@@tap smoke"
dmabuf smoke --format tap --color never
echo "@@exit $?"
echo "@@tap scenario"
sh "$here/scenario.sh"
echo "@@exit $?"
