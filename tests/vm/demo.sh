#!/usr/bin/env bash
# `npm start`: dmabuf at work on real buffers. Runs here when this kernel has dma-heaps, otherwise in the
# project's test VM (whose kernel is built on first use).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

# Each step is echoed before it runs, so the output reads as a transcript.
demo='set -e
step() { printf "\n$ %s\n" "$*"; "$@"; }
step dmabuf heaps
step dmabuf alloc --heap system --size 1M --name quickstart --fill counter --exec -- dmabuf map --fd 3 --verify counter
step dmabuf alloc --heap cma --size 64K --count 2 --name demo --exec -- dmabuf stat --name "demo*"
# The waiter must be blocked before the timeline advances, or it only reports a fence signalled long ago
# (an emulated VM takes seconds to start Deno). So time a cold start of the waiter itself (fence-wait on stdin,
# which is no sync_file: it loads everything, then fails at once) and advance at three times that, plus 1 s.
now_ms() { awk "{ printf \"%d\", \$1 * 1000 }" /proc/uptime; }
t0=$(now_ms); dmabuf fence-wait --fd 0 --timeout 0 </dev/null >/dev/null 2>&1 || true; t1=$(now_ms)
start_ms=$(( t1 - t0 ))
printf "\n# fence-wait starts in %s ms here: advance the timeline after %s ms\n" "$start_ms" "$(( start_ms * 3 + 1000 ))"
step dmabuf fence sw-sync --seqno 1 --inc-after "$(( start_ms * 3 + 1000 ))ms" --exec -- dmabuf fence-wait --fd 3 --timeout 60s'

if [ -d /dev/dma_heap ]; then
  PATH="$root/cli:$PATH" exec sh -c "$demo"
fi
echo "No /dev/dma_heap on this machine: running the demo in the test VM (the first run builds its kernel: about 4 minutes on 2 cores)." >&2
exec "$root/node_modules/.bin/deno" task vm -- sh -c "$demo"
