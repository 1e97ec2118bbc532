#!/bin/sh
# The board scenario: what a lab would script on a board with only busybox and the dmabuf bundle, as TAP on
# stdout. Allocate and hold a named buffer; verify it from another process; sync it; sw_sync fences through
# fence-wait's exits 124 (timeout), 0 (signalled) and 1 (signalled with an error); stat --procs and
# info --pid name the holder; bad input exits 2 (usage) and 1 (runtime); doctor finds nothing failing on the
# healthy board and diagnoses a buffer larger than the CMA area and one over udmabuf's size limit; and
# afterwards no buffer is left behind in bufinfo. Runs as root (the heaps are root-only); needs dmabuf on PATH and debugfs mounted.
# Kept to fifteen dmabuf processes: each costs seconds under emulation.
#
# Usage: sh scenario.sh   (exit 0 when every test passed)

export NO_COLOR=1
name=board-scenario
work=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-scenario.XXXXXX") || exit 1
bufinfo=/sys/kernel/debug/dma_buf/bufinfo
holder=
number=0
failed=0

cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ok() {
  number=$((number + 1))
  echo "ok $number - $1"
}

not_ok() {
  number=$((number + 1))
  failed=$((failed + 1))
  echo "not ok $number - $1"
  shift
  for line in "$@"; do echo "# $line"; done
}

# check DESCRIPTION EXPECTED_STATUS STATUS [OUTPUT_FILE]: a test on an exit status (output shown on failure).
check() {
  if [ "$3" -eq "$2" ]; then
    ok "$1"
  else
    not_ok "$1" "exit status $3, expected $2"
    [ -n "${4:-}" ] && [ -f "$4" ] && sed 's/^/#   /' "$4"
  fi
}

# contains DESCRIPTION FILE TEXT...: a test that FILE holds every TEXT (fixed strings).
contains() {
  description=$1
  file=$2
  shift 2
  for text in "$@"; do
    if ! grep -qF -- "$text" "$file"; then
      not_ok "$description" "no \"$text\" in:"
      sed 's/^/#   /' "$file"
      return
    fi
  done
  ok "$description"
}

# Buffers in bufinfo ("Total N objects, M bytes" is its last line).
buffer_count() {
  sed -n 's/^Total \([0-9]*\) objects.*/\1/p' "$bufinfo"
}

echo "1..23"
before=$(buffer_count)
if [ -n "$before" ]; then ok "bufinfo readable: $before buffers before the scenario"; else not_ok "bufinfo readable" "cannot read $bufinfo"; fi

# Allocate and hold. The launcher execs Deno, so $! is the holder's pid.
dmabuf alloc --heap system --size 1M --name "$name" --fill counter --hold 10m >"$work/hold" 2>&1 &
holder=$!
ready=
for _ in $(seq 1 240); do
  ready=$(grep -m1 '^ready ' "$work/hold")
  [ -n "$ready" ] && break
  kill -0 "$holder" 2>/dev/null || break
  sleep 0.5
done
pid=$(echo "$ready" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
fd=$(echo "$ready" | sed -n 's/.*fds=\([0-9]*\).*/\1/p')
if [ -n "$fd" ] && [ "$pid" = "$holder" ]; then
  ok "alloc --hold: ready pid=$pid (\$! of the launcher) fds=$fd"
else
  not_ok "alloc --hold prints a ready line with its own pid" "ready line: \"$ready\", \$! = $holder"
  sed 's/^/#   /' "$work/hold"
  fd=3
fi

dmabuf map --pid "$holder" --fd "$fd" --verify counter >"$work/out" 2>&1
check "map --verify counter from another process" 0 $? "$work/out"

dmabuf sync --pid "$holder" --fd "$fd" --bracket --rw --json >"$work/out" 2>&1
check "sync --bracket --rw from another process" 0 $? "$work/out"
contains "sync --json reports the bracket" "$work/out" '"phase": "bracket"'

dmabuf info --pid "$holder" --json >"$work/out" 2>&1
check "info --pid" 0 $? "$work/out"
contains "info --pid lists the held buffer by name and fd" "$work/out" "\"name\": \"$name\"" "\"fd\": $fd"

dmabuf stat --procs --json >"$work/out" 2>&1
check "stat --procs" 0 $? "$work/out"
contains "stat --procs names the buffer and its holder" "$work/out" "\"name\": \"$name\"" "\"pid\": $holder"

# Fences: two sw_sync fences (fds 3 and 4 in the child), driven through a fifo on the timeline's stdin.
mkfifo "$work/control"
exec 5<>"$work/control"
dmabuf fence sw-sync --seqno 1 --seqno 2 --stdin --exec -- sh -c '
  dmabuf fence-wait --fd 3 --timeout 1s >/dev/null 2>&1; echo "pending $?"
  echo "inc 1" >"$1"
  dmabuf fence-wait --fd 3 --timeout 2m >/dev/null 2>&1; echo "signalled $?"
  echo close >"$1"
  dmabuf fence-wait --fd 4 --timeout 2m >/dev/null 2>&1; echo "closed $?"
' sh "$work/control" <&5 >"$work/fences" 2>&1
check "fence sw-sync --exec" 0 $? "$work/fences"
exec 5>&-
contains "fence-wait: a pending fence times out (exit 124)" "$work/fences" "pending 124"
contains "fence-wait: a signalled fence (exit 0)" "$work/fences" "signalled 0"
contains "fence-wait: a fence signalled with an error when its timeline closed (exit 1)" "$work/fences" "closed 1"

# doctor: nothing fails on the healthy board; then two broken requests, diagnosed with their fixes.
dmabuf doctor --color never >"$work/out" 2>&1
check "doctor on the healthy board: no check fails (exit 0)" 0 $? "$work/out"
contains "doctor allocates, maps and frees a page of each heap" "$work/out" ", 0 fail, " "ok    alloc.system" \
  "ok    alloc.udmabuf"
dmabuf doctor --heap cma --size 96M --color never >"$work/out" 2>&1
check "doctor --heap cma --size 96M on the 64 MiB CMA area fails (exit 1)" 1 $? "$work/out"
contains "doctor names the cause (size), the area's size and a cma= that holds the buffer" "$work/out" \
  "size: 96 MiB is larger than the CMA area" "(64 MiB)" "fix: cma=128M on the kernel command line"
dmabuf doctor --heap udmabuf --size 96M --color never >"$work/out" 2>&1
check "doctor --heap udmabuf --size 96M fails (exit 1)" 1 $? "$work/out"
contains "doctor names udmabuf's limit and the module parameter" "$work/out" \
  "96 MiB is over udmabuf's limit of 64 MiB" "/sys/module/udmabuf/parameters/size_limit_mb"

dmabuf alloc --size 4Q >"$work/out" 2>&1
check "bad size is a usage error (exit 2)" 2 $? "$work/out"
dmabuf alloc --heap no-such-heap --size 4K >"$work/out" 2>&1
check "unknown heap is a runtime error (exit 1)" 1 $? "$work/out"

kill -TERM "$holder"
wait "$holder"
check "the holder frees its buffers and exits 0 on SIGTERM" 0 $? "$work/hold"
holder=
after=$(buffer_count)
if [ "$after" = "$before" ] && ! grep -qF "$name" "$bufinfo"; then
  ok "no buffer left behind ($after in bufinfo)"
else
  not_ok "no buffer left behind" "bufinfo had $before buffers before, $after after:"
  sed 's/^/#   /' "$bufinfo"
fi

[ "$number" -eq 23 ] || echo "# the plan said 23 tests, $number ran"
[ "$failed" -eq 0 ]
