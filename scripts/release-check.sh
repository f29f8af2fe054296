#!/usr/bin/env bash
# Tests the release artifacts where they will run (long; not in CI):
#  1. the Windows build under Wine, unpacked under a path with Chinese characters and
#     spaces: `info`, `analyze --json` on both demos and `solve --exact` on a bench
#     instance, compared with the Linux build (tools/compare_json.py); then the app under
#     Wine + Xvfb, screenshot in docs/screenshots/windows-wine.png;
#  2. the .deb installed into a clean Debian 12 root (debootstrap) with apt, running
#     `carecircle info /usr/share/carecircle/maps/harbin` there.
# Runs scripts/release.sh first when dist/ lacks an artifact. Needs root (or sudo) for
# apt and the chroot.
#
#   scripts/release-check.sh            # both
#   scripts/release-check.sh windows    # or: deb
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
root_dir="$PWD"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
zip="dist/carecircle-${version}-windows-x64.zip"
deb="dist/carecircle_${version}_amd64.deb"
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
apt_need() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
linux_bin="$root_dir/target/release/carecircle"
[ -x "$linux_bin" ] || cargo build --release
failures=0
check() { # name, command…: runs it, counts a failure
  local name="$1"; shift
  if "$@"; then echo "PASS  $name"; else echo "FAIL  $name"; failures=$((failures + 1)); fi
}

if [ "$what" = all ] || [ "$what" = windows ]; then
  [ -f "$zip" ] || scripts/release.sh windows
  apt_need wine64 mingw-w64 unzip xvfb imagemagick python3
  # Debian's wine64 has no `wine` wrapper unless the `wine` package is there too.
  wine="$(command -v wine || command -v wine64 || echo /usr/lib/wine/wine64)"
  wineserver="$(command -v wineserver || echo /usr/lib/wine/wineserver)"
  # A bureau's folder: Chinese characters and spaces in the path.
  dest="$work/用户 数据/规划科"
  mkdir -p "$dest"
  unzip -q "$zip" -d "$dest"
  app="$dest/carecircle-${version}-windows-x64"
  # Wine 8.0 lacks bcryptprimitives.dll (real Windows 10+ has it): a test-only stub.
  x86_64-w64-mingw32-gcc -shared -O2 -o "$app/bcryptprimitives.dll" \
    packaging/wine/bcryptprimitives_stub.c packaging/wine/bcryptprimitives.def -ladvapi32
  export WINEPREFIX="$work/wine" WINEDEBUG=-all
  "$wine" wineboot -i >/dev/null 2>&1 || true
  win() { (cd "$app" && "$wine" ./carecircle.exe "$@"); }
  winpath() { "$wine" winepath -w "$1" 2>/dev/null; }
  out="$work/out"; mkdir -p "$out"
  for demo in harbin heihe; do
    win info "maps\\$demo" > "$out/win-info-$demo.txt" 2>&1 || true
    "$linux_bin" info "$root_dir/maps/$demo" > "$out/linux-info-$demo.txt" 2>&1 || true
    # Counts of every layer and kind: the lines after "Layers:" up to the extent.
    strip() { sed -n '/^Layers:/,/^Extent/p' "$1" | sed -E 's#[^ ]*(maps[/\\][a-z]+)[/\\]#\1/#g; s#\\#/#g'; }
    check "info $demo: the same layers and counts" diff <(strip "$out/linux-info-$demo.txt") <(strip "$out/win-info-$demo.txt")
    win analyze "maps\\$demo" --json "$(winpath "$out/win-$demo.json")" >/dev/null 2>"$out/win-analyze-$demo.err" || true
    (cd "$root_dir" && "$linux_bin" analyze "maps/$demo" --json "$out/linux-$demo.json" >/dev/null 2>&1)
    check "analyze --json $demo: Windows = Linux" python3 tools/compare_json.py "$out/linux-$demo.json" "$out/win-$demo.json"
  done
  bench="tests/fixtures/bench/city_lscp"
  cp -r "$bench" "$app/bench"
  win solve bench --exact --json > "$out/win-solve.json" 2>/dev/null || true
  "$linux_bin" solve "$bench" --exact --json > "$out/linux-solve.json" 2>/dev/null
  # Solver time differs by machine: compare the answer, not the clock.
  # The last JSON line of each; solver time differs by machine: compare the answer.
  check "solve --exact city_lscp: the same proven optimum and sites" python3 - "$out/linux-solve.json" "$out/win-solve.json" <<'PY'
import json, sys
def last(p):
    return json.loads([l for l in open(p, encoding="utf-8", errors="replace").read().splitlines() if l.startswith("{")][-1])
a, b = last(sys.argv[1]), last(sys.argv[2])
print("    Linux:", a["objective"], a["bound"], a["gap"], f"{a['seconds']:.2f} s;",
      "Windows/Wine:", b["objective"], b["bound"], b["gap"], f"{b['seconds']:.2f} s")
sys.exit(0 if (a["objective"], a["bound"], sorted(a["selected_ids"])) == (b["objective"], b["bound"], sorted(b["selected_ids"])) else 1)
PY
  # The app under Wine + Xvfb, on the bundled demo.
  Xvfb :97 -screen 0 1600x1000x24 >/dev/null 2>&1 &
  xvfb=$!
  sleep 2
  (cd "$app" && DISPLAY=:97 LIBGL_ALWAYS_SOFTWARE=1 "$wine" ./carecircle.exe >/dev/null 2>&1 &)
  sleep 40
  DISPLAY=:97 import -window root "$root_dir/docs/screenshots/windows-wine.png"
  "$wineserver" -k || true
  kill "$xvfb" || true
  check "the app started under Wine (screenshot docs/screenshots/windows-wine.png)" \
    test -s "$root_dir/docs/screenshots/windows-wine.png"
  ls -la "$app" | sed 's/^/    /'
fi

if [ "$what" = all ] || [ "$what" = deb ]; then
  [ -f "$deb" ] || scripts/release.sh deb
  apt_need debootstrap
  chroot_dir="$work/debian12"
  echo "debootstrap: a clean Debian 12 (minbase) in $chroot_dir …"
  $sudo debootstrap --variant=minbase bookworm "$chroot_dir" http://deb.debian.org/debian >/dev/null
  $sudo cp "$deb" "$chroot_dir/tmp/"
  $sudo mount -t proc proc "$chroot_dir/proc"
  trap '$sudo umount "$chroot_dir/proc" 2>/dev/null; rm -rf "$work"' EXIT
  $sudo chroot "$chroot_dir" apt-get update -qq >/dev/null
  check "apt install ./$(basename "$deb") in a clean Debian 12 (log: dist/deb-install.log)" \
    $sudo chroot "$chroot_dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "/tmp/$(basename "$deb")" \
    > dist/deb-install.log 2>&1
  echo "    $(grep -c '^Setting up' dist/deb-install.log) packages set up, carecircle's dependencies pulled by apt"
  $sudo chroot "$chroot_dir" carecircle info /usr/share/carecircle/maps/harbin > "$work/deb-info.txt" 2>&1 || true
  sed -n '1,2p' "$work/deb-info.txt" | sed 's/^/    /'
  check "carecircle info /usr/share/carecircle/maps/harbin in the chroot" grep -q "facilities" "$work/deb-info.txt"
  check "the .desktop entry and icon are installed" \
    test -f "$chroot_dir/usr/share/applications/carecircle.desktop" -a -f "$chroot_dir/usr/share/icons/hicolor/256x256/apps/carecircle.png"
fi

echo "release-check: $failures failure(s)"
exit "$failures"
