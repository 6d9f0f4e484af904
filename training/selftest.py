#!/usr/bin/env python3
"""Checks of the generated data that can fail, run on a pool folder and fresh reading strips:
- every pool window: the PNG has the recorded size, every box lies inside it, and no two
  elements share a text that one of them is named by in a text instruction;
- the held-out set: no dictionary word of the training split in its instructions (besides the
  instruction forms' own words, the words of held-out UI phrases, which are split whole, and
  the "example" of e-mail values);
- reading strips: the characters in patch_chars, read column by column, are the strip's text
  without spaces (nothing lost at patch borders, given SLOTS), and char edges increase;
- the tokenizer (build_bytes): round trips, one token a character, the pointer tokens whole;
- window items (windows.py): each target's tokens equal an independent rasterisation of its box
  on the AnyRes canvas, and lie on image;
- the decoder passes (decoder.py: image first with a shared prefix, and instruction first with
  left padding) equal transformers' forward over whole prompts.

Usage: training/selftest.py [--pool DIR] (default ~/.cache/gui-agent/training/pool/train)
"""
import argparse
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import gen_reading  # noqa: E402
import instructions  # noqa: E402
import pointer  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import vocab  # noqa: E402
import windows  # noqa: E402


def check_pool(folder):
    files = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not files:
        raise SystemExit(f"selftest: no pool windows in {folder} (run gen_toolkit_pool.py first)")
    n_el = 0
    for path in files:
        rec = json.load(open(path))
        W, H = rec["size"]
        size = Image.open(path[:-5] + ".png").size
        assert list(size) == [W, H], (path, size, rec["size"])
        shown = {}
        for e in rec["elements"]:
            x, y, w, h = e["box"]
            assert 0 <= x and 0 <= y and x + w <= W and y + h <= H and w > 0 and h > 0, (path, e)
            if e["text"]:
                shown[instructions.norm(e["text"])] = shown.get(instructions.norm(e["text"]), 0) + 1
        for e in rec["elements"]:
            n_el += 1
            for ins in e["instructions"]:
                if instructions.norm(ins) == instructions.norm(e["text"]) and e["text"]:
                    assert shown[instructions.norm(e["text"])] == 1, (path, ins)
    print(f"selftest: pool {folder}: {len(files)} windows, {n_el} elements: sizes, boxes, unique names ok")


def check_heldout():
    train_words = set(w.lower() for w in vocab.word_lists("train")[0])
    held = json.load(open(os.path.join(HERE, "heldout", "screenspot_heldout.json")))
    fixed = set(w.lower() for form in list(instructions.TEXT_FORMS.values()) + [instructions.LABEL_FORMS,
                instructions.VALUE_FORMS] for f in form for w in f.replace("{t}", "").replace("{l}", "").split())
    fixed |= set(instructions.ROLE_NOUN.values()) | set(instructions.ORDINALS) | {
        "last", "at", "in", "top", "bottom", "left", "right", "center", "icon", "text", "list", "item", "field",
        "example", "org"}
    fixed |= set(w.lower() for p in vocab.word_lists("heldout")[2] for w in p.split())
    leaked = set()
    for s in held:
        for w in s["instruction"].replace("@", " ").replace(".", " ").split():
            w = w.lower().strip(":")
            if w in train_words and w not in fixed and not w.isdigit():
                leaked.add(w)
    assert not leaked, f"training words in the held-out instructions: {sorted(leaked)[:10]}"
    print(f"selftest: held-out set: {len(held)} samples, no training-split dictionary word")


def check_reading(n=500):
    reader = gen_reading.Reader("train")
    for i in range(n):
        img, t = reader.sample(3, i)
        assert img.shape[0] == gen_reading.STRIP_H and img.shape[1] % gen_reading.PATCH == 0
        read = "".join(chr(c + 31) for row in t["patch_chars"] for c in row if c)
        assert read == t["text"].replace(" ", ""), (i, read, t["text"])
        assert (t["char_x"][:, 1] >= t["char_x"][:, 0]).all() and (t["char_x"][1:, 0] >= t["char_x"][:-1, 0]).all()
    print(f"selftest: reading: {n} strips, patch_chars spell the text, edges increase")


