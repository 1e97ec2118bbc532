#!/bin/sh
# dmabuf @VERSION@ for Linux @ARCH@: the launcher of the board bundle (bin/dmabuf). It runs lib/dmabuf/main.js
# (the CLI, bundled: main.js and one chunk per command body, loaded when that command runs) with lib/deno
# (Deno @DENO_VERSION@ for @MACHINE@) and needs nothing else than glibc and a POSIX sh (busybox is enough).
# Before Deno starts it refuses, with one line and exit 1, a machine that cannot run this bundle: another
# architecture, 32-bit ARM, no glibc.
#
# Nothing is written to the install directory. Deno's cache (DENO_DIR, else $XDG_CACHE_HOME/deno or
# ~/.cache/deno) only holds V8's code cache for lib/dmabuf/, which saves 15-25 ms per start on an x86_64 PC:
# where it cannot be created (HOME missing or read-only) Deno silently keeps it in memory, so nothing is needed
# there. DENO_DIR=/dev/null/deno turns it off for certain, as cli/launch_env.sh (put in below) does where HOME
# is set but is no directory.
# Test hook: DMABUF_PREFLIGHT_ROOT is prefixed to the paths the pre-flight reads (the glibc and musl
# loaders, /proc/self/smaps), so tests can fake another system.

version=@VERSION@
bundle_arch=@ARCH@
fake_root=${DMABUF_PREFLIGHT_ROOT-}

fail() {
  echo "dmabuf: $*" >&2
  exit 1
}

# The install directory, through any chain of symlinks to bin/dmabuf.
self=$0
case $self in
  */*) ;;
  *) self=$(command -v -- "$self") || self=./$0 ;;
esac
while [ -L "$self" ]; do
  link=$(readlink -- "$self") || break
  case $link in
    /*) self=$link ;;
    *) self=${self%/*}/$link ;;
  esac
done
install_dir=$(cd -P -- "${self%/*}/.." && pwd) || fail "cannot find the install directory of $0"
deno=$install_dir/lib/deno
script=$install_dir/lib/dmabuf/main.js

# The architecture: Deno exists for 64-bit x86 and 64-bit little-endian ARM with glibc only.
machine=$(uname -m 2>/dev/null) || machine=unknown
case $machine in
  x86_64 | amd64) machine_arch=x64 ;;
  aarch64 | arm64) machine_arch=arm64 ;;
  arm* | aarch64_be)
    fail "this machine is $machine (32-bit or big-endian ARM): Deno has no build for it, so dmabuf cannot run (a 64-bit aarch64 kernel and userland are needed)"
    ;;
  i?86) fail "this machine is $machine (32-bit x86): Deno has no 32-bit build, so dmabuf cannot run" ;;
  *) fail "this machine is $machine: Deno has builds for x86_64 and aarch64 Linux only, so dmabuf cannot run" ;;
esac
[ "$machine_arch" = "$bundle_arch" ] ||
  fail "this is the linux-$bundle_arch bundle but this machine is $machine: use dmabuf-$version-linux-$machine_arch.tar.gz"

# The C library: Deno is linked against glibc, whose loader must be where its ELF header says.
case $bundle_arch in
  x64) loader=/lib64/ld-linux-x86-64.so.2 ;;
  *) loader=/lib/ld-linux-aarch64.so.1 ;;
esac
if [ ! -e "$fake_root$loader" ]; then
  for musl in "$fake_root"/lib/ld-musl-*.so.1; do
    [ -e "$musl" ] && fail "this system's C library is musl (${musl#"$fake_root"}), not glibc: Deno needs glibc ($loader), so dmabuf cannot run"
  done
  [ -e "$fake_root/lib/ld-linux-armhf.so.3" ] &&
    fail "this system's userland is 32-bit ARM (/lib/ld-linux-armhf.so.3, no $loader): Deno has no 32-bit build, so dmabuf cannot run"
  fail "no glibc on this system ($loader is missing): Deno needs glibc, so dmabuf cannot run"
fi
[ -x "$deno" ] || fail "the Deno runtime of this bundle is missing: $deno (unpack the whole tarball again)"

@LAUNCH_ENV@

export DENO_NO_UPDATE_CHECK=1
# Lazy dynamic imports: Deno would otherwise read every command's chunk before starting any command.
set -- run --allow-all --no-prompt --no-config --no-lock --no-remote --no-npm --quiet \
  --unstable-lazy-dynamic-imports "$script" "$@"

# Deno's aarch64 build is reported to crash at start on kernels whose pages are not 4 KiB
# (denoland/deno#36282). Where the page size differs, a minimal start is tried first, so a crash gets one line
# that names the cause; the command itself is still exec'd, so it keeps this process's pid (scripts pass $!
# to `dmabuf info --pid`).
page_kib=4
while read -r key value unit; do
  case $key in
    KernelPageSize:)
      page_kib=$value
      break
      ;;
  esac
done 2>/dev/null <"$fake_root/proc/self/smaps"
if [ "$page_kib" != 4 ]; then
  "$deno" eval --no-config --no-code-cache --quiet 0 >/dev/null 2>&1
  status=$?
  if [ "$status" -gt 128 ]; then
    echo "dmabuf: Deno died at start (signal $((status - 128))) on this kernel with $page_kib KiB pages: Deno's aarch64 build is reported to crash on kernels whose pages are not 4 KiB (denoland/deno#36282); boot a 4 KiB-page kernel" >&2
    exit "$status"
  fi
fi
exec "$deno" "$@"
