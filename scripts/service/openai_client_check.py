#!/usr/bin/env python3
"""Drives a running `gui-agent serve` with the official `openai` Python client (PyPI), the way
UI-TARS-desktop and other OpenAI-speaking agents do, and prints one JSON object with what came
back. Exits non-zero (with the reason on stderr) when the client cannot use the server.

Usage: PY=$(scripts/pyenv openai) && "$PY" scripts/service/openai_client_check.py \
         --base-url http://127.0.0.1:PORT/v1 --api-key TOKEN --image some.png
"""
import argparse
import base64
import json
import sys

import openai


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key", default="none")
    ap.add_argument("--image", required=True, help="a PNG sent as a data URL")
    args = ap.parse_args()

    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=120)
    out = {"openai_version": openai.__version__}

    models = client.models.list()
    out["models"] = [m.id for m in models.data]
    model = out["models"][0]

    with open(args.image, "rb") as f:
        url = "data:image/png;base64," + base64.b64encode(f.read()).decode()
    messages = [
        {"role": "system", "content": "You are a GUI agent."},
        {"role": "user", "content": [
            {"type": "text", "text": "Where is the OK button?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]},
    ]
    whole = client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0, seed=1)
    choice = whole.choices[0]
    out["completion"] = {
        "id": whole.id, "object": whole.object, "model": whole.model, "role": choice.message.role,
        "content": choice.message.content, "finish_reason": choice.finish_reason,
        "usage": {"prompt_tokens": whole.usage.prompt_tokens, "completion_tokens": whole.usage.completion_tokens,
                  "total_tokens": whole.usage.total_tokens},
    }

    pieces, finish, usage, chunks = [], None, None, 0
    stream = client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0, seed=1,
                                            stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            usage = {"prompt_tokens": chunk.usage.prompt_tokens, "completion_tokens": chunk.usage.completion_tokens,
                     "total_tokens": chunk.usage.total_tokens}
        for c in chunk.choices:
            if c.delta and c.delta.content:
                pieces.append(c.delta.content)
            if c.finish_reason:
                finish = c.finish_reason
    out["stream"] = {"content": "".join(pieces), "finish_reason": finish, "usage": usage, "chunks": chunks}

    # Errors arrive as the client's own exception types.
    try:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], temperature=7)
        out["bad_request"] = None
    except openai.BadRequestError as e:
        out["bad_request"] = {"status": e.status_code, "message": str(e)}
    try:
        openai.OpenAI(base_url=args.base_url, api_key="wrong-key", max_retries=0).models.list()
        out["wrong_key"] = None
    except openai.AuthenticationError as e:
        out["wrong_key"] = {"status": e.status_code}

    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
