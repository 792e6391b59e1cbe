# Sourced by tests/run_all.sh and .ci/run: installs the Debian packages that
# building and testing mini needs, skipping apt entirely when all are there
# (fast, and works offline).

MINI_DEB_PACKAGES=(cmake make gcc libc6-dev flex bison pkg-config
                   libcmocka-dev libgmp-dev libedit-dev)

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
  echo "Installing missing packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}
