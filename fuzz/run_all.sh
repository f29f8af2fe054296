#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) each, two at a time, from the seed
# corpora (cargo run --bin make_seeds first); prints each run's last status line.
set -u
cd "$(dirname "$0")"
SECONDS_EACH=${1:-600}
mkdir -p logs
run() {
  cargo +nightly fuzz run -O "$1" "corpus/$1" -- -max_total_time="$SECONDS_EACH" \
    -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 > "logs/$1.log" 2>&1
  echo "$1 exit $? : $(grep -E '^#[0-9]+' "logs/$1.log" | tail -1)"
}
targets=(geojson csv dbf shp manifest graph_cache pbf preset)
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  if ((i + 1 < ${#targets[@]})); then run "${targets[i + 1]}" & fi
  wait
done