def check_windows(pool, n=40):
    """Items of whole windows and screens: every target's tokens are exactly the canvas cells its
    box covers, rasterised independently (the box drawn on the resized canvas, pooled 28 x 28),
    and lie on image, not padding."""
    data = windows.Windows(os.path.dirname(pool), split=os.path.basename(pool), screens=0.3, seed=4242)
    checked = 0
    for i in range(n):
        item = data.item(i)
        W, H = item["size"]
        r, c = item["grid"]
        nw, nh = windows.anyres_ref.fit_size(W, H, c * windows.TILE, r * windows.TILE)
        valid = windows.valid_tokens(W, H, item["grid"])
        order = pointer.canvas_order(item["grid"])
        for t in item["targets"]:
            x, y, w, h = t["box"]
            canvas = np.zeros((r * windows.TILE, c * windows.TILE), dtype=bool)
            x0, y0 = x * nw / W, y * nh / H
            x1, y1 = (x + w) * nw / W, (y + h) * nh / H
            # a cell counts when the scaled box overlaps it with positive area: mark the pixels
            # whose square [p, p+1) meets the open box (x0, x1)
            canvas[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = True
            cells = canvas.reshape(r * windows.H_TOK, windows.CELL, c * windows.H_TOK, windows.CELL).any((1, 3))
            want = sorted(k for k, (a, b) in enumerate(order) if cells[a, b])
            assert t["tokens"] == want, (item["source"], t["forms"][0], t["tokens"][:5], want[:5])
            assert all(valid[k] for k in t["tokens"]), (item["source"], t["forms"][0])
            checked += 1
    print(f"selftest: windows: {checked} targets of {n} items, tokens = the cells their boxes cover, all on image")


def check_decoder(pool):
    """The shared-prefix pass (decoder.py) against transformers' forward over whole prompts, on a
    random model with the pointer head, and the prompt it builds against the engine's layout."""
    import torch
    import decoder
    import model as nano
    tok = nano_tok.build_bytes()
    cfg = nano.nano_config(tok.get_vocab_size())
    for name, token in nano.POINTER_TOKENS.items():
        cfg[name + "_token_id"] = tok.token_to_id(token)
    torch.manual_seed(0)
    net = nano.BlueLMNano(cfg).eval()
    item = windows.Windows(os.path.dirname(pool), split=os.path.basename(pool), seed=7).item(0)
    tiles, thumb = windows.tiles_of(item)
    with torch.no_grad():
        feats = net.vision(pixel_values=torch.from_numpy(tiles)).last_hidden_state
    forms = [t["forms"][0] for t in item["targets"][:6]]
    worst = decoder.check(net, decoder.Prompts(tok), feats, item["grid"], thumb, forms)
    first = decoder.check(net, decoder.Prompts(tok), feats, item["grid"], thumb, forms, first=True)
    print(f"selftest: decoder: shared-prefix logits = transformers' on {len(forms)} prompts (max diff {worst:.1e}); "
          f"instruction first, left-padded: {first:.1e}")


def check_tokenizer():
    tok = nano_tok.build_bytes()
    for s in ["click the Save button", "the 1.4 MB item", "Ünïcödé field", "[|AI|]:<|pointer_start|><|pointer_pad|>"]:
        assert tok.decode(tok.encode(s).ids, skip_special_tokens=False) == s, s
    assert tok.encode("Save").tokens == ["S", "a", "v", "e"], tok.encode("Save").tokens
    ids = [tok.token_to_id(t) for t in nano_tok.POINTER]
    assert ids == [tok.get_vocab_size() - 3 + k for k in range(3)], ids
    assert tok.encode("<|pointer_pad|>").ids == [ids[1]]
    print("selftest: tokenizer: round trips, one token a character, the pointer tokens last and whole")


def check_text_side():
    """match.py's n-gram vectors: case and spacing do not matter, shared pieces raise the dot
    product, and the labels training uses are what the instructions quote."""
    import match
    v = match.ngrams
    assert abs(float(v("Save As") @ v("save  as")) - 1) < 1e-6
    assert float(v("Save") @ v("Save As")) > float(v("Save") @ v("Leave")) > float(v("Save") @ v("Open"))
    assert match.target_label({"text": "Name:", "forms": ["the Name field"]}) == "Name"
    assert match.target_label({"text": "", "forms": ["the second checkbox", "the Name field"]}) == "Name"
    assert match.target_label({"text": "", "forms": ["the second checkbox"]}) is None
    print("selftest: text side: n-gram vectors and target labels")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", default=os.path.expanduser("~/.cache/gui-agent/training/pool/train"))
    args = ap.parse_args()
    check_pool(args.pool)
    check_heldout()
    check_reading()
    check_tokenizer()
    check_text_side()
    check_windows(args.pool)
    check_decoder(args.pool)


if __name__ == "__main__":
    main()
