#!/usr/bin/env bash
# Builds the arm64 test board's root filesystem: a gzip'd cpio initramfs holding only what a real board would
# have — a static arm64 busybox (Debian's busybox-static:arm64), arm64 glibc (from libc6-arm64-cross and
# libgcc-s1-arm64-cross) and the unpacked arm64 dmabuf bundle under /opt — plus tests/vm/board_init.sh as
# /init. No Node, npm, host Deno or checkout. Cached under the VM cache, keyed by the hash of everything put
# in it, so an unchanged bundle costs only the hashing. Prints initramfs=PATH on stdout; progress and errors
# on stderr. Missing Debian packages are installed when run as root (and the arm64 architecture added to dpkg
# for the busybox download), as build_kernel.sh does.
#
# Usage: tests/vm/board_root.sh DIST_TARBALL   (dist/dmabuf-<version>-linux-arm64.tar.gz from `deno task dist`)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tarball=${1:?usage: board_root.sh dmabuf-VERSION-linux-arm64.tar.gz}
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf-vm
board_cache=$cache_root/board
cross_lib=/usr/aarch64-linux-gnu/lib
# What Deno and glibc's loader need (Deno links libdl, libgcc_s, libpthread, libm, libc; librt for good measure).
libraries=(ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1)
packages=(libc6-arm64-cross libgcc-s1-arm64-cross cpio gzip)
hash_chars=12
staging=

log() { printf 'board_root: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# missing_packages and ensure_packages, shared with the other build script.
# shellcheck source=packages.sh
. "$here/packages.sh"

# Prints the path of a static arm64 busybox, downloading busybox-static:arm64 once (no install needed).
arm64_busybox() {
  local dir=$board_cache/busybox-arm64
  if [ ! -x "$dir/bin/busybox" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      [ "$(id -u)" -eq 0 ] ||
        die "dpkg does not know arm64: run as root, or: sudo dpkg --add-architecture arm64 && sudo apt-get update"
      log "adding arm64 to dpkg's architectures (for busybox-static:arm64)"
      { dpkg --add-architecture arm64 && apt-get update; } >&2 || die "Cannot add the arm64 architecture"
    fi
    local download
    download=$(mktemp -d "$board_cache/download.XXXXXX")
    chmod 755 "$download" # apt's _apt user downloads into it
    (cd "$download" && apt-get download busybox-static:arm64) >&2 ||
      { apt-get update >&2 && (cd "$download" && apt-get download busybox-static:arm64) >&2; } ||
      die "Cannot download busybox-static:arm64"
    rm -rf "$dir.tmp"
    dpkg-deb -x "$download"/busybox-static_*_arm64.deb "$dir.tmp" || die "Cannot unpack busybox-static:arm64"
    rm -rf "$download" "$dir"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir/bin/busybox"
}

main() {
  [ -r "$tarball" ] || die "No bundle: $tarball (run: deno task dist --arch arm64)"
  command -v dpkg-query >/dev/null || die "Cannot check dependencies: dpkg-query not found (Debian or Ubuntu needed)"
  ensure_packages
  mkdir -p "$board_cache"
  exec 9>"$board_cache/.lock"
  flock 9
  local busybox lib out
  busybox=$(arm64_busybox)
  staging=$(mktemp -d "$board_cache/root.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  mkdir -p "$staging"/{bin,lib,opt,dev,proc,sys,tmp,job,root}
  cp "$busybox" "$staging/bin/busybox"
  cp "$here/board_init.sh" "$staging/init"
  chmod 755 "$staging/init" "$staging/bin/busybox"
  for lib in "${libraries[@]}"; do
    cp -L "$cross_lib/$lib" "$staging/lib/$lib" || die "Missing arm64 library $cross_lib/$lib"
  done
  tar -xzf "$tarball" -C "$staging/opt" || die "Cannot unpack $tarball"
  # The key is the staged tree itself (every file's path and content), so any change of an input shows.
  local key
  key=$(cd "$staging" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-"$hash_chars")
  out=$board_cache/root-$key.cpio.gz
  if [ ! -f "$out" ]; then
    log "building the board root $out"
    (cd "$staging" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6 >"$out.tmp")
    mv "$out.tmp" "$out"
    # Older roots of other bundles are not needed again.
    find "$board_cache" -maxdepth 1 -name 'root-*.cpio.gz' ! -name "root-$key.cpio.gz" -delete
  fi
  printf 'initramfs=%s\n' "$out"
}

main "$@"
