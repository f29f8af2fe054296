#!/usr/bin/env bash
# Opens the CareCircle desktop app on the Harbin demo (maps/harbin). Any arguments are passed
# to the carecircle binary, e.g. `./run.sh info maps/harbin` for the headless summary.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh gui
exec cargo run --release --quiet -- "$@"
