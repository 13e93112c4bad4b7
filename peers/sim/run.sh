#!/bin/sh
# The three simulators side by side: stateprop's and turmoil (peers/sim), then madsim
# (peers/madsim, which needs `--cfg madsim` for its whole build, so a target of its own).
# From anywhere: peers/sim/run.sh [simulated seconds, default 600]
set -e
cd "$(dirname "$0")/../.."
secs="${1:-600}"
cargo run --quiet --release --manifest-path peers/sim/Cargo.toml -- "$secs"
if [ -n "$CARGO_TARGET_DIR" ]; then
    madsim_target="$CARGO_TARGET_DIR/madsim"
else
    madsim_target="peers/madsim/target"
fi
CARGO_TARGET_DIR="$madsim_target" RUSTFLAGS="--cfg madsim" \
    cargo run --quiet --release --manifest-path peers/madsim/Cargo.toml -- "$secs"
