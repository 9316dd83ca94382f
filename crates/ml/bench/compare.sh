#!/usr/bin/env bash
# Training-step throughput of the digits MLP (64-128-10, Adam, cross-entropy): candle
# (this crate, `cargo bench --bench train_step`) against PyTorch CPU on the same shapes
# (`torch_mlp.py`), with the same number of threads. Prints both medians and the ratio
# PyTorch / candle per batch size (above 1: candle is faster).
#
#   crates/ml/bench/compare.sh [THREADS]      (default: 2)
#
# PyTorch comes from PyPI into a venv: $TORCH_VENV (default .venv-torch at the repository
# root) is created and `pip install torch` run there if it has no torch yet.
set -euo pipefail
threads="${1:-2}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
venv="${TORCH_VENV:-$root/.venv-torch}"
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch
fi
cd "$root"
candle="$(RAYON_NUM_THREADS="$threads" cargo bench --quiet -p hyphae-ml --bench train_step -- train_step 2>/dev/null)"
torch="$("$venv/bin/python" crates/ml/bench/torch_mlp.py --threads "$threads")"
echo "$candle"
echo "$torch"
# divan rows look like "│  ├─ 32   12.3 µs │ ... │ median │ mean │ samples │ iters";
# the median is the third time column.
CANDLE="$candle" TORCH="$torch" python3 - <<'PY'
import os, re
units = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
candle = {}
for line in os.environ["CANDLE"].splitlines():
    m = re.match(r"^\W*(\d+)\s", line)
    times = re.findall(r"([\d.]+)\s*(ns|µs|us|ms|s)\b", line)
    if m and len(times) >= 3:
        value, unit = times[2]
        candle[int(m.group(1))] = float(value) * units[unit]
for line in os.environ["TORCH"].splitlines():
    m = re.match(r"train_step batch=(\d+): median ([\d.]+) us/step", line)
    if m and int(m.group(1)) in candle:
        batch, torch_us = int(m.group(1)), float(m.group(2))
        print(f"batch {batch}: candle {candle[batch]:.1f} us, torch {torch_us:.1f} us, "
              f"torch/candle = {torch_us / candle[batch]:.2f}")
PY
