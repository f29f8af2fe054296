#!/usr/bin/env bash
# Installs the Debian 12 packages CareCircle needs, only those missing. Sourced by run.sh,
# test.sh and .ci/run, so a fresh machine needs no manual step. Usage: deps.sh [build|gui]
set -euo pipefail
want=(build-essential cmake pkg-config libclang-dev libproj-dev proj-data poppler-utils)
if [ "${1:-build}" = gui ]; then
  want+=(libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon-x11-0 libfontconfig1
         libgl1 libglx-mesa0 libegl1 libegl-mesa0 libgl1-mesa-dri)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust (https://rustup.rs), version 1.95 or newer" >&2
  exit 1
fi
