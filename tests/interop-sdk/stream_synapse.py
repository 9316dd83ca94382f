"""StreamWords: the streaming synapse of the shared stream probe (interop fixture).

The axon sends the prompt's words upper-cased, one raw chunk per word followed by a space
(content-type text/event-stream, no SSE framing)."""

import asyncio
from functools import partial

import interop_synapses as S  # noqa: F401  (patches the external-ip lookup first)
import bittensor as bt


class StreamWords(bt.StreamingSynapse):
    prompt: str
    completion: str = ""
    required_hash_fields = ("prompt",)

    async def process_streaming_response(self, response):
        async for chunk in response.content.iter_any():
            tok = chunk.decode()
            self.completion += tok
            yield tok

    def extract_response_json(self, response) -> dict:
        h = dict(response.headers)
        ax = {k.split("bt_header_axon_")[1]: v for k, v in h.items() if k.startswith("bt_header_axon_")}
        de = {k.split("bt_header_dendrite_")[1]: v for k, v in h.items() if k.startswith("bt_header_dendrite_")}
        return {"name": h.get("name"), "timeout": float(h.get("timeout", 12)), "axon": ax, "dendrite": de,
                "prompt": self.prompt, "completion": self.completion}


def forward_stream(synapse: StreamWords) -> StreamWords.BTStreamingResponse:
    async def streamer(send, words):
        for w in words:
            await send({"type": "http.response.body", "body": (w + " ").encode(), "more_body": True})
            await asyncio.sleep(0.01)
    return synapse.create_streaming_response(partial(streamer, words=synapse.prompt.upper().split()))
