#!/usr/bin/env python3
"""Stage 3a of the pipeline (generate -> cache -> **keys** -> train -> evaluate -> export): teaches
the pointer head's key side to say which text a tile token shows, before any decoder is asked to
point at it.

Why a stage of its own (training/README.md, "Runs"): trained end to end, the keys (image only)
and the query (the decoder's state at <|pointer_pad|>) start random; the quickest loss to take is
"some element", and every run stayed there. Here the query side is fixed to something that
already knows the instruction's letters: the label's character n-grams, hashed into a vector
(`ngrams`), through one learnt linear map (`TextMap`, 2048 -> d). The adapter and the head's key
side (self-attention, layer norm, projection_enc) learn against it with the pointer objective in
both directions:
  - each label -> the image's tile tokens (softmax over the tokens, targets = its box's tokens,
    GUI-Actor's loss, as train.py);
  - each token of a labelled box -> the image's labels (softmax over the labels): every text
    token of every window is a sample, not only the ones an instruction happened to pick.
The tower stays as cached. Evaluation: both held-out sets with the query made from the
instruction's label by the same map (`label_of`): an upper bound of what a decoder that learns
the map can reach with these keys.

train.py then starts from this checkpoint (--from DIR/keys.pt) and teaches the decoder to produce
the map's vector from the instruction (--query-weight), with the pointer loss beside it.

Usage: training/match.py --cache DIR[,DIR...] [--from MODEL_DIR] [--steps N] [--minutes M]
                         [--ckpt DIR] [--curve TSV] [--lr LR] [--batch B]
"""
import argparse
import math
import os
import random
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import pointer  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import windows  # noqa: E402

HASH_DIM = 2048
TOKENS = 64  # tile tokens a tile (8 x 8 after the 2 x 2 downsampling)
CACHE = os.path.expanduser("~/.cache/gui-agent/training")


# MARK: - The text side

def ngrams(label, dim=HASH_DIM):
    """(dim,) float32, unit length: the case-folded label's characters, bigrams and trigrams (with
    word-boundary marks) hashed by crc32 into `dim` buckets. Two labels' vectors have a large dot
    product when they share many pieces, whatever the words: held-out words are made of familiar
    pieces."""
    v = np.zeros(dim, dtype=np.float32)
    s = "^" + " ".join(label.lower().split()) + "$"
    for n in (1, 2, 3):
        for i in range(len(s) - n + 1):
            piece = s[i:i + n]
            if piece in ("^", "$"):
                continue
            v[zlib.crc32(f"{n}:{piece}".encode()) % dim] += 1.0
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


class TextMap(torch.nn.Module):
    """The label's n-gram vector -> a query in the pointer head's space (d). Training-only: the
    exported model's query comes from the decoder, which train.py teaches to produce this."""

    def __init__(self, d, dim=HASH_DIM, scale=8.0, gain=8.0):
        super().__init__()
        self.linear = torch.nn.Linear(dim, d, bias=False)
        # The format divides the logits by sqrt(d) = 16: queries of norm ~1 leave every softmax
        # flat and the run on the plateau (README, "Runs"). A learnt gain starts them ~10x longer.
        self.log_gain = torch.nn.Parameter(torch.tensor(math.log(gain)))
        with torch.no_grad():
            self.linear.weight.mul_(scale)

    def forward(self, labels):
        dev = self.linear.weight.device
        v = torch.from_numpy(np.stack([ngrams(lab) for lab in labels])).to(dev)
        return self.linear(v) * self.log_gain.exp()


def load_text_map(checkpoint, d):
    """The frozen text map a match.py (or train.py) checkpoint holds, or None when it holds none."""
    if "text_map" not in checkpoint:
        return None
    text_map = TextMap(d)
    text_map.load_state_dict(checkpoint["text_map"], strict=False)  # maps saved before the gain lack log_gain
    return text_map.requires_grad_(False)


def target_label(target):
    """What the target's tokens should say: its own visible text (a trailing colon left out, as
    instructions quote it), else the label one of its forms quotes (an empty field by its label,
    an icon by its name), or None when every form is a role and position phrase."""
    text = target.get("text", "").strip().rstrip(":").strip()
    if text:
        return text
    for form in target["forms"]:
        lab = windows.label_of(form)
        if lab:
            return lab
    return None


# MARK: - Losses

