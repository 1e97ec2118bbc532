#!/bin/sh
# Runs one LAVA job with Debian's lava-dispatcher (lava-run, no server) against a QEMU x86_64 device: a
# kernel, a busybox ramdisk built here, and an inline test definition that prints dmabuf-style signals.
# This is the investigation of issue 14 item 4, kept reproducible; it is not a CI test (about 50 s under
# TCG, needs root, lava-dispatcher and busybox-static).
#
#   sudo DEVICE_TYPES=... tests/lava/lava-run/probe.sh [KERNEL]    (default: the newest /boot/vmlinuz-*)
#
# What it takes, each found the hard way (see the report of issue 14):
# - LAVA 2023.01 delivers the test overlay on a second IDE disk, an ext2 filesystem it builds with
#   libguestfs, and mounts it on the device with `mount /dev/disk/by-uuid/<uuid> -t ext2`. So the device
#   kernel needs ATA_PIIX, BLK_DEV_SD and EXT4 (or EXT2) — built in, or as modules in the ramdisk (done
#   here for a Debian kernel) — and the ramdisk a /dev/disk/by-uuid link (no udev: made from the
#   superblock, as busybox-static has no blkid).
# - KVM here aborts QEMU ("failed to set MSR 0x10a"), both libguestfs' appliance and the device: hence
#   LIBGUESTFS_BACKEND_SETTINGS=force_tcg and no_kvm in the device dictionary.
# - The device dictionary is rendered from LAVA 2023.01's own qemu.jinja2 (Linaro/lava tag 2023.01,
#   etc/dispatcher-config/device-types), which the dispatcher package does not ship: DEVICE_TYPES must
#   point at a checkout of that directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kernel=${1:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
if [ ! -f "$kernel" ]; then
    echo "probe.sh: no kernel: give one, or install linux-image-amd64" >&2
    exit 2
fi
release=$(basename "$kernel" | sed 's/^vmlinuz-//')
work=${WORK:-$(mktemp -d /tmp/dmabuf-lava-run.XXXXXX)}
: "${DEVICE_TYPES:?set DEVICE_TYPES to Linaro/lava 2023.01 etc/dispatcher-config/device-types}"

# The ramdisk: busybox, the disk and ext4 modules when the kernel has them, an init giving a shell prompt.
rd="$work/rd"
rm -rf "$rd"
mkdir -p "$rd/bin" "$rd/proc" "$rd/sys" "$rd/dev" "$rd/tmp" "$rd/root" "$rd/lib/modules"
cp "$(command -v busybox)" "$rd/bin/busybox"
ln -s busybox "$rd/bin/sh"
: > "$rd/modorder"
if [ -d "/lib/modules/$release" ]; then
    for m in sd_mod ata_piix ext4 crc32c_generic; do
        modprobe -S "$release" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
    done | awk '!seen[$0]++' | while read -r path; do
        name=$(basename "$path")
        case "$name" in
            *.xz) xz -dc "$path" > "$rd/lib/modules/${name%.xz}"; name=${name%.xz} ;;
            *) cp "$path" "$rd/lib/modules/" ;;
        esac
        echo "$name" >> "$rd/modorder"
    done
fi
cat > "$rd/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /modorder); do insmod /lib/modules/$m 2>/dev/null; done
i=0; while [ ! -b /dev/sda ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; sleep 1
mkdir -p /dev/disk/by-uuid
for d in /dev/sd? /dev/sd??; do [ -b "$d" ] || continue
  # ext2 superblock at 1024, s_uuid at +104: 16 bytes
  h=$(dd if="$d" bs=1 skip=1128 count=16 2>/dev/null | od -An -tx1 | tr -d ' \n')
  [ ${#h} -eq 32 ] || continue
  u=$(echo "$h" | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)/\1-\2-\3-\4-/')
  ln -sf "$d" /dev/disk/by-uuid/$u; echo "by-uuid: $u -> $d"
done
export PS1='lava-ramdisk# ' PATH=/bin:/sbin:/usr/bin HOME=/root
echo "ramdisk ready"
exec setsid cttyhack sh -i
INIT
chmod +x "$rd/init"
(cd "$rd" && find . | cpio -o -H newc 2>/dev/null | gzip -9) > "$work/ramdisk.cpio.gz"

# The device dictionary, rendered as the server would.
python3 - "$DEVICE_TYPES" "$here" > "$work/device.yaml" <<'PY'
import sys, jinja2
env = jinja2.Environment(loader=jinja2.FileSystemLoader([sys.argv[1], sys.argv[2]]), trim_blocks=True, autoescape=False)
print(env.get_template("qemu-local.jinja2").render(arch="amd64"))
PY

sed -e "s|@KERNEL@|$kernel|" -e "s|@RAMDISK@|$work/ramdisk.cpio.gz|" "$here/job.yaml" > "$work/job.yaml"
mkdir -p "$work/out"
status=0
LIBGUESTFS_BACKEND_SETTINGS=force_tcg lava-run --job-id 1 --output-dir "$work/out" --device "$work/device.yaml" \
    "$work/job.yaml" > "$work/lava-run.log" 2>&1 || status=$?
echo "lava-run exit status $status; log: $work/lava-run.log"
# The test results LAVA recorded (definition other than "lava").
grep '"lvl": "results"' "$work/lava-run.log" | grep -v '"definition": "lava"' || true
exit "$status"
