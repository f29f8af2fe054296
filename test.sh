#!/usr/bin/env bash
# Runs the whole test suite: with the desktop app and PROJ (default features), and without
# either: the library alone must build and pass with no UI dependency, and every demo and
# test dataset must load through the built-in (pure-Rust) CRS path the Windows build uses.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh build
# Peers for the comparison tests (best effort: those tests skip without them).
bash scripts/peers.sh
cargo test
cargo test --no-default-features
