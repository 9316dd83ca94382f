#!/usr/bin/env python3
"""SDK Axon serving only StreamWords (streaming). Prints {"event":"ready","hotkey":..} then serves
until SIGTERM/SIGINT.

usage: py_stream_axon.py PORT --wallet-path DIR"""

import argparse
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stream_synapse import forward_stream  # noqa: E402
import bittensor as bt  # noqa: E402
from bittensor_wallet import Wallet  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--wallet-path", required=True)
    args = p.parse_args()
    wallet = Wallet(name="streamw", hotkey="default", path=args.wallet_path)
    wallet.create_if_non_existent(coldkey_use_password=False, hotkey_use_password=False, suppress=True)
    axon = bt.Axon(wallet=wallet, port=args.port, ip="127.0.0.1", external_ip="127.0.0.1",
                   external_port=args.port)
    axon.attach(forward_fn=forward_stream)
    axon.start()
    deadline = time.time() + 20
    while not axon.fast_server.started and time.time() < deadline:
        time.sleep(0.05)
    print(json.dumps({"event": "ready", "port": args.port, "hotkey": wallet.hotkey.ss58_address}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
    axon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
