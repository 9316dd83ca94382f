"""Shared fixtures for the hyphae <-> bittensor 10.5.0 interop tests.

Binaries come from env vars (built with `cargo build -p hyphae-neuron --examples`):
  INTEROP_AXON_BIN      path to the `interop_axon` example
  INTEROP_DENDRITE_BIN  path to the `interop_dendrite` example
Python scripts (py_axon.py, py_dendrite.py, interop_synapses.py) are copies of the
shared interop fixtures and run with the interpreter running pytest (bittensor==10.5.0).
"""

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(var: str) -> str:
    path = os.environ.get(var)
    if not path:
        pytest.fail(f"{var} is not set (build with: cargo build -p hyphae-neuron --examples)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{var}={path} is not an executable")
    return path


@pytest.fixture
def sdk_env(tmp_path):
    """Environment for SDK processes: isolated HOME (the SDK writes ~/.bittensor on import)."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update({"HOME": str(home), "BT_NO_PARSE_CLI_ARGS": "true", "READ_ONLY": "1"})
    return env


def wait_ready_line(proc: subprocess.Popen, deadline_s: float) -> dict:
    """Reads stdout lines until the {"event":"ready"} JSON line, or fails at the deadline."""
    deadline = time.monotonic() + deadline_s
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                break
            line = proc.stdout.readline()
            if not line:  # EOF: the process exited
                break
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("event") == "ready":
                return obj
    finally:
        sel.close()
    proc.kill()
    _, err = proc.communicate()
    pytest.fail(f"process did not become ready within {deadline_s}s: {(err or '')[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
