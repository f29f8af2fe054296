#!/usr/bin/env bash
# One release command: the Windows x64 build (cross-compiled with mingw-w64) as a zip and
# the Debian package, with SHA-256 sums, in dist/. Installs what it needs when missing:
# the Rust target, mingw-w64 (apt), cargo-deb (cargo) and the build's own apt packages.
#
#   scripts/release.sh            # both
#   scripts/release.sh windows    # or just one: windows | deb
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
mkdir -p dist
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
apt_need() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "release: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}
bash scripts/deps.sh build

if [ "$what" = all ] || [ "$what" = deb ]; then
  apt_need dpkg-dev
  command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
  cargo build --release
  deb="dist/carecircle_${version}_amd64.deb"
  cargo deb --no-build --output "$deb"
  echo "release: $deb ($(du -h "$deb" | cut -f1))"
fi

if [ "$what" = all ] || [ "$what" = windows ]; then
  apt_need mingw-w64 zip
  rustup target list --installed | grep -qx x86_64-pc-windows-gnu \
    || rustup target add x86_64-pc-windows-gnu
  target=x86_64-pc-windows-gnu
  # No PROJ on Windows: the built-in CRS path (see README, "Coordinates and datums").
  cargo build --release --target "$target" --no-default-features --features gui
  stage="$(mktemp -d)/carecircle-${version}-windows-x64"
  mkdir -p "$stage"
  cp "target/$target/release/carecircle.exe" "$stage/"
  # mingw's C++ runtime, beside the exe (HiGHS is C++): nothing for the user to hunt for.
  gcc_dir="$(dirname "$(x86_64-w64-mingw32-g++-posix -print-libgcc-file-name)")"
  for dll in libstdc++-6.dll libgcc_s_seh-1.dll; do
    cp "$gcc_dir/$dll" "$stage/" 2>/dev/null \
      || cp "$(find /usr/lib/gcc/x86_64-w64-mingw32 -path '*posix*' -name "$dll" | head -1)" "$stage/"
  done
  cp /usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll "$stage/"
  # Symbols are for debugging here, not on a planner's PC (66 MB → about a third).
  x86_64-w64-mingw32-strip "$stage"/*.exe "$stage"/*.dll
  mkdir -p "$stage/maps"
  cp -r maps/harbin maps/heihe "$stage/maps/"
  rm -rf "$stage"/maps/*/.carecircle-cache "$stage"/maps/*/*.edits.jsonl
  cp README.md LICENSE packaging/ATTRIBUTION.md assets/fonts/COPYRIGHT-wqy-microhei.txt "$stage/"
  zipfile="$PWD/dist/carecircle-${version}-windows-x64.zip"
  rm -f "$zipfile"
  (cd "$(dirname "$stage")" && zip -qr "$zipfile" "$(basename "$stage")")
  echo "release: dist/carecircle-${version}-windows-x64.zip ($(du -h "$zipfile" | cut -f1))"
fi

(cd dist && sha256sum carecircle* | grep -v SHA256SUMS > SHA256SUMS)
cat dist/SHA256SUMS
