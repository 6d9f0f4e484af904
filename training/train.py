#!/usr/bin/env python3
"""Stage 3 of the pipeline (generate -> cache -> train -> evaluate -> export): trains the adapter,
the decoder and the pointer head (docs/checkpoint-format.md, "Pointer head") on cached tower
features of whole windows and screens (cache_windows.py); the tower stays as cached.

One image, many instructions: the image prefix `[|Human|]:<image tokens>` runs through the
decoder once; every instruction of the image is a segment `{instruction}[|AI|]:<|pointer_start|>
<|pointer_pad|><|pointer_end|>` that sees the prefix and itself only, at the positions it would
have alone (the engine's prompt, token for token). The pointer head scores the image's tile
tokens against each segment's <|pointer_pad|> state; the loss is the cross-entropy against a
uniform distribution over the tokens the target box covers (GUI-Actor's objective); the image's
other elements are the negatives. Throughput: see training/README.md.

Every --eval-every steps both held-out sets are scored from their cached features with the
engine's point rule (pointer.py) and a line goes to the curve (--curve TSV). The checkpoint
(--ckpt DIR/train.pt) holds model, optimizer and step; running the same command again resumes.
--export DIR writes the model folder (export.py) at the end.

Usage: training/train.py --cache DIR[,DIR...] [--from MODEL_DIR | resume] [--steps N] [--minutes M]
                         [--batch B] [--segments S] [--lr LR] [--ckpt DIR] [--curve TSV] [--export DIR]
"""
import argparse
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import decoder  # noqa: E402
import model as nano  # noqa: E402
import pointer  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import windows  # noqa: E402

CACHE = os.path.expanduser("~/.cache/gui-agent/training")
INIT_SCALE = 4.0


# MARK: - Cached items

class Cache:
    """The items of one or more cache_windows.py folders, features memory-mapped."""

    def __init__(self, folders):
        self.items, self.folders = [], folders
        for folder in folders:
            for sh in sorted(f for f in os.listdir(folder) if f.startswith("shard_") and f.endswith(".json")):
                self.items += self.entries(folder, sh[:-5])
        if not self.items:
            raise SystemExit(f"train: no cached items in {folders} (run training/cache_windows.py)")

    @staticmethod
    def entries(folder, stem):
        """(features, first tile, meta) of each item of one cached pair (a shard or a held-out set)."""
        meta = json.load(open(os.path.join(folder, stem + ".json")))
        feats = np.load(os.path.join(folder, stem + ".npy"), mmap_mode="r")
        out, start = [], 0
        for m in meta:
            out.append((feats, start, m))
            start += m["n_tiles"]
        return out


def item_tensors(entry):
    feats, start, m = entry
    return torch.from_numpy(np.array(feats[start:start + m["n_tiles"]], dtype=np.float32)), m


# MARK: - Loss

def pointer_loss(logits, targets):
    """Cross-entropy of softmax(logits) (S, n) against uniform distributions over each target's tokens."""
    logp = torch.log_softmax(logits, dim=-1)
    loss = 0.0
    for s, toks in enumerate(targets):
        loss = loss - logp[s, toks].mean()
    return loss / len(targets)


def run_item(net, prompts, feats, m, forms, parts=False):
    """Logits (S, n tile tokens) for the item's features and instruction strings (with parts, also
    keys and queries), by the prompt order the model was made with (its config's prompt_template)."""
    first = net.config.get("prompt_template") == decoder.INSTRUCTION_FIRST
    fn = decoder.pointer_logits_first if first else decoder.pointer_logits
    return fn(net, prompts, feats, m["grid"], m["thumb"], forms, parts=parts)


# MARK: - Character-bag objective

CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def char_bag(label):
    """(len(CHARS) + 1,) 0/1: which letters and digits the label has (case folded), and any other."""
    v = torch.zeros(len(CHARS) + 1)
    for ch in label.lower():
        v[CHARS.index(ch) if ch in CHARS else len(CHARS)] = 1.0
    return v


def bag_loss(probe, keys, q, targets, labels):
    """Both sides of the pointer into one character space: a shared linear probe must read the
    named label's characters from the target's keys (their mean) and from the query. Targets
    named by role and position (no label) are left out. A training-only objective: the probe is
    not exported."""
    rows = [(s, t, char_bag(lab)) for s, (t, lab) in enumerate(zip(targets, labels)) if lab]
    if not rows:
        return keys.sum() * 0.0
    bags = torch.stack([b for _, _, b in rows]).to(keys.device)
    k = torch.stack([keys[t].mean(0) for _, t, _ in rows])
    qs = q[[s for s, _, _ in rows]]
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    return bce(probe(k), bags) + bce(probe(qs), bags)


