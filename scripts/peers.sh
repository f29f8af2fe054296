#!/usr/bin/env bash
# Best effort: a Python venv with the peers tests compare against (PySAL `access`; GDAL's
# GeoPackage reader through pyogrio, which reads our .gpkg files back), under
# ~/.cache/carecircle-peers. Tests that need it skip with a message when it is missing, so
# a machine without network still passes; CI gets the comparison.
set -uo pipefail
venv="${CARECIRCLE_PEERS:-$HOME/.cache/carecircle-peers}"
if "$venv/bin/python" -c "import access, pandas, pyogrio" 2>/dev/null; then
  exit 0
fi
if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends python3-venv >&2 \
    || { echo "peers: no python3-venv; comparison tests will skip" >&2; exit 0; }
fi
echo "Installing the test peers (PySAL access 1.1.10, pyogrio) into $venv" >&2
python3 -m venv "$venv" && "$venv/bin/pip" install -q access==1.1.10 pyogrio >&2 \
  || echo "peers: pip install failed; comparison tests will skip" >&2
exit 0
