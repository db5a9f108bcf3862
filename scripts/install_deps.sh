#!/usr/bin/env bash
# Installs tailor's build dependencies from Debian 12 packages.
# As root: installs whatever is missing with apt-get. Otherwise: prints the exact apt-get line
# to run and exits 1 when something is missing.
set -euo pipefail

PACKAGES=(build-essential cmake ninja-build pkg-config libeigen3-dev libboost-dev libfmt-dev
          catch2 libbenchmark-dev libcli11-dev)
# Optional extras for development (ccache speeds up rebuilds; sklearn runs the peer benchmarks).
if [[ "${TAILOR_DEV_PACKAGES:-0}" == "1" ]]; then
  PACKAGES+=(ccache python3-sklearn python3-numpy clang-format)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all dependencies present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  echo "install_deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install_deps: missing packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