def both_ways(logits, targets):
    """Pointer cross-entropy label -> tokens (as train.pointer_loss) plus token -> label: each token
    of a target's box picks its label among the image's labels (multi-label rows share the mass)."""
    logp = torch.log_softmax(logits, dim=-1)
    to_tokens = -torch.stack([logp[s, toks].mean() for s, toks in enumerate(targets)]).mean()
    owner = torch.zeros(logits.shape, device=logits.device)
    for s, toks in enumerate(targets):
        owner[s, toks] = 1.0
    cols = owner.sum(0) > 0
    lp = torch.log_softmax(logits[:, cols], dim=0)                # over labels, per token
    own = owner[:, cols]
    to_labels = -((lp * own).sum(0) / own.sum(0)).mean()
    return to_tokens, to_labels


# MARK: - Training the tower too

def tile_sample(data, rng, k):
    """One image of the pool (windows.Windows: whole windows and screens at their own grids) cut to
    `k` of its tiles that show labelled targets: (pixels (k', 3, T, T), [(tokens in the order of
    those tiles, label)]). The tower then learns on the text at the scales and offsets of use."""
    for _ in range(50):
        item = data.item(rng.randrange(1 << 30))
        labelled = [(t["tokens"], target_label(t)) for t in item["targets"]]
        labelled = [(toks, lab) for toks, lab in labelled if lab]
        per_tile = {}
        for toks, _ in labelled:
            for g in toks:
                per_tile[g // TOKENS] = per_tile.get(g // TOKENS, 0) + 1
        if len(labelled) < 2 or not per_tile:
            continue
        tiles = sorted(rng.sample(sorted(per_tile), min(k, len(per_tile))))
        where = {j: p for p, j in enumerate(tiles)}
        out = []
        for toks, lab in labelled:
            kept = [where[g // TOKENS] * TOKENS + g % TOKENS for g in toks if g // TOKENS in where]
            if kept:
                out.append((kept, lab))
        if len(out) < 2:
            continue
        pixels, thumb = windows.tiles_of(item)
        first = 1 if thumb else 0
        return torch.from_numpy(pixels[[first + j for j in tiles]]), out
    raise SystemExit("match: no image with two labelled targets in the pool")


def strip_sample(reader, rng, n_tiles, scales=(0.7, 1.7)):
    """A mosaic of `n_tiles` reading tiles (gen_reading: stacked text lines, off the patch grid, at
    the resize factors of use), each line a label: (pixels (n, 3, T, T), [(tokens, label)]).
    Words without end, none of them a window's: the keys must match letters, not familiar words."""
    import train_reading
    tiles, labelled = [], []
    for j in range(n_tiles):
        i = rng.randrange(1 << 30)
        boxes = []
        img, _ = reader.tile(7, i, shifted=True, scale=train_reading.tile_scale(i, scales), boxes=boxes)
        tiles.append(img)
        side = img.shape[0]
        for text, (x0, y0, x1, y1) in boxes:
            cells = windows.token_cells([x0, y0, x1 - x0, y1 - y0], (side, side), (side, side), (0, 0))
            cells = [j * TOKENS + int(c) for c in np.flatnonzero(cells)]
            if cells:
                labelled.append((cells, text))
    seen, out = set(), []
    for cells, text in labelled:  # a text drawn twice would be two right answers
        key = " ".join(text.lower().split())
        if key not in seen:
            seen.add(key)
            out.append((cells, text))
    return train_reading.pixels(tiles), out


def heldout_features(net, folder, name):
    """The held-out set as cached entries, its features from the tower as it is now."""
    import cache_windows
    items, _ = windows.heldout_items(folder, name)
    feats, meta = [], []
    for item in items:
        pixels, thumb = windows.tiles_of(item)
        feats.append(cache_windows.features(net.vision, pixels))
        meta.append(cache_windows.meta_of(item, len(pixels), thumb))
    all_feats, out, start = np.concatenate(feats), [], 0
    for m in meta:
        out.append((all_feats, start, m))
        start += m["n_tiles"]
    return out


# MARK: - Keys and evaluation

def keys_of(net, feats, thumb):
    """(tile tokens, d) keys of one cached image (thumbnail left out, as the head sees it)."""
    img = net.multi_modal_projector(feats.to(net.multi_modal_projector.linear_1.weight.device), net.g)
    n_thumb = windows.H_TOK * windows.H_TOK if thumb else 0
    return net.multi_patch_pointer_head.keys(img[n_thumb:])


def quoted(form, source):
    """What the query is made from: the label an instruction quotes (`label`; None when it quotes
    none) or the whole instruction (`form`: a decoder then only has to gather its input's n-grams,
    not find the label inside it, and role words reach the keys too)."""
    return form if source == "form" else windows.label_of(form)


def query_text(form, source):
    """`quoted`, the instruction itself when it quotes no label (the oracle's query)."""
    return quoted(form, source) or form


WRAPS = ["{}", "click {}", "the {} button", "{} item", "select {}", "the text {}", "press {}", "open {}"]


def evaluate(net, text_map, entries, source="label"):
    """Hits of the point rule with the query made from each instruction by the text map (the
    reading a decoder has to learn): (hits, n)."""
    import train
    hits = n = 0
    with torch.no_grad():
        for entry in entries:
            feats, m = train.item_tensors(entry)
            W, H = m["size"]
            valid = windows.valid_tokens(W, H, m["grid"])
            keys = keys_of(net, feats, m["thumb"])
            labels = [query_text(t["forms"][0], source) for t in m["targets"]]
            q = text_map(labels)
            probs = torch.softmax(q @ keys.T / net.multi_patch_pointer_head.d ** 0.5, -1).cpu().numpy()
            for t, p in zip(m["targets"], probs):
                hits += pointer.hits(pointer.point(p, m["grid"], valid, W, H), t["box"])
                n += 1
    return hits, n


# MARK: - Main


def main():
    import train
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="cache_windows.py folders, comma-separated")
    ap.add_argument("--from", dest="init", default=os.path.join(ROOT, "Models", "bluelm-vl-nano"))
    ap.add_argument("--ckpt", default=os.path.join(CACHE, "keys"))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--batch", type=int, default=4, help="images a step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--curve", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tower-tiles", type=int, default=0,
                    help="train the tower too, on this many tiles an image drawn from the pool (not the cache); "
                    "0 keeps the cached tower")
    ap.add_argument("--text-map", default=None,
                    help="a match.py or train.py checkpoint whose text map this run keeps, frozen: keys trained "
                    "on a new tower then meet the queries a decoder already learnt (train.py --query-only)")
    ap.add_argument("--tower-lr", type=float, default=5e-4)
    ap.add_argument("--query-source", choices=["label", "form"], default="label",
                    help="make queries from the quoted label or from the whole instruction (query_text)")
    ap.add_argument("--strips", type=float, default=0.0,
                    help="share of a step's images that are mosaics of reading tiles (strip_sample: unseen "
                    "words, off the grid, resized) instead of cached windows")
    ap.add_argument("--strip-tiles", type=int, default=4)
    ap.add_argument("--pool", default=os.path.join(CACHE, "pool"))
    ap.add_argument("--screens", type=float, default=0.15)
    ap.add_argument("--gtk", type=float, default=0.5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    folders = [f if os.path.isdir(f) else os.path.join(CACHE, "windows", f) for f in args.cache.split(",")]
    cache = train.Cache(folders)
    heldout = {stem: train.Cache.entries(folders[0], stem) for stem in ("heldout", "heldout-real")}
    tok = nano_tok.build_bytes()
    os.makedirs(args.ckpt, exist_ok=True)
    ckpt_path = os.path.join(args.ckpt, "keys.pt")
    from_run = args.init.endswith(".pt")
    net = train.new_model(tok, None if from_run else args.init)
    train.tower_into(net, folders[0])
    d = net.config["text_config"]["hidden_size"]
    text_map = TextMap(d)
    if from_run:
        start = torch.load(args.init, map_location="cpu", weights_only=False)
        net.load_state_dict(start["model"])
        text_map = load_text_map(start, d).requires_grad_(True)
        print(f"match: from the run {args.init}", flush=True)
    if args.text_map:
        text_map = load_text_map(torch.load(args.text_map, map_location="cpu", weights_only=False), d)
        if text_map is None:
            raise SystemExit(f"match: {args.text_map} holds no text map")
        print(f"match: text map from {args.text_map}, frozen", flush=True)
    net.to(args.device)
    text_map.to(args.device)
    head = net.multi_patch_pointer_head
    params = list(net.multi_modal_projector.parameters()) + list(head.self_attention.parameters()) \
        + list(head.layer_norm.parameters()) + list(head.projection_enc.parameters()) \
        + [p for p in text_map.parameters() if p.requires_grad]
    groups = [{"params": params, "scale": 1.0}]
    net.vision.requires_grad_(bool(args.tower_tiles))
    if args.tower_tiles:
        groups.append({"params": list(net.vision.parameters()), "scale": args.tower_lr / args.lr})
        params = params + groups[1]["params"]
        data = windows.Windows(args.pool, screens=args.screens, seed=1000, gtk=args.gtk)
    if args.strips:
        import gen_reading
        reader = gen_reading.Reader("train")
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    step = 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=args.device, weights_only=False)
        net.load_state_dict(ck["model"])
        text_map.load_state_dict(ck["text_map"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print(f"match: resumed {ckpt_path} at step {step}", flush=True)
    curve = open(args.curve, "a") if args.curve else None
    if curve and os.path.getsize(args.curve) == 0:
        curve.write("step\timages\tto_tokens\tto_labels\tsynthetic_hits\tsynthetic_n\treal_hits\treal_n\tseconds\n")

    def save():
        torch.save({"model": {k: v.cpu() for k, v in net.state_dict().items()},
                    "text_map": text_map.state_dict(), "opt": opt.state_dict(), "step": step,
                    "config": net.config, "args": vars(args)}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    def log_eval(t_run):
        net.eval()
        sets = heldout
        if args.tower_tiles:
            import cache_windows
            sets = {stem: heldout_features(net, *cache_windows.HELDOUT[stem]) for stem in heldout}
        (sh, sn), (rh, rn) = (evaluate(net, text_map, sets[s], args.query_source) for s in ("heldout", "heldout-real"))
        net.train()
        a, b = (float(np.mean(x[-args.eval_every:])) if x else float("nan") for x in (l_tok, l_lab))
        print(f"match: step {step}  to tokens {a:.3f}  to labels {b:.3f}  synthetic {sh}/{sn} = "
              f"{100 * sh / sn:.1f} %  real {rh}/{rn} = {100 * rh / rn:.1f} %  ({t_run / 60:.1f} min)", flush=True)
        if curve:
            curve.write(f"{step}\t{step * args.batch}\t{a:.4f}\t{b:.4f}\t{sh}\t{sn}\t{rh}\t{rn}\t{t_run:.0f}\n")
            curve.flush()

    t0, l_tok, l_lab, prior = time.time(), [], [], []
    net.train()
    while step < args.steps and (time.time() - t0) / 60 < args.minutes:
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr * g["scale"]
        rng = random.Random(f"keys:{step}")
        opt.zero_grad(set_to_none=True)
        a_sum = b_sum = 0.0
        for _ in range(args.batch):
            if args.strips and rng.random() < args.strips:
                pixels, ts = strip_sample(reader, rng, args.strip_tiles)
                if args.query_source == "form":
                    ts = [(toks, rng.choice(WRAPS).format(text)) for toks, text in ts]
                with torch.set_grad_enabled(bool(args.tower_tiles)):
                    feats = net.vision(pixel_values=pixels.to(args.device)).last_hidden_state
                keys = keys_of(net, feats, False)
            elif args.tower_tiles:
                pixels, ts = tile_sample(data, rng, args.tower_tiles)
                keys = keys_of(net, net.vision(pixel_values=pixels.to(args.device)).last_hidden_state, False)
            else:
                for _ in range(100):
                    feats, m = train.item_tensors(cache.items[rng.randrange(len(cache.items))])
                    if args.query_source == "form":
                        ts = [(t["tokens"], rng.choice(t["forms"])) for t in m["targets"]]
                        ts = list({lab: (toks, lab) for toks, lab in ts}.values())  # one target per text
                    else:
                        ts = [(t["tokens"], target_label(t)) for t in m["targets"]]
                        ts = [(toks, lab) for toks, lab in ts if lab]
                    if len(ts) >= 2:
                        break
                keys = keys_of(net, feats, m["thumb"])
            q = text_map([lab for _, lab in ts])
            logits = q @ keys.T / head.d ** 0.5
            a, b = both_ways(logits.float(), [toks for toks, _ in ts])
            ((a + b) / args.batch).backward()
            prior.append(math.log(len(ts)))
            a_sum += float(a.detach()) / args.batch
            b_sum += float(b.detach()) / args.batch
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        l_tok.append(a_sum)
        l_lab.append(b_sum)
        if step % 25 == 0:
            dt = time.time() - t0
            print(f"match: step {step}  to tokens {np.mean(l_tok[-25:]):.3f}  to labels {np.mean(l_lab[-25:]):.3f} "
                  f"(chance {np.mean(prior[-25 * args.batch:]):.3f})  "
                  f"lr {lr:.2e}  {step * args.batch / dt:.2f} images/s", flush=True)
        if step % args.eval_every == 0:
            cache = train.Cache(folders)  # shards that cache_windows.py finished meanwhile join the run
            save()
            log_eval(time.time() - t0)
    save()
    if step % args.eval_every:
        log_eval(time.time() - t0)


if __name__ == "__main__":
    main()
