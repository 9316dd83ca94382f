#!/usr/bin/env bash
# Builds the interop examples and runs the bittensor 10.5.0 interop tests (loopback, no chain).
# env: CARGO_TARGET_DIR (default: target), VENV (default: /root/.cache/hyphae-ci/venv-sdk)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${VENV:-$HOME/.cache/hyphae-ci/venv-sdk}"
cargo build --locked -p hyphae-neuron --examples
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r tests/interop-sdk/requirements.txt
fi
INTEROP_AXON_BIN="$TARGET/debug/examples/interop_axon" \
INTEROP_DENDRITE_BIN="$TARGET/debug/examples/interop_dendrite" \
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/interop-sdk "$@"
