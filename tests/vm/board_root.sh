#!/usr/bin/env bash
# Builds a test board's root filesystem: a gzip'd cpio initramfs holding only what a real board would have —
# a static busybox of the board's architecture (Debian's busybox-static, downloaded, not installed), that
# architecture's glibc (the host's own on x86_64; libc6-arm64-cross and libgcc-s1-arm64-cross on arm64) and
# the unpacked dmabuf bundle under /opt — plus tests/vm/board_init.sh as /init. No Node, npm, host Deno or
# checkout. The arm64 board tier boots it through run.ts (its init runs a job from a 9p share); the LAVA tier
# (tests/lava/test_lava.ts) boots the same root of either architecture as a LAVA device's ramdisk (its init
# gives a shell on the console: `dmabuf.init=shell` on the kernel command line). Cached under the VM cache,
# one per architecture, keyed by the hash of everything put in it, so an unchanged bundle costs only the
# hashing. Prints initramfs=PATH on stdout; progress and errors on stderr. Missing Debian packages are
# installed when run as root (and the arm64 architecture added to dpkg for the arm64 busybox download), as
# build_kernel.sh does.
#
# Usage: tests/vm/board_root.sh --arch x86_64|arm64 DIST_TARBALL
#        (DIST_TARBALL: dist/dmabuf-<version>-linux-x64.tar.gz or -linux-arm64.tar.gz from `deno task dist`)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf-vm
board_cache=$cache_root/board
# What Deno and glibc's loader need (Deno links libdl, libgcc_s, libpthread, libm, libc; librt for good measure).
libraries=(libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1)
hash_chars=12
staging=

log() { printf 'board_root: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

usage_error() {
  log "$*"
  exit 2
}

# ensure_packages and unpack_deb, shared with the other build scripts.
# shellcheck source=packages.sh
. "$here/packages.sh"

# Reads --arch and the tarball; sets the architecture's Debian name, glibc directory and loader (which goes
# where the ELF headers of that architecture look for it: /lib64 on x86_64, /lib on arm64; glibc's search path
# includes /lib on both), and the packages that provide them.
parse_args() {
  arch=
  tarball=
  while [ $# -gt 0 ]; do
    case $1 in
      --arch) arch=${2:-}; shift 2 || usage_error "--arch needs a value" ;;
      -*) usage_error "Unknown option \"$1\": expected --arch" ;;
      *) [ -z "$tarball" ] || usage_error "Unexpected argument \"$1\": one tarball only"; tarball=$1; shift ;;
    esac
  done
  case $arch in
    x86_64)
      deb_arch=amd64 lib_dir=/lib/x86_64-linux-gnu loader=ld-linux-x86-64.so.2 loader_dir=lib64
      packages=(libc6 libgcc-s1 cpio gzip)
      ;;
    arm64)
      deb_arch=arm64 lib_dir=/usr/aarch64-linux-gnu/lib loader=ld-linux-aarch64.so.1 loader_dir=lib
      packages=(libc6-arm64-cross libgcc-s1-arm64-cross cpio gzip)
      ;;
    "") usage_error "usage: board_root.sh --arch x86_64|arm64 dmabuf-VERSION-linux-ARCH.tar.gz" ;;
    *) usage_error "Unknown architecture \"$arch\": expected x86_64 or arm64" ;;
  esac
  [ -n "$tarball" ] || usage_error "usage: board_root.sh --arch x86_64|arm64 dmabuf-VERSION-linux-ARCH.tar.gz"
}

# Prints the path of a static busybox for $deb_arch, downloading busybox-static:$deb_arch once (no install).
board_busybox() {
  local dir=$board_cache/busybox-$deb_arch
  if [ ! -x "$dir/bin/busybox" ]; then
    if [ "$deb_arch" != "$(dpkg --print-architecture)" ] &&
      ! dpkg --print-foreign-architectures | grep -qx "$deb_arch"; then
      [ "$(id -u)" -eq 0 ] ||
        die "dpkg does not know $deb_arch: run as root, or: sudo dpkg --add-architecture $deb_arch && sudo apt-get update"
      log "adding $deb_arch to dpkg's architectures (for busybox-static:$deb_arch)"
      { dpkg --add-architecture "$deb_arch" && apt-get update; } >&2 || die "Cannot add the $deb_arch architecture"
    fi
    unpack_deb "busybox-static:$deb_arch" "$dir"
  fi
  echo "$dir/bin/busybox"
}

main() {
  parse_args "$@"
  [ -r "$tarball" ] || die "No bundle: $tarball (run: deno task dist)"
  command -v dpkg-query >/dev/null || die "Cannot check dependencies: dpkg-query not found (Debian or Ubuntu needed)"
  ensure_packages
  mkdir -p "$board_cache"
  exec 9>"$board_cache/.lock"
  flock 9
  local busybox lib out
  busybox=$(board_busybox)
  staging=$(mktemp -d "$board_cache/root.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  mkdir -p "$staging"/{bin,lib,opt,dev,proc,sys,tmp,job,root} "$staging/$loader_dir"
  cp "$busybox" "$staging/bin/busybox"
  cp "$here/board_init.sh" "$staging/init"
  chmod 755 "$staging/init" "$staging/bin/busybox"
  for lib in "${libraries[@]}"; do
    cp -L "$lib_dir/$lib" "$staging/lib/$lib" || die "Missing $arch library $lib_dir/$lib"
  done
  cp -L "$lib_dir/$loader" "$staging/$loader_dir/$loader" || die "Missing $arch loader $lib_dir/$loader"
  tar -xzf "$tarball" -C "$staging/opt" || die "Cannot unpack $tarball"
  # The key is the staged tree itself (every file's path and content), so any change of an input shows.
  local key
  key=$(cd "$staging" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-"$hash_chars")
  out=$board_cache/root-$arch-$key.cpio.gz
  if [ ! -f "$out" ]; then
    log "building the $arch board root $out"
    (cd "$staging" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6 >"$out.tmp")
    mv "$out.tmp" "$out"
    # Older roots of this architecture (other bundles) are not needed again.
    find "$board_cache" -maxdepth 1 -name "root-$arch-*.cpio.gz" ! -name "root-$arch-$key.cpio.gz" -delete
  fi
  printf 'initramfs=%s\n' "$out"
}

main "$@"
