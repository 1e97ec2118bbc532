#!/usr/bin/env bash
# Prepares what the LAVA tier (tests/lava/test_lava.ts) needs from Debian: LAVA's dispatcher installed
# (lava-dispatcher: lava-run, libguestfs, QEMU; git, which LAVA clones test definitions with; the host kernel
# package, which libguestfs boots its appliance with and supermin only recommends), and LAVA's device-type
# templates. Those are shipped only by lava-server, which is not installed: the lava-server package of the
# installed dispatcher's version is downloaded with apt-get and unpacked into the cache, once. Missing
# packages are installed when run as root, otherwise named in a one-line error (tests/vm/packages.sh). Prints
# lava_version=VERSION, device_types=DIR and cache=DIR (the LAVA tier's directory in the VM cache, which the
# test VM sees, unlike the host's /tmp) on stdout; progress and errors on stderr.
#
# Usage: tests/vm/lava_setup.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf-vm
lava_cache=$cache_root/lava
# Where Debian's lava-server keeps the device-type templates (qemu.jinja2, base.jinja2, ...).
templates_path=usr/share/lava-server/device-types
packages=(lava-dispatcher git python3-jinja2 "linux-image-$(dpkg --print-architecture)")

log() { printf 'lava_setup: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# shellcheck source=packages.sh
. "$here/packages.sh"

main() {
  [ $# -eq 0 ] || { log "Unexpected argument \"$1\": lava_setup.sh takes none"; exit 2; }
  ensure_packages
  local version dir
  version=$(dpkg-query -W -f='${Version}' lava-dispatcher) || die "Cannot read lava-dispatcher's version"
  dir=$lava_cache/lava-server-$version
  mkdir -p "$lava_cache"
  exec 9>"$lava_cache/.lock"
  flock 9
  if [ ! -f "$dir/$templates_path/qemu.jinja2" ]; then
    log "downloading lava-server $version for its device-type templates"
    unpack_deb "lava-server=$version" "$dir"
    [ -f "$dir/$templates_path/qemu.jinja2" ] || die "lava-server $version has no $templates_path/qemu.jinja2"
  fi
  printf 'lava_version=%s\ndevice_types=%s\ncache=%s\n' "$version" "$dir/$templates_path" "$lava_cache"
}

main "$@"
