#!/usr/bin/env bash
# Best effort: the Python venv holding the peers we compare against, under
# ~/.cache/carecircle-peers (or $CARECIRCLE_PEERS), installed from the pinned lists in
# tools/peers/. `peers.sh` (what ./test.sh runs) installs the test peers (PySAL `access`,
# pyogrio/GDAL); `peers.sh bench` adds the benchmark
# peers (spopt with PuLP 2.9 and highspy, networkx, pandana). A machine without network
# still passes: the tests and benches that need a peer skip with a message.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
which="${1:-test}"
case "$which" in
  test|bench) ;;
  *) echo "usage: peers.sh [test|bench]" >&2; exit 2 ;;
esac
req="$here/tools/peers/requirements-$which.txt"
venv="${CARECIRCLE_PEERS:-$HOME/.cache/carecircle-peers}"
stamp="$venv/.installed-$which"
# Reinstall only when the pinned list changed since the last install into this venv.
sum="$(sha256sum "$req" "$here/tools/peers/requirements-test.txt" | sha256sum | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
  exit 0
fi
if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends python3-venv >&2 \
    || { echo "peers: no python3-venv; comparison tests will skip" >&2; exit 0; }
fi
echo "peers: installing $req into $venv" >&2
if { [ -x "$venv/bin/python" ] || python3 -m venv "$venv"; } \
   && "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2; then
  echo "$sum" > "$stamp"
else
  echo "peers: pip install failed; comparisons that need $which peers will skip" >&2
fi
exit 0
