# Sourced by build_kernel.sh and board_root.sh: installs the Debian packages a build needs. The caller sets
# the array `packages` and defines `log` and `die`.

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
