# Sourced by build_kernel.sh, board_root.sh and lava_setup.sh: installs the Debian packages a build needs
# (the caller sets the array `packages` and defines `log` and `die`), and unpacks one without installing it.

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
  # Another build of the same run (npm test builds kernels in the background) may hold dpkg's lock: wait.
  local wait=(-o DPkg::Lock::Timeout=1800)
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  { apt-get "${wait[@]}" update && DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y $missing; } >&2 ||
    die "Cannot install packages: $missing"
}

# unpack_deb PACKAGE DIR: downloads PACKAGE (apt-get download, e.g. busybox-static:arm64 or
# lava-server=2023.01-2; no install) and unpacks its files into DIR, replacing DIR only once all went well.
# The download goes to a directory beside DIR. Fails (die) naming the package.
unpack_deb() {
  local package=$1 dir=$2 download
  mkdir -p "$(dirname "$dir")"
  download=$(mktemp -d "$dir.download.XXXXXX")
  chmod 755 "$download" # apt's _apt user downloads into it
  (cd "$download" && apt-get download "$package") >&2 ||
    { apt-get update >&2 && (cd "$download" && apt-get download "$package") >&2; } ||
    { rm -rf "$download"; die "Cannot download $package"; }
  local unpacked
  unpacked=$(mktemp -d "$dir.tmp.XXXXXX")
  chmod 755 "$unpacked"
  dpkg-deb -x "$download"/*.deb "$unpacked" || { rm -rf "$download" "$unpacked"; die "Cannot unpack $package"; }
  rm -rf "$download" "$dir"
  mv "$unpacked" "$dir"
}
