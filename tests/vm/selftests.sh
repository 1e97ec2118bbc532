#!/usr/bin/env bash
# Builds the kernel's own dma-buf selftests (dmabuf-heaps, udmabuf, sync) statically from the test VM's
# kernel tree, as a baseline that runs in the VM next to our tests (tests/kernel/selftests_test.ts).
# Needs a tree built by build_kernel.sh (for usr/include); output goes to <kernel cache dir>/selftests,
# rebuilt only when missing. Prints selftests=DIR on stdout.
#
# Usage: tests/vm/selftests.sh KERNEL_CACHE_DIR   (the cache= line build_kernel.sh prints)
set -euo pipefail

cache=${1:?usage: selftests.sh KERNEL_CACHE_DIR}
tree=$cache/linux
selftests=$tree/tools/testing/selftests
out=$cache/selftests
# Each program's sources, relative to the selftests directory.
declare -A sources=(
  [dmabuf-heap]="dmabuf-heaps/dmabuf-heap.c"
  [udmabuf]="drivers/dma-buf/udmabuf.c"
  [sync_test]="sync/sync_test.c sync/sync.c sync/sync_alloc.c sync/sync_fence.c sync/sync_merge.c sync/sync_wait.c
    sync/sync_stress_parallelism.c sync/sync_stress_consumer.c sync/sync_stress_merge.c"
)

die() {
  printf 'selftests: %s\n' "$*" >&2
  exit 1
}

[ -d "$tree/usr/include/linux" ] || die "No kernel headers in $tree/usr/include: run build_kernel.sh first"
mkdir -p "$out"
for program in "${!sources[@]}"; do
  [ -x "$out/$program" ] && continue
  files=()
  for source in ${sources[$program]}; do files+=("$selftests/$source"); done
  # -std=gnu89 and -pthread as the selftests' own Makefiles use; the kernel's UAPI headers come first. From
  # about 7.0 the programs include "kselftest.h" without a path, which the Makefiles find through
  # -I tools/testing/selftests (older ones use ../kselftest.h, unaffected).
  gcc -static -O2 -std=gnu89 -pthread -w -isystem "$tree/usr/include" -I "$selftests" -o "$out/$program.tmp.$$" \
    "${files[@]}" ||
    die "Cannot build $program from ${sources[$program]}"
  mv "$out/$program.tmp.$$" "$out/$program"
done
printf 'selftests=%s\n' "$out"
