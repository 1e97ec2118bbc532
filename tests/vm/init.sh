#!/bin/busybox sh
# /init of the dmabuf test VM: PID 1 in an initramfs holding only a static busybox.
# It mounts the host's root filesystem (9p tag "host", read-only) at /newroot, adds proc, sysfs, devtmpfs,
# debugfs, tracefs and a writable tmpfs under it, and runs the job that tests/vm/run.ts put on the writable 9p share
# (tag "job"): job.sh sets DMABUF_VM_CHECKOUT, DMABUF_VM_USER ("uid:gid" or empty for root),
# DMABUF_VM_REQUIRE_HW ("1" or empty), DMABUF_VM_SELFTESTS (host path of the kernel's selftests, or empty)
# and the command as positional parameters.
# The command's stdout and stderr are pipes drained to /dev/ttyS1 and /dev/ttyS2 (host stdout and stderr);
# ttyS0 is the kernel console. The share receives "started" before the command runs and "status" (its exit
# status) after; then the VM reboots, which ends qemu (-no-reboot).

/bin/busybox --install -s /bin
export PATH=/bin

marker='@@dmabuf-vm@@'
# The writable scratch tmpfs (HOME, DENO_DIR, TMPDIR) is the guest's /tmp; it hides the host's /tmp.
scratch=/tmp
# 9p message size: the default (8 KiB) makes reading the 100 MB Deno binary slow.
msize=262144

say() { echo "$marker $*" >/dev/console; }

# Reports an init failure on the console and the share (when mounted), then ends the VM.
fail() {
  say "init failed: $*"
  [ -d /job/. ] && echo "$*" >/job/init-error 2>/dev/null
  sync
  reboot -f
  sleep 60
}

# The first sign of life run.ts waits for (it tells a working accelerator from a stalled one).
say "init started"
mount -t proc proc /proc || fail "cannot mount /proc"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "cannot mount /dev"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=$msize job /job || fail "cannot mount the job share (9p tag job)"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=$msize,cache=loose,ro host /newroot ||
  fail "cannot mount the host root (9p tag host)"
[ -r /job/job.sh ] || fail "no job.sh on the job share"
. /job/job.sh
checkout=$DMABUF_VM_CHECKOUT
[ -d "/newroot$checkout" ] || fail "checkout $checkout is not visible in the host root share"

root=/newroot
mount -t proc proc $root/proc || fail "cannot mount $root/proc"
mount -t sysfs sysfs $root/sys || fail "cannot mount $root/sys"
mount -t devtmpfs devtmpfs $root/dev || fail "cannot mount $root/dev"
mount -t debugfs debugfs $root/sys/kernel/debug || fail "cannot mount debugfs"
mount -t tracefs tracefs $root/sys/kernel/tracing || fail "cannot mount tracefs on /sys/kernel/tracing"
mkdir -p $root/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $root/dev/shm || fail "cannot mount /dev/shm"

# Host paths the job needs that lie under /tmp would vanish under the tmpfs: a CI clone, or a kernel cache
# in XDG_CACHE_HOME=/tmp/... (the selftests and the kernel tree beside them). Hold them aside, bind them back.
kept=0
hold() {
  case "$1/" in "$scratch"/*) ;; *) return 0 ;; esac
  kept=$((kept + 1))
  mkdir -p "/kept/$kept"
  mount -o bind "$root$1" "/kept/$kept" || fail "cannot bind-mount $1"
  eval "kept_path_$kept=\$1"
}
hold "$checkout"
[ -z "$DMABUF_VM_SELFTESTS" ] || hold "${DMABUF_VM_SELFTESTS%/*}"
mount -t tmpfs -o mode=1777 tmpfs "$root$scratch" || fail "cannot mount a tmpfs on $scratch"
i=1
while [ "$i" -le "$kept" ]; do
  eval "path=\$kept_path_$i"
  mkdir -p "$root$path"
  mount -o bind "/kept/$i" "$root$path" || fail "cannot bind $path back"
  i=$((i + 1))
done
home=$scratch/.dmabuf-vm-home
mkdir -p "$root$home/.cache/deno"

run_as=
if [ -n "$DMABUF_VM_USER" ]; then
  uid=${DMABUF_VM_USER%%:*}
  gid=${DMABUF_VM_USER#*:}
  chown -R "$uid:$gid" "$root$home" || fail "cannot chown $home to $uid:$gid"
  run_as="setpriv --reuid=$uid --regid=$gid --clear-groups --"
fi

# Raw ttys: no \n -> \r\n translation, no echo, so the host gets the bytes the command wrote.
stty -F /dev/ttyS1 raw -echo || fail "cannot set up /dev/ttyS1"
stty -F /dev/ttyS2 raw -echo || fail "cannot set up /dev/ttyS2"
mkfifo /stdout.fifo /stderr.fifo || fail "cannot create the output pipes"
cat /stdout.fifo >/dev/ttyS1 &
drains=$!
cat /stderr.fifo >/dev/ttyS2 &
drains="$drains $!"

path="$checkout/cli:$checkout/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
set -- /usr/bin/env -i \
  PATH="$path" HOME="$home" TMPDIR="$scratch" DENO_DIR="$home/.cache/deno" DENO_NO_UPDATE_CHECK=1 \
  DMABUF_IN_VM=1 ${DMABUF_VM_REQUIRE_HW:+DMABUF_REQUIRE_HW=1} \
  ${DMABUF_VM_SELFTESTS:+"DMABUF_VM_SELFTESTS=$DMABUF_VM_SELFTESTS"} \
  /bin/sh -c 'cd "$1" || exit 1; shift; exec "$@"' sh "$checkout" $run_as "$@"

echo started >/job/started || fail "cannot write to the job share"
say "command started"
chroot $root "$@" </dev/null >/stdout.fifo 2>/stderr.fifo
status=$?
# The VM ends with the command, like a container: background processes it left would hold the output pipes
# open and keep the drains (and the VM) alive, so they are killed. Signals to kernel threads are ignored.
for proc in /proc/[0-9]*; do
  pid=${proc#/proc/}
  case " 1 $drains " in *" $pid "*) continue ;; esac
  kill -KILL "$pid" 2>/dev/null
done
# The drains exit once every writer closed the pipes; closing a tty waits until its output left the UART.
wait
echo "$status" >/job/status
say "command exited with status $status"
sync
reboot -f
sleep 60
