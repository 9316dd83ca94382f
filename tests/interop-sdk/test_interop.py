"""hyphae neuron SDK <-> bittensor 10.5.0 wire interop (loopback, no chain)."""

import json
import subprocess
import sys

from conftest import HERE, binary, free_port, stop, wait_ready_line


def summary_of(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if "summary" in obj:
            return obj["summary"]
    return {}


def test_python_dendrite_against_hyphae_axon(sdk_env):
    """(a) The SDK Dendrite, with its --negative checks, against our interop_axon."""
    port = free_port()
    axon = subprocess.Popen(
        [binary("INTEROP_AXON_BIN"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready = wait_ready_line(axon, 30)
        result = subprocess.run(
            [sys.executable, str(HERE / "py_dendrite.py"), "127.0.0.1", str(port),
             ready["hotkey"], "--negative"],
            env=sdk_env, capture_output=True, text=True, timeout=180,
        )
        print(result.stdout)
        print(result.stderr, file=sys.stderr)
        summary = summary_of(result.stdout)
        assert result.returncode == 0, summary
        assert summary.get("failed") == 0 and summary.get("passed") == 11, summary
    finally:
        stop(axon)


def test_hyphae_dendrite_against_python_axon(sdk_env, tmp_path):
    """(b) Our interop_dendrite against the SDK Axon (py_axon.py)."""
    port = free_port()
    axon = subprocess.Popen(
        [sys.executable, str(HERE / "py_axon.py"), str(port),
         "--wallet-path", str(tmp_path / "wallets")],
        env=sdk_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready = wait_ready_line(axon, 60)
        result = subprocess.run(
            [binary("INTEROP_DENDRITE_BIN"), "127.0.0.1", str(port), ready["hotkey"]],
            capture_output=True, text=True, timeout=180,
        )
        print(result.stdout)
        print(result.stderr, file=sys.stderr)
        summary = summary_of(result.stdout)
        assert result.returncode == 0, summary
        assert summary.get("failed") == 0 and summary.get("passed", 0) >= 13, summary
    finally:
        stop(axon)


def test_hyphae_dendrite_against_hyphae_axon():
    """Rust <-> Rust over the same fixtures (no Python needed beyond pytest)."""
    port = free_port()
    axon = subprocess.Popen(
        [binary("INTEROP_AXON_BIN"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready = wait_ready_line(axon, 30)
        result = subprocess.run(
            [binary("INTEROP_DENDRITE_BIN"), "127.0.0.1", str(port), ready["hotkey"]],
            capture_output=True, text=True, timeout=180,
        )
        print(result.stdout)
        assert result.returncode == 0, summary_of(result.stdout)
    finally:
        stop(axon)


def test_python_stream_dendrite_against_hyphae_axon(sdk_env):
    """Streaming: SDK Dendrite.call_stream(StreamWords) against our interop_axon."""
    port = free_port()
    axon = subprocess.Popen(
        [binary("INTEROP_AXON_BIN"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready = wait_ready_line(axon, 30)
        result = subprocess.run(
            [sys.executable, str(HERE / "py_stream_dendrite.py"), "127.0.0.1", str(port), ready["hotkey"]],
            env=sdk_env, capture_output=True, text=True, timeout=120,
        )
        print(result.stdout)
        print(result.stderr, file=sys.stderr)
        assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    finally:
        stop(axon)


def test_hyphae_stream_dendrite_against_python_axon(sdk_env, tmp_path):
    """Streaming: our Dendrite::call_stream against an SDK Axon serving StreamWords."""
    port = free_port()
    axon = subprocess.Popen(
        [sys.executable, str(HERE / "py_stream_axon.py"), str(port), "--wallet-path", str(tmp_path / "w")],
        env=sdk_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready = wait_ready_line(axon, 60)
        result = subprocess.run(
            [binary("INTEROP_DENDRITE_BIN"), "127.0.0.1", str(port), ready["hotkey"], "--stream-only"],
            capture_output=True, text=True, timeout=120,
        )
        print(result.stdout)
        assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    finally:
        stop(axon)
