# Sourced by tests/run_all.sh, .ci/run and scripts/demo.sh: installs the
# Debian packages that building and testing mini needs, skipping apt
# entirely when all are there (fast, and works offline). With
# MINI_DEPS_QUIET=1 it prints one line and shows apt's output only when apt
# fails.

MINI_DEB_PACKAGES=(cmake make gcc libc6-dev flex bison pkg-config
                   libcmocka-dev libgmp-dev libedit-dev libssl-dev libb2-dev zlib1g-dev
                   libpcre2-dev)

mini_install_deps() {
  local missing=() pkg
  for pkg in "${MINI_DEB_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  if [ -z "${MINI_DEPS_QUIET:-}" ]; then
    echo "Installing missing packages: ${missing[*]}"
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
    return
  fi
  local list log
  list=$(printf '%s, ' "${missing[@]}")
  echo "installing ${list%, } ..."
  log=$(mktemp)
  if ! { "${sudo[@]}" apt-get update -q && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
           --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "installing the packages failed (apt's output above)" >&2
    return 1
  fi
  rm -f "$log"
}