def dense_loss(dense, tiles, targets, pos_weight=4.0):
    """Instruction first: every tile token's final decoder state, which has seen the instruction,
    says whether it shows the target (binary cross-entropy, positives weighted up). A direct
    signal for the match the pointer's query then reads; training-only, not exported."""
    y = torch.zeros(tiles.shape[:2], device=tiles.device)
    for s, toks in enumerate(targets):
        y[s, toks] = 1.0
    w = torch.tensor(pos_weight, device=tiles.device)
    return torch.nn.functional.binary_cross_entropy_with_logits(dense(tiles).squeeze(-1).float(), y, pos_weight=w)


KEY_SIDE = ("multi_modal_projector.", "multi_patch_pointer_head.self_attention.",
            "multi_patch_pointer_head.layer_norm.", "multi_patch_pointer_head.projection_enc.")


def query_loss(text_map, q, forms, source="label"):
    """The decoder's projected query against the text map's vector of what its instruction says
    (match.query_text: the quoted label, or the whole instruction), squared error relative to the
    target's size; with labels, instructions that quote none (role and position) are left out."""
    import match
    rows = [(s, match.quoted(f, source)) for s, f in enumerate(forms)]
    rows = [(s, lab) for s, lab in rows if lab]
    if not rows:
        return q.sum() * 0.0
    target = text_map([lab for _, lab in rows])
    got = q[[s for s, _ in rows]]
    return ((got - target) ** 2).sum(-1).mean() / (target ** 2).sum(-1).mean()


def labelled_forms(cache, rng, n, source="label"):
    """n instructions drawn from all the cache's items (metadata only); with labels as the query
    source, only those that quote one."""
    import match
    out = []
    while len(out) < n:
        m = cache.items[rng.randrange(len(cache.items))][2]
        if m["targets"]:
            form = rng.choice(rng.choice(m["targets"])["forms"])
            if match.quoted(form, source):
                out.append(form)
    return out


def query_error(net, prompts, text_map, entries, chunk=48, source="label"):
    """The query objective on a held-out set (each instruction after its own image): the mean
    relative error, and how often the query is nearest (dot product) to its own target's vector
    among the set's: (error, top-1, n)."""
    import match
    said = lambda f: match.quoted(f, source)  # noqa: E731
    labels = sorted({lab for e in entries for t in e[2]["targets"] if (lab := said(t["forms"][0]))})
    index = {lab: i for i, lab in enumerate(labels)}
    errs, top1, n = [], 0, 0
    with torch.no_grad():
        table = text_map(labels)
        for entry in entries:
            feats, m = item_tensors(entry)
            forms = [t["forms"][0] for t in m["targets"] if said(t["forms"][0])]
            for c in range(0, len(forms), chunk):
                fs = forms[c:c + chunk]
                _, _, q = run_item(net, prompts, feats, m, fs, parts=True)
                want = torch.stack([table[index[said(f)]] for f in fs])
                errs += (((q - want) ** 2).sum(-1) / (want ** 2).sum(-1)).tolist()
                best = (q @ table.T).argmax(-1).tolist()
                top1 += sum(b == index[said(f)] for b, f in zip(best, fs))
                n += len(fs)
    return float(np.mean(errs)) if errs else float("nan"), top1, n


# MARK: - Evaluation

def evaluate(net, prompts, entries, chunk=None):
    """Hits of the engine's point rule on a cached held-out set: (hits, n, by role {role: [hits, n]})."""
    hits, n, by = 0, 0, {}
    chunk = chunk or (4 if net.config.get("prompt_template") == decoder.INSTRUCTION_FIRST else 48)
    with torch.no_grad():
        for entry in entries:
            feats, m = item_tensors(entry)
            W, H = m["size"]
            valid = windows.valid_tokens(W, H, m["grid"])
            for c in range(0, len(m["targets"]), chunk):
                ts = m["targets"][c:c + chunk]
                logits = run_item(net, prompts, feats, m, [t["forms"][0] for t in ts])
                probs = torch.softmax(logits.float(), -1).cpu().numpy()
                for t, p in zip(ts, probs):
                    ok = pointer.hits(pointer.point(p, m["grid"], valid, W, H), t["box"])
                    hits += ok
                    n += 1
                    r = by.setdefault(t["role"], [0, 0])
                    r[0] += ok
                    r[1] += 1
    return hits, n, by


