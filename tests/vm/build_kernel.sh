#!/usr/bin/env bash
# Builds, once, what the test VM boots: a kernel from Debian's linux-source-<version> with
# tests/vm/kernel.config + kernel.<arch>.config (+ kernel.<version>.config and kernel.<arch>-<version>.config
# where present) merged over tinyconfig, its UAPI headers and, on x86_64, an initramfs of static busybox +
# tests/vm/init.sh (the arm64 board's root is built by board_root.sh). Everything lands in the cache (never in
# the checkout), keyed by what it is built from, so only the first run pays. On success it prints KEY=PATH
# lines on stdout (kernel, initramfs on x86_64, headers, source, cache); progress and errors go to stderr.
#
# The sources: 6.1 and 6.12 are bookworm's own linux-source packages, installed with apt-get like the other
# build dependencies. 5.10 (bullseye) and 7.2 (sid) come from other Debian suites through a private apt
# source list kept in the cache (apt's -o Dir::... options; /etc/apt is never read for sources nor changed):
# the package is downloaded, not installed, and its tarball kept in the cache.
#
# Usage: tests/vm/build_kernel.sh [--kernel 5.10|6.1|6.12|7.2] [--arch x86_64|arm64] [--page-size 4k|16k]
#                                 [--config-only]
#        (defaults: x86_64, 4k, and 6.1 on x86_64, 6.12 on arm64, its only kernel; 16k pages exist only on arm64)
#        --config-only: configure a scratch tree, check the fragment survived, print config=PATH, no build
# Env:   XDG_CACHE_HOME (cache root, default ~/.cache), DMABUF_VM_BUSYBOX (default /bin/busybox)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
init_script=$here/init.sh
busybox=${DMABUF_VM_BUSYBOX:-/bin/busybox}
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf-vm
kernel_version=
arch=x86_64
page_size=4k
config_only=0
# Lines of the build log shown when the build fails.
log_tail_lines=40
# Characters of a sha256 kept in cache directory and file names.
hash_chars=12

log() { printf 'build_kernel: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

usage_error() {
  log "$*"
  exit 2
}

# Reads --kernel, --arch and --page-size; sets the per-architecture names the build needs.
parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --kernel) kernel_version=${2:-}; shift 2 || usage_error "--kernel needs a value" ;;
      --arch) arch=${2:-}; shift 2 || usage_error "--arch needs a value" ;;
      --page-size) page_size=${2:-}; shift 2 || usage_error "--page-size needs a value" ;;
      --config-only) config_only=1; shift ;;
      *) usage_error "Unknown argument \"$1\": expected --kernel, --arch, --page-size or --config-only" ;;
    esac
  done
  # The default: 6.1 on x86_64, the arm64 board's only kernel there.
  [ -n "$kernel_version" ] || { [ "$arch" = arm64 ] && kernel_version=6.12 || kernel_version=6.1; }
  # The Debian suite each version comes from; "" is the host's own (bookworm), installed with apt-get.
  case $kernel_version in
    5.10) source_suite=bullseye ;;
    6.1 | 6.12) source_suite= ;;
    7.2) source_suite=sid ;;
    *) usage_error "Unknown kernel \"$kernel_version\": expected 5.10, 6.1, 6.12 or 7.2" ;;
  esac
  case $arch in
    x86_64)
      make_arch=x86_64 cross= image_path=arch/x86/boot/bzImage image_target=bzImage
      qemu_package=qemu-system-x86
      # The real-program tier runs these unmodified in the guest (it sees the host's root over 9p).
      arch_packages=(v4l-utils gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
      [ "$page_size" = 4k ] || usage_error "Page size $page_size does not exist on x86_64: only 4k"
      ;;
    arm64)
      make_arch=arm64 cross=aarch64-linux-gnu- image_path=arch/arm64/boot/Image image_target=Image
      qemu_package=qemu-system-arm arch_packages=(gcc-aarch64-linux-gnu)
      case $page_size in 4k | 16k) ;; *) usage_error "Unknown page size \"$page_size\": expected 4k or 16k" ;; esac
      [ "$kernel_version" = 6.12 ] || usage_error "The arm64 board runs Linux 6.12 only, not $kernel_version"
      ;;
    *) usage_error "Unknown architecture \"$arch\": expected x86_64 or arm64" ;;
  esac
  source_package=linux-source-$kernel_version
  # Debian packages the build and the VM need (gcc and make included for minimal CI images); the host's own
  # kernel source package, or the download of another suite's (private_source).
  packages=("$qemu_package" "${arch_packages[@]}" busybox-static flex bison bc libelf-dev cpio xz-utils gzip gcc
    make util-linux)
  if [ -z "$source_suite" ]; then
    packages+=("$source_package")
  else
    packages+=(dpkg-dev)
  fi
  # pahole, which turns the kernel's DWARF into BTF (CONFIG_DEBUG_INFO_BTF, the 7.2 kernel's BPF iterator).
  [ "$kernel_version" != 7.2 ] || packages+=(dwarves)
}

