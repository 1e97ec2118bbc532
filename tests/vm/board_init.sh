#!/bin/busybox sh
# /init of a test board: PID 1 in an initramfs that holds only busybox, glibc and the unpacked dmabuf bundle
# under /opt (see board_root.sh) — a board, not a dev machine. It mounts proc, sysfs, devtmpfs, debugfs,
# tracefs and tmpfs, then does one of two things:
#
# - As a LAVA device's ramdisk (`dmabuf.init=shell` on the kernel command line; tests/lava/test_lava.ts): it
#   links /dev/disk/by-uuid/<uuid> to each disk holding an ext2/3/4 filesystem (there is no udev; LAVA mounts
#   its test overlay by that path) and gives a root shell with job control on the console, its prompt
#   `dmabuf-board# `, the bundle's bin/ on PATH. LAVA drives the board through that shell.
# - Otherwise, the arm64 board of tests/vm/run.ts (qemu's virt machine): it runs the job run.ts put on the 9p
#   share (tag "job", virtio-mmio): job.sh sets DMABUF_VM_USER ("uid:gid" or empty for root),
#   DMABUF_VM_REQUIRE_HW and the command as positional parameters; other files of the share (run.ts --file)
#   are at /job/NAME. The kernel console is the PL011 UART (ttyAMA0). The command's stdout and stderr are
#   pipes drained to the virtio consoles hvc0 and hvc1, which qemu connects to run.ts's stdout and stderr; a
#   console port's write returns once the host has taken the bytes, so nothing is lost at reboot. The share
#   receives "started" before the command runs and "status" (its exit status) after; then the board reboots,
#   which ends qemu.

/bin/busybox --install -s /bin
export PATH=/bin

marker='@@dmabuf-vm@@'
msize=262144

say() { echo "$marker $*" >/dev/console; }

fail() {
  say "init failed: $*"
  [ -d /job/. ] && echo "$*" >/job/init-error 2>/dev/null
  sync
  reboot -f
  sleep 60
}

say "init started"
mount -t proc proc /proc || fail "cannot mount /proc"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "cannot mount /dev"
mount -t debugfs debugfs /sys/kernel/debug || fail "cannot mount debugfs"
mount -t tracefs tracefs /sys/kernel/tracing || fail "cannot mount tracefs on /sys/kernel/tracing"
mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "cannot mount /tmp"
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm || fail "cannot mount /dev/shm"

bin=
for dir in /opt/dmabuf-*/bin; do [ -x "$dir/dmabuf" ] && bin=$dir; done
[ -n "$bin" ] || fail "no dmabuf bundle under /opt"

# The ext2 superblock starts at byte 1024: s_magic (0xef53, little-endian) at offset 56, s_uuid (16 bytes)
# at offset 104.
link_disks_by_uuid() {
  local disk magic hex uuid
  mkdir -p /dev/disk/by-uuid
  for disk in /sys/class/block/*; do
    disk=/dev/${disk##*/}
    [ -b "$disk" ] || continue
    magic=$(dd if="$disk" bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' \n')
    [ "$magic" = 53ef ] || continue
    hex=$(dd if="$disk" bs=1 skip=1128 count=16 2>/dev/null | od -An -tx1 | tr -d ' \n')
    uuid=$(echo "$hex" | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)/\1-\2-\3-\4-/')
    ln -sf "$disk" "/dev/disk/by-uuid/$uuid"
    say "$disk: ext2 filesystem $uuid"
  done
}

case " $(cat /proc/cmdline) " in
  *" dmabuf.init=shell "*)
    link_disks_by_uuid
    say "shell on the console"
    cd /root || fail "no /root"
    export PATH="$bin:/bin" HOME=/root TMPDIR=/tmp PS1='dmabuf-board# '
    exec setsid cttyhack sh -i
    ;;
esac

mount -t 9p -o trans=virtio,version=9p2000.L,msize=$msize job /job || fail "cannot mount the job share (9p tag job)"
[ -r /job/job.sh ] || fail "no job.sh on the job share"
. /job/job.sh

run_as=
if [ -n "$DMABUF_VM_USER" ]; then
  uid=${DMABUF_VM_USER%%:*}
  gid=${DMABUF_VM_USER#*:}
  run_as="setpriv --reuid=$uid --regid=$gid --clear-groups --"
fi

# Raw ttys: no \n -> \r\n translation, no echo. The hvc driver resets a console's termios when its last
# file closes, so stty runs while the drain holds the console open.
mkfifo /stdout.fifo /stderr.fifo || fail "cannot create the output pipes"
for hvc in hvc0 hvc1; do [ -c /dev/$hvc ] || fail "no /dev/$hvc (virtio console)"; done
{ stty -F /dev/hvc0 raw -echo && exec cat /stdout.fifo; } >/dev/hvc0 &
drains=$!
{ stty -F /dev/hvc1 raw -echo && exec cat /stderr.fifo; } >/dev/hvc1 &
drains="$drains $!"

echo started >/job/started || fail "cannot write to the job share"
say "command started"
cd /root || fail "no /root"
/bin/env -i PATH="$bin:/bin" HOME=/root TMPDIR=/tmp ${DMABUF_VM_REQUIRE_HW:+DMABUF_REQUIRE_HW=1} \
  $run_as "$@" </dev/null >/stdout.fifo 2>/stderr.fifo
status=$?
for proc in /proc/[0-9]*; do
  pid=${proc#/proc/}
  case " 1 $drains " in *" $pid "*) continue ;; esac
  kill -KILL "$pid" 2>/dev/null
done
wait
echo "$status" >/job/status
say "command exited with status $status"
sync
reboot -f
sleep 60