# MARK: - Model set-up

def new_model(tok, init_dir):
    """The nano config with the byte tokenizer and the pointer head; adapter and decoder layers
    from `init_dir` (an exported model), token embeddings of the same strings carried over."""
    from safetensors.torch import load_file
    torch.manual_seed(0)
    net = nano.BlueLMNano(nano.pointer_config(tok))
    with torch.no_grad():
        # The format divides the logits by sqrt(d) = 16; at PyTorch's default init they start near
        # 0 and a run spends hundreds of steps growing them (a plateau at the "any element" prior).
        # Four times larger last layers in both projections start the logits 16x wider: one
        # window's 15 instructions overfit to 14 of 15 in 60 steps instead of 5 (README).
        for proj in (net.multi_patch_pointer_head.projection_enc, net.multi_patch_pointer_head.projection_dec):
            proj[2].weight.mul_(INIT_SCALE)
    if init_dir:
        tensors = load_file(os.path.join(init_dir, "model.safetensors"))
        old_tok = nano_tok.Tokenizer.from_file(os.path.join(init_dir, "tokenizer.json"))
        own = net.checkpoint_tensors()
        load = {k: v.float() for k, v in tensors.items() if k in own and own[k].shape == v.shape}
        for name in ("language_model.model.embed_tokens.weight", "language_model.lm_head.weight"):
            w = own[name].detach().clone()
            carried = 0
            for token, i in tok.get_vocab().items():
                j = old_tok.token_to_id(token)
                if j is not None and j < tensors[name].shape[0]:
                    w[i] = tensors[name][j].float()
                    carried += 1
            load[name] = w
        missing = [k for k in own if k not in load and not k.startswith("multi_patch_pointer_head.")]
        names = {net.checkpoint_name(k): k for k in net.state_dict() if net.checkpoint_name(k)}
        net.load_state_dict({names[k]: v for k, v in load.items()}, strict=False)
        print(f"train: from {init_dir}: {len(load)} tensors ({carried} token rows carried over); "
              f"new: pointer head{', ' + str(missing) if missing else ''}", flush=True)
    return net


def tower_into(net, cache_dir):
    """The tower the cache's features came from, so that the export carries exactly it."""
    state = torch.load(os.path.join(cache_dir, "tower.pt"), map_location="cpu", weights_only=True)
    net.vision.load_state_dict(state["vision"], strict=True)


