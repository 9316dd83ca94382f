#!/usr/bin/env bash
# Load-test the hyphae axon (interop_axon) and the Python SDK axon (py_axon.py) with the same
# Rust load generator (axon_bench: signed DummyMath requests, per-worker keep-alive connection).
#
# usage: bench_axons.sh [CONCURRENCY] [DURATION_S]
# env:   AXON_BENCH_BIN, INTEROP_AXON_BIN  (release builds:
#          cargo build --release -p hyphae-neuron --examples)
#        PYTHON  (interpreter with bittensor==10.5.0; default: python3)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CONC="${1:-16}"
DUR="${2:-10}"
PY="${PYTHON:-python3}"
: "${AXON_BENCH_BIN:?set AXON_BENCH_BIN}" "${INTEROP_AXON_BIN:?set INTEROP_AXON_BIN}"
WORK="$(mktemp -d)"
export HOME="$WORK/home" BT_NO_PARSE_CLI_ARGS=true
mkdir -p "$HOME"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
hotkey_of() { "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    try: o=json.loads(l)
    except ValueError: continue
    if o.get("event")=="ready": print(o["hotkey"]); break' "$1"; }
wait_ready() { for _ in $(seq 1 240); do grep -q '"ready"' "$1" 2>/dev/null && return 0; sleep 0.25; done; echo "no ready line in $1" >&2; return 1; }

PORT="$(free_port)"
"$INTEROP_AXON_BIN" --port "$PORT" >"$WORK/rust.out" 2>"$WORK/rust.err" & PIDS+=($!)
wait_ready "$WORK/rust.out"
echo "hyphae axon:  $("$AXON_BENCH_BIN" --target "127.0.0.1:$PORT" --hotkey "$(hotkey_of "$WORK/rust.out")" --concurrency "$CONC" --duration-s "$DUR")"

PORT="$(free_port)"
"$PY" "$HERE/py_axon.py" "$PORT" --wallet-path "$WORK/wallets" >"$WORK/py.out" 2>"$WORK/py.err" & PIDS+=($!)
wait_ready "$WORK/py.out"
echo "python axon:  $("$AXON_BENCH_BIN" --target "127.0.0.1:$PORT" --hotkey "$(hotkey_of "$WORK/py.out")" --concurrency "$CONC" --duration-s "$DUR")"
