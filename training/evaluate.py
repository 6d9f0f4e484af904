#!/usr/bin/env python3
"""Stage 4 of the pipeline (generate -> cache -> train -> evaluate -> export): an exported model
with a pointer head on both held-out sets, by the Swift evaluator (`gui-agent eval screenspot`,
the figure to report) and, with --compare, by PyTorch on the same files (float32 from the
model's float16 weights, the tower on the pixels, the engine's point rule in pointer.py), sample
by sample: the same hit or miss, and how far apart the two points are.

With --check (implies --compare) the agreement is asserted: the exit status is 1 when the two
disagree on hit or miss for more than --max-disagree of the samples (default 1 %: a point on a
box edge may fall either way by a pixel) or their points lie a median of more than 1.5 px apart
(Swift reports the pixel, PyTorch the exact point).

Usage: training/evaluate.py [--model DIR] [--threads N] [--compare | --check] [--markdown DIR] [FOLDER ...]
       (default: Models/bluelm-vl-nano on training/heldout and training/heldout-real)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402

FOLDERS = [os.path.join(HERE, "heldout"), os.path.join(HERE, "heldout-real")]


def annotations(folder):
    return os.path.join(folder, next(f for f in sorted(os.listdir(folder))
                                     if f.startswith("screenspot_") and f.endswith(".json")))


def swift_eval(model, folder, threads, scratch, markdown=None):
    """(report, {index: record}) of `gui-agent eval screenspot` on the folder's annotations."""
    out = os.path.join(scratch, os.path.basename(folder.rstrip("/")) + ".jsonl")
    cmd = [common.gui_agent(), "eval", "screenspot", "--data", annotations(folder), "--images", folder,
           "--model", model, "--threads", str(threads), "--out", out, "--json"]
    if markdown:
        cmd += ["--markdown", markdown]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"evaluate: {' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    with open(out) as f:
        records = [json.loads(line) for line in f if line.strip()]
    # The first line is the results header (shard, dataset digest, setup); the rest are samples.
    return json.loads(done.stdout), {r["index"]: r for r in records if "results_header" not in r}


def load_export(model_dir):
    """(tokenizer, BlueLMNano in float32) from an exported folder."""
    from safetensors.torch import load_file
    from tokenizers import Tokenizer
    import model as nano
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if "pointer_pad_token_id" not in cfg:
        sys.exit(f"evaluate: {model_dir} has no pointer head (config names no pointer_pad_token_id)")
    net = nano.BlueLMNano(cfg)
    net.load_checkpoint_tensors(load_file(os.path.join(model_dir, "model.safetensors")))
    return Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json")), net.eval()


def torch_points(net, tok, folder):
    """{sample index: (x, y) or None} by PyTorch on the pixels, the engine's way."""
    import decoder
    import pointer
    import windows
    items, _ = windows.heldout_items(folder, os.path.basename(annotations(folder)))
    prompts, out = decoder.Prompts(tok), {}
    with torch.no_grad():
        for item in items:
            tiles, thumb = windows.tiles_of(item)
            feats = net.vision(pixel_values=torch.from_numpy(tiles)).last_hidden_state
            W, H = item["size"]
            valid = windows.valid_tokens(W, H, item["grid"])
            ts = item["targets"]
            probs = torch.softmax(decoder.pointer_logits(net, prompts, feats, item["grid"], thumb,
                                                         [t["forms"][0] for t in ts]), -1).numpy()
            for t, p in zip(ts, probs):
                found = pointer.point(p, item["grid"], valid, W, H)
                out[t["sample"]] = found["point"] if found else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "Models", "bluelm-vl-nano"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compare", action="store_true", help="also PyTorch, sample by sample")
    ap.add_argument("--check", action="store_true", help="--compare, and fail when the two disagree")
    ap.add_argument("--max-disagree", type=float, default=0.01, help="with --check: the share of samples allowed")
    ap.add_argument("--markdown", help="a folder for each set's Markdown report")
    ap.add_argument("folders", nargs="*", default=FOLDERS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net = tok = None
    failures = []
    if args.compare or args.check:
        tok, net = load_export(args.model)
    summary = {}
    if args.markdown:
        os.makedirs(args.markdown, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for folder in args.folders:
            name = os.path.basename(folder.rstrip("/"))
            md = os.path.join(args.markdown, name + ".md") if args.markdown else None
            report, swift = swift_eval(args.model, folder, args.threads, scratch, md)
            line = (f"evaluate: {name}: Swift {report['hits']}/{report['n']} = {100 * report['overall']:.1f} % "
                    f"(text {report['text']}, icon {report['icon']})")
            summary[name] = report
            if net is not None:
                pts = torch_points(net, tok, folder)
                same, dist, hits = 0, [], 0
                for i, r in swift.items():
                    p = pts.get(i)
                    x0, y0, x1, y1 = r["box"]
                    hit = p is not None and x0 <= p[0] <= x1 and y0 <= p[1] <= y1
                    hits += hit
                    same += hit == bool(r["hit"])
                    if p is not None and r.get("x") is not None:
                        dist.append(float(np.hypot(p[0] - r["x"], p[1] - r["y"])))
                median = float(np.median(dist)) if dist else float("nan")
                line += (f"; PyTorch {hits} hits, the same hit or miss on {same}/{len(swift)}, points apart "
                         f"median {median:.2f} px, max {max(dist, default=float('nan')):.1f} px")
                if len(swift) - same > args.max_disagree * len(swift):
                    failures.append(f"{name}: hit or miss differs on {len(swift) - same}/{len(swift)} samples")
                if not median <= 1.5:  # NaN (no point compared) fails too
                    failures.append(f"{name}: points a median {median:.2f} px apart")
            print(line, flush=True)
    print(json.dumps({k: {"hits": v["hits"], "n": v["n"], "overall": v["overall"], "text": v["text"],
                          "icon": v["icon"]} for k, v in summary.items()}))
    if args.check:
        for f in failures:
            print(f"evaluate: FAIL {f}", file=sys.stderr)
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