# MARK: - Main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="cache_windows.py folders, comma-separated (names under "
                    "~/.cache/gui-agent/training/windows/ or paths)")
    ap.add_argument("--from", dest="init", default=os.path.join(ROOT, "Models", "bluelm-vl-nano"),
                    help="an exported model to start a new run from (adapter, decoder layers), or an earlier "
                    "run's train.pt (everything but the optimizer)")
    ap.add_argument("--order", choices=["image-first", "instruction-first"], default="image-first",
                    help="prompt order of a new model: instruction-first lets the image tokens see the "
                    "instruction (config prompt_template), at one whole pass per instruction")
    ap.add_argument("--max-item-tiles", type=int, default=0, help="skip cached items with more tiles (0: none)")
    ap.add_argument("--dense-weight", type=float, default=0.0,
                    help="instruction first only: weight of the per-token target objective on the decoder's "
                    "image states (dense_loss); 0 leaves it out")
    ap.add_argument("--query-weight", type=float, default=0.0,
                    help="weight of the query objective (query_loss): the decoder's query must match the text "
                    "map of the run it starts from (match.py's keys.pt); 0 leaves it out")
    ap.add_argument("--query-only", action="store_true",
                    help="the query objective alone (with --freeze-keys): each step one image prefix and "
                    "--segments instructions drawn from the whole cache; evaluation reports the query's error "
                    "and how often it is nearest its own label (query_error) beside the grounding")
    ap.add_argument("--query-source", choices=["label", "form"], default=None,
                    help="what the query objective's target is made of (match.query_text); default: as the "
                    "key stage it starts from")
    ap.add_argument("--query-from", default=None,
                    help="a train.py checkpoint whose decoder and query projection replace those of --from "
                    "(a --query-only run joined to a newer key stage)")
    ap.add_argument("--freeze-keys", action="store_true",
                    help="keep the adapter and the head's key side as the run it starts from left them")
    ap.add_argument("--bag-weight", type=float, default=0.0,
                    help="weight of the character-bag objective (bag_loss); 0 leaves it out")
    ap.add_argument("--ckpt", default=os.path.join(CACHE, "pointer-run"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=170)
    ap.add_argument("--batch", type=int, default=2, help="images a step")
    ap.add_argument("--segments", type=int, default=32, help="instructions an image a step")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--curve", default=None)
    ap.add_argument("--export", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda where an accelerator is lent (same code)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    folders = [f if os.path.isdir(f) else os.path.join(CACHE, "windows", f) for f in args.cache.split(",")]
    cache = Cache(folders)
    heldout = {stem: Cache.entries(folders[0], stem) for stem in ("heldout", "heldout-real")}
    tok = nano_tok.build_bytes()
    os.makedirs(args.ckpt, exist_ok=True)
    tok_path = os.path.join(args.ckpt, "tokenizer.json")
    tok.save(tok_path)
    ckpt_path = os.path.join(args.ckpt, "train.pt")
    resume = os.path.exists(ckpt_path)
    from_run = not resume and args.init.endswith(".pt")
    net = new_model(tok, None if resume or from_run else args.init)
    if args.order == "instruction-first":
        net.config["prompt_template"] = decoder.INSTRUCTION_FIRST
    import match
    start = torch.load(ckpt_path if resume else args.init, map_location="cpu", weights_only=False) \
        if resume or from_run else {}
    if from_run:
        net.load_state_dict(start["model"])
        print(f"train: from the run {args.init}", flush=True)
    if args.query_from and not resume:
        own = net.state_dict()
        other = torch.load(args.query_from, map_location="cpu", weights_only=False)["model"]
        taken = {k: v for k, v in other.items()
                 if k.startswith(("language_model.", "multi_patch_pointer_head.projection_dec.")) and k in own}
        net.load_state_dict(taken, strict=False)
        print(f"train: decoder and query projection from {args.query_from} ({len(taken)} tensors)", flush=True)
    text_map = match.load_text_map(start, net.config["text_config"]["hidden_size"])
    if args.query_only:
        args.query_weight, args.freeze_keys = args.query_weight or 1.0, True
    # What the text map's queries are made of: as the key stage this run starts from made them.
    source = args.query_source or start.get("args", {}).get("query_source", "label")
    if args.query_weight and text_map is None:
        raise SystemExit("train: --query-weight needs --from a match.py checkpoint (keys.pt), which holds the text map")
    tower_into(net, folders[0])
    net.to(args.device)
    probe = torch.nn.Linear(net.config["text_config"]["hidden_size"], len(CHARS) + 1).to(args.device)
    dense = torch.nn.Linear(net.config["text_config"]["hidden_size"], 1).to(args.device)
    frozen = ("vision.",) + (KEY_SIDE if args.freeze_keys else ())
    for n, p in net.named_parameters():
        p.requires_grad_(not n.startswith(frozen))
    params = [p for p in net.parameters() if p.requires_grad] + list(probe.parameters()) + list(dense.parameters())
    if text_map is not None:
        text_map.to(args.device)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    step = 0
    if resume:
        ck = start  # loaded above, on the CPU; load_state_dict copies onto the device
        net.load_state_dict(ck["model"])
        if "probe" in ck:
            probe.load_state_dict(ck["probe"])
        if "dense" in ck:
            dense.load_state_dict(ck["dense"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print(f"train: resumed {ckpt_path} at step {step}", flush=True)
    prompts = decoder.Prompts(tok)
    curve = open(args.curve, "a") if args.curve else None
    if curve and os.path.getsize(args.curve) == 0:
        curve.write("step\timages\tsamples\tloss\tsynthetic_hits\tsynthetic_n\treal_hits\treal_n\tseconds\tcache\n")

    def save():
        torch.save({"model": {k: v.cpu() for k, v in net.state_dict().items()}, "probe": probe.state_dict(), "dense": dense.state_dict(), "opt": opt.state_dict(), "step": step, "config": net.config,
                    "args": vars(args), **({"text_map": text_map.state_dict()} if text_map is not None else {})},
                   ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    def log_eval(loss_avg, t_run):
        res = {stem: evaluate(net.eval(), prompts, entries) for stem, entries in heldout.items()}
        if args.query_only:
            for stem, entries in heldout.items():
                err, top1, n = query_error(net, prompts, text_map, entries, source=source)
                print(f"train: step {step}  {stem}: query error {err:.3f}, nearest its own label {top1}/{n} "
                      f"= {100 * top1 / max(n, 1):.1f} %", flush=True)
        net.train()
        (sh, sn, _), (rh, rn, _) = res["heldout"], res["heldout-real"]
        print(f"train: step {step}  loss {loss_avg:.3f}  synthetic {sh}/{sn} = {100 * sh / sn:.1f} %  "
              f"real {rh}/{rn} = {100 * rh / rn:.1f} %  ({t_run / 60:.1f} min)", flush=True)
        if curve:
            curve.write(f"{step}\t{step * args.batch}\t{samples}\t{loss_avg:.4f}\t{sh}\t{sn}\t{rh}\t{rn}\t"
                        f"{t_run:.0f}\t{','.join(os.path.basename(f) for f in folders)}\n")
            curve.flush()
        return res

    t0, losses, bags, denses, queries, samples = time.time(), [], [], [], [], 0
    net.train()
    while step < args.steps and (time.time() - t0) / 60 < args.minutes:
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        rng = random.Random(f"train:{args.seed}:{step}")
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(args.batch):
            entry = cache.items[rng.randrange(len(cache.items))]
            while not entry[2]["targets"] or (args.max_item_tiles and entry[2]["n_tiles"] > args.max_item_tiles):
                entry = cache.items[rng.randrange(len(cache.items))]
            feats, m = item_tensors(entry)
            if args.query_only:
                forms = labelled_forms(cache, rng, args.segments, source)
                _, _, q = run_item(net, prompts, feats, m, forms, parts=True)
                qw = query_loss(text_map, q, forms, source)
                queries.append(float(qw.detach()))
                total += float(qw.detach()) / args.batch
                (qw / args.batch).backward()
                samples += len(forms)
                continue
            ts = rng.sample(m["targets"], min(args.segments, len(m["targets"])))
            forms = [rng.choice(t["forms"]) for t in ts]
            logits, keys, q, *rest = run_item(net, prompts, feats, m, forms, parts=True)
            loss = pointer_loss(logits.float(), [t["tokens"] for t in ts])
            total += float(loss.detach()) / args.batch
            if args.dense_weight and rest:
                d = dense_loss(dense, rest[0], [t["tokens"] for t in ts])
                denses.append(float(d.detach()))
                loss = loss + args.dense_weight * d
            if args.query_weight:
                qw = query_loss(text_map, q, forms, source)
                queries.append(float(qw.detach()))
                loss = loss + args.query_weight * qw
            if args.bag_weight:
                labels = [windows.label_of(f) for f in forms]
                bag = bag_loss(probe, keys, q, [t["tokens"] for t in ts], labels)
                bags.append(float(bag.detach()))
                loss = loss + args.bag_weight * bag
            loss = loss / args.batch
            loss.backward()
            samples += len(ts)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        losses.append(total)
        if step % 25 == 0:
            dt = time.time() - t0
            bag = f"  bag {np.mean(bags[-50:]):.3f}" if bags else ""
            bag += f"  dense {np.mean(denses[-50:]):.3f}" if denses else ""
            bag += f"  query {np.mean(queries[-50:]):.3f}" if queries else ""
            what = "query loss" if args.query_only else "pointer loss"
            print(f"train: step {step}  {what} {np.mean(losses[-25:]):.3f}{bag}  lr {lr:.2e}  "
                  f"{samples / dt:.1f} samples/s  {step * args.batch / dt:.2f} images/s", flush=True)
        if step % 50 == 0:
            save()
        if step % args.eval_every == 0:
            cache = Cache(folders)  # shards that cache_windows.py finished meanwhile join the run
            save()
            log_eval(float(np.mean(losses[-args.eval_every:])), time.time() - t0)
    save()
    if step % args.eval_every:
        log_eval(float(np.mean(losses[-args.eval_every:])) if losses else float("nan"), time.time() - t0)
    if args.export:
        import export
        net.cpu().eval()
        size = export.export(net, tok_path, args.export)
        print(f"train: exported {size / 2**20:.1f} MiB -> {args.export}", flush=True)


if __name__ == "__main__":
    main()
