#!/usr/bin/env bash
# Runs the whole test suite: with the desktop app (default features) and without it (the
# library alone must build and pass with no UI dependency).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh build
# Peers for the comparison tests (best effort: those tests skip without them).
bash scripts/peers.sh
cargo test
cargo test --no-default-features
