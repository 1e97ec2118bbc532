#!/usr/bin/env bash
# Builds, once, what the test VM boots: a kernel from Debian's linux-source-6.1 with tests/vm/kernel.config
# merged over tinyconfig, its UAPI headers, and an initramfs of static busybox + tests/vm/init.sh.
# Everything lands in the cache (never in the checkout), keyed by what it is built from, so only the
# first run pays. On success it prints KEY=PATH lines on stdout (kernel, initramfs, headers, source,
# cache); progress and errors go to stderr.
#
# Usage: tests/vm/build_kernel.sh
# Env:   XDG_CACHE_HOME (cache root, default ~/.cache), DMABUF_VM_BUSYBOX (default /bin/busybox)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/kernel.config
init_script=$here/init.sh
busybox=${DMABUF_VM_BUSYBOX:-/bin/busybox}
source_package=linux-source-6.1
source_tarball=/usr/src/linux-source-6.1.tar.xz
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf-vm
# Debian packages the build and the VM need (gcc and make included for minimal CI images).
packages=(linux-source-6.1 qemu-system-x86 busybox-static flex bison bc libelf-dev cpio xz-utils gzip gcc make
  util-linux)
# Lines of the build log shown when the build fails.
log_tail_lines=40
# Characters of a sha256 kept in cache directory and file names.
hash_chars=12

log() { printf 'build_kernel: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# Prints the packages of $packages that dpkg does not know as installed.
missing_packages() {
  local p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

# Installs missing packages when root; otherwise fails naming exactly what to install.
ensure_packages() {
  command -v dpkg-query >/dev/null || die "Cannot check build dependencies: dpkg-query not found (Debian or Ubuntu needed)"
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  missing=${missing% }
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "Missing Debian packages: $missing (install them with: sudo apt-get install -y $missing)"
  fi
  log "installing missing packages: $missing"
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $missing; } >&2 ||
    die "Cannot install packages: $missing"
}

# Hash of the given files' contents, shortened for use in names.
short_hash() { cat "$@" | sha256sum | cut -c1-"$hash_chars"; }

# Lists fragment options that did not end up in the .config given, as written in the fragment.
unset_options() {
  local config=$1 line name value
  while IFS= read -r line; do
    case $line in
      CONFIG_*=*) ;;
      *) continue ;;
    esac
    name=${line%%=*}
    value=${line#*=}
    if [ "$value" = n ]; then
      grep -q "^$name=" "$config" && echo "$line"
    else
      grep -qxF "$line" "$config" || echo "$line (got: $(grep -E "^(# )?$name[= ]" "$config" || echo absent))"
    fi
  done <"$fragment"
  return 0
}

# Builds bzImage and headers into $1 (a fresh directory); logs to $1/build.log.
build_kernel() {
  local dir=$1 tree=$1/linux buildlog=$1/build.log jobs
  jobs=$(($(nproc) + 1))
  mkdir -p "$tree"
  : >"$buildlog"
  log "building the kernel in $dir (first time only, ~10 min on 2 cores; log: $buildlog)"
  run_logged "$buildlog" tar -xJf "$source_tarball" -C "$tree" --strip-components=1
  run_logged "$buildlog" make -C "$tree" ARCH=x86_64 tinyconfig
  run_logged "$buildlog" "$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$fragment"
  run_logged "$buildlog" make -C "$tree" ARCH=x86_64 olddefconfig
  local unset
  unset=$(unset_options "$tree/.config")
  if [ -n "$unset" ]; then
    log "Kernel config is missing fragment options:"
    printf '  %s\n' "$unset" >&2
    die "Kernel build failed: options of $fragment did not survive olddefconfig (check their dependencies)"
  fi
  run_logged "$buildlog" make -C "$tree" ARCH=x86_64 -j"$jobs" bzImage
  run_logged "$buildlog" make -C "$tree" ARCH=x86_64 headers
  cp "$tree/.config" "$dir/config"
  rm -rf "$dir/headers"
  cp -a "$tree/usr/include" "$dir/headers"
  # bzImage is written last: its presence marks a complete build.
  cp "$tree/arch/x86/boot/bzImage" "$dir/bzImage.tmp"
  mv "$dir/bzImage.tmp" "$dir/bzImage"
}

# Runs a command with output appended to the log; on failure prints the log's tail and exits.
run_logged() {
  local buildlog=$1
  shift
  echo "+ $*" >>"$buildlog"
  if ! "$@" >>"$buildlog" 2>&1; then
    tail -n "$log_tail_lines" "$buildlog" >&2
    die "Kernel build failed: '$*' exited non-zero (full log: $buildlog)"
  fi
}

# Builds the initramfs (busybox + init.sh as /init) unless cached; prints its path. The name carries the
# hash of the staged copies, so an edit during the build cannot end up under a stale name.
build_initramfs() {
  local staging out
  staging=$(mktemp -d "$cache_root/initramfs.XXXXXX")
  mkdir -p "$staging/bin" "$staging/dev" "$staging/proc" "$staging/sys" "$staging/newroot" "$staging/job"
  cp "$busybox" "$staging/bin/busybox"
  cp "$init_script" "$staging/init"
  chmod 755 "$staging/init" "$staging/bin/busybox"
  out=$cache_root/initramfs-$(short_hash "$staging/init" "$staging/bin/busybox").cpio.gz
  if [ ! -f "$out" ]; then
    (cd "$staging" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 >"$out.tmp")
    mv "$out.tmp" "$out"
  fi
  rm -rf "$staging"
  echo "$out"
}

main() {
  ensure_packages
  [ -r "$source_tarball" ] || die "Kernel source not found: $source_tarball (reinstall $source_package)"
  [ -x "$busybox" ] || die "Busybox not found: $busybox (install busybox-static)"
  if command -v file >/dev/null && ! file -bL "$busybox" | grep -q 'statically linked'; then
    die "Busybox is not static: $busybox (install busybox-static)"
  fi
  mkdir -p "$cache_root"
  local version kernel_dir initramfs
  version=$(dpkg-query -W -f='${Version}' "$source_package")
  kernel_dir=$cache_root/$version-$(short_hash "$fragment")

  # Concurrent runs (parallel CI jobs) wait for one build instead of racing.
  exec 9>"$cache_root/.lock"
  flock 9
  if [ ! -f "$kernel_dir/bzImage" ]; then
    rm -rf "$kernel_dir"
    mkdir -p "$kernel_dir"
    local start=$SECONDS
    build_kernel "$kernel_dir"
    log "kernel built in $((SECONDS - start)) s"
  fi
  initramfs=$(build_initramfs)
  flock -u 9

  printf 'kernel=%s\ninitramfs=%s\nheaders=%s\nsource=%s\ncache=%s\n' "$kernel_dir/bzImage" "$initramfs" \
    "$kernel_dir/headers" "$kernel_dir/linux" "$kernel_dir"
}

main "$@"