# Sets source_tarball and source_version: the host's installed package, or another suite's package fetched
# once through a private apt source list in the cache ($cache_root/apt-<suite>/: sources.list, lists, the
# downloaded .deb, and the tarball unpacked from it). The host's apt configuration is neither read for
# sources nor changed.
find_source() {
  if [ -z "$source_suite" ]; then
    source_tarball=/usr/src/linux-source-$kernel_version.tar.xz
    [ -r "$source_tarball" ] || die "Kernel source not found: $source_tarball (reinstall $source_package)"
    source_version=$(dpkg-query -W -f='${Version}' "$source_package")
    return 0
  fi
  local dir=$cache_root/apt-$source_suite
  source_tarball=$dir/linux-source-$kernel_version.tar.xz
  if [ ! -r "$source_tarball" ] || [ ! -s "$dir/$source_package.version" ]; then
    private_source "$dir"
  fi
  source_version=$(cat "$dir/$source_package.version")
}

# Downloads $source_package from $source_suite into $1 and unpacks its tarball there.
private_source() {
  local dir=$1 deb
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb http://deb.debian.org/debian $source_suite main" >"$dir/sources.list"
  # As root, apt would hand the download to its sandbox user, who cannot enter a cache under /root.
  local apt=(-o "APT::Sandbox::User=$(id -un)" -o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  log "fetching $source_package from Debian $source_suite (private source list in $dir)"
  apt-get "${apt[@]}" update >&2 || die "Cannot read Debian $source_suite's package lists (apt-get update, list in $dir)"
  rm -f "$dir"/"$source_package"_*.deb
  # apt's sandbox user (_apt) downloads into the directory it is run from.
  chmod 755 "$dir"
  (cd "$dir" && apt-get "${apt[@]}" download "$source_package") >&2 ||
    die "Cannot download $source_package from Debian $source_suite"
  deb=$(ls "$dir"/"$source_package"_*.deb)
  dpkg-deb -f "$deb" Version >"$dir/$source_package.version.tmp" || die "Cannot read the version of $deb"
  rm -rf "$dir/root"
  dpkg-deb -x "$deb" "$dir/root" || die "Cannot unpack $deb"
  mv "$dir/root/usr/src/linux-source-$kernel_version.tar.xz" "$dir/linux-source-$kernel_version.tar.xz.tmp" ||
    die "$deb holds no usr/src/linux-source-$kernel_version.tar.xz"
  mv "$dir/linux-source-$kernel_version.tar.xz.tmp" "$dir/linux-source-$kernel_version.tar.xz"
  mv "$dir/$source_package.version.tmp" "$dir/$source_package.version"
  rm -rf "$dir/root" "$deb"
}

# Writes the merged fragment (common, architecture, version, architecture-and-version, page size) to $1.
merged_fragment() {
  local out=$1 part
  : >"$out"
  for part in kernel.config "kernel.$arch.config" "kernel.$kernel_version.config" \
    "kernel.$arch-$kernel_version.config"; do
    [ -f "$here/$part" ] && { printf '\n# from %s\n' "$part"; cat "$here/$part"; } >>"$out"
  done
  if [ "$arch" = arm64 ]; then
    printf '\n# from --page-size\nCONFIG_ARM64_%sK_PAGES=y\n' "${page_size%k}" >>"$out"
  fi
  return 0
}

# missing_packages and ensure_packages, shared with the other build script.
# shellcheck source=packages.sh
. "$here/packages.sh"

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

# Configures the tree $1/linux from the source tarball: tinyconfig, the merged fragment, olddefconfig; fails
# naming every fragment option that did not survive. Logs to $2.
configure_tree() {
  local dir=$1 buildlog=$2 tree=$1/linux
  mkdir -p "$tree"
  run_logged "$buildlog" tar -xJf "$source_tarball" -C "$tree" --strip-components=1
  run_logged "$buildlog" "${kmake[@]}" tinyconfig
  # merge_config.sh runs make itself and needs ARCH and CROSS_COMPILE from the environment.
  ARCH=$make_arch CROSS_COMPILE=$cross run_logged "$buildlog" "$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" \
    "$tree/.config" "$fragment"
  run_logged "$buildlog" "${kmake[@]}" olddefconfig
  local unset
  unset=$(unset_options "$tree/.config")
  if [ -n "$unset" ]; then
    log "Kernel config is missing fragment options:"
    printf '  %s\n' "$unset" >&2
    die "Kernel build failed: options of tests/vm/kernel*.config did not survive olddefconfig (check their dependencies)"
  fi
}

# Builds the kernel image and headers into $1 (a fresh directory); logs to $1/build.log.
build_kernel() {
  local dir=$1 tree=$1/linux buildlog=$1/build.log jobs
  jobs=$(($(nproc) + 1))
  : >"$buildlog"
  kmake=(make -C "$tree" ARCH="$make_arch" ${cross:+CROSS_COMPILE="$cross"})
  log "building the $arch $kernel_version kernel in $dir (first time only, 5-10 min on 2 cores; log: $buildlog)"
  configure_tree "$dir" "$buildlog"
  run_logged "$buildlog" "${kmake[@]}" -j"$jobs" "$image_target"
  run_logged "$buildlog" "${kmake[@]}" headers
  cp "$tree/.config" "$dir/config"
  rm -rf "$dir/headers"
  cp -a "$tree/usr/include" "$dir/headers"
  # Object files are not needed again (the tree is kept for its sources, headers, kunit.py and, with BTF,
  # vmlinux): dropping them keeps each cached kernel small.
  find "$tree" -name '*.o' -delete
  # The image is written last: its presence marks a complete build.
  cp "$tree/$image_path" "$dir/$image_target.tmp"
  mv "$dir/$image_target.tmp" "$dir/$image_target"
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
    (cd "$staging" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 >"$out.tmp.$$")
    mv "$out.tmp.$$" "$out"
  fi
  rm -rf "$staging"
  echo "$out"
}

main() {
  parse_args "$@"
  ensure_packages
  mkdir -p "$cache_root"
  find_source
  [ -x "$busybox" ] || die "Busybox not found: $busybox (install busybox-static)"
  if command -v file >/dev/null && ! file -bL "$busybox" | grep -q 'statically linked'; then
    die "Busybox is not static: $busybox (install busybox-static)"
  fi
  local kernel_dir initramfs=
  fragment=$(mktemp "$cache_root/fragment.XXXXXX")
  trap 'rm -f "$fragment"' EXIT
  merged_fragment "$fragment"
  if [ "$config_only" = 1 ]; then
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-kconfig.XXXXXX")
    trap 'rm -f "$fragment"; rm -rf "${scratch:?}/linux"' EXIT
    kmake=(make -C "$scratch/linux" ARCH="$make_arch" ${cross:+CROSS_COMPILE="$cross"})
    configure_tree "$scratch" "$scratch/config.log"
    cp "$scratch/linux/.config" "$scratch/config"
    printf 'config=%s\n' "$scratch/config"
    return 0
  fi
  # x86_64 keeps its old directory name (no arch part), so existing caches stay valid.
  kernel_dir=$cache_root/$source_version-$(short_hash "$fragment")
  [ "$arch" = x86_64 ] || kernel_dir=$cache_root/$source_version-$arch-$page_size-$(short_hash "$fragment")

  # Concurrent runs (parallel CI jobs) wait for one build instead of racing. A kernel already built (its
  # image is written last) needs no lock, so it does not wait for the build of another one.
  if [ ! -f "$kernel_dir/$image_target" ]; then
    exec 9>"$cache_root/.lock"
    flock 9
    if [ ! -f "$kernel_dir/$image_target" ]; then
      rm -rf "$kernel_dir"
      mkdir -p "$kernel_dir"
      local start=$SECONDS
      build_kernel "$kernel_dir"
      log "kernel built in $((SECONDS - start)) s"
    fi
    flock -u 9
  fi
  [ "$arch" = x86_64 ] && initramfs=$(build_initramfs)

  printf 'kernel=%s\n' "$kernel_dir/$image_target"
  [ -z "$initramfs" ] || printf 'initramfs=%s\n' "$initramfs"
  printf 'headers=%s\nsource=%s\ncache=%s\npage_size=%s\n' "$kernel_dir/headers" "$kernel_dir/linux" \
    "$kernel_dir" "$page_size"
}

main "$@"
