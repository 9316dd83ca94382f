#!/usr/bin/env python3
"""SDK Dendrite.call_stream(StreamWords) against an axon; exit 0 iff the text and status match.

usage: py_stream_dendrite.py HOST PORT AXON_HOTKEY"""

import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stream_synapse import StreamWords  # noqa: E402
import bittensor as bt  # noqa: E402
from bittensor.core.settings import version_as_int  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402
from py_dendrite import LocalDendrite  # noqa: E402


async def run(host, port, hotkey) -> int:
    info = bt.AxonInfo(version=version_as_int, ip=host, port=port, ip_type=4, hotkey=hotkey,
                       coldkey=hotkey, protocol=4, placeholder1=0, placeholder2=0)
    d = LocalDendrite(wallet=Keypair.create_from_uri("//Bob"))
    chunks, final = [], None
    try:
        async for item in d.call_stream(info, StreamWords(prompt="stream these four words"),
                                        timeout=12, deserialize=False):
            if isinstance(item, str):
                chunks.append(item)
            else:
                final = item
    finally:
        await d.aclose_session()
    text = "".join(chunks)
    ok = (text == "STREAM THESE FOUR WORDS " and final is not None
          and final.dendrite.status_code == 200 and final.completion == text)
    print(json.dumps({"chunks": chunks, "status_code": final.dendrite.status_code if final else None,
                      "completion": final.completion if final else None, "ok": ok}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(run(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
