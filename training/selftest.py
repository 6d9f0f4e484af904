#!/usr/bin/env python3
"""Checks of the generated data that can fail, run on a pool folder and fresh reading strips:
- every pool window: the PNG has the recorded size, every box lies inside it, and no two
  elements share a text that one of them is named by in a text instruction;
- the held-out set: no dictionary word of the training split in its instructions (besides the
  instruction forms' own words, the words of held-out UI phrases, which are split whole, and
  the "example" of e-mail values);
- reading strips: the characters in patch_chars, read column by column, are the strip's text
  without spaces (nothing lost at patch borders, given SLOTS), and char edges increase;
- fresh words (fresh_words.py): a redrawn crop changes pixels only inside the padded boxes of
  the text elements, its instruction names the new label and not the old one, and no new word
  is a held-out one;
- the tokenizer: encode/decode round trip of instructions and coordinate answers.

Usage: training/selftest.py [--pool DIR] (default ~/.cache/gui-agent/training/pool/train)
"""
import argparse
import glob
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, ["pillow", "numpy", "tokenizers"])

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import fresh_words  # noqa: E402
import gen_reading  # noqa: E402
import grounding_data  # noqa: E402
import instructions  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import vocab  # noqa: E402


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


def check_fresh(pool, n=300):
    data = grounding_data.GroundingData(nano_tok.load_or_build(), pool=os.path.dirname(pool), split=os.path.basename(pool))
    redraw = fresh_words.Redrawer("train")
    changed = 0
    for i in range(n):
        rng = random.Random(f"fresh-selftest:{i}")
        k, e, ins, crop = data.pick(rng)
        x0, y0, cw, ch = crop
        img = data.window_image(k).crop((x0, y0, x0 + cw, y0 + ch))
        new_img, new_ins = redraw.redraw(img, data.record(k), e, crop, ins, rng)
        diff = np.abs(np.asarray(new_img, dtype=np.int32) - np.asarray(img, dtype=np.int32)).sum(-1) > 0
        if new_ins == ins:
            continue
        changed += 1
        old = e["text"].rstrip(":").strip().lower()
        at = ins.lower().index(old)
        prefix, suffix = ins[:at], ins[at + len(old):]
        assert new_ins.startswith(prefix) and new_ins.endswith(suffix), (ins, new_ins)
        label = new_ins[len(prefix):len(new_ins) - len(suffix)]
        assert label and label.lower() != old, (ins, new_ins)
        assert not any(vocab.is_heldout(w) for w in label.split()), (ins, new_ins)
        allowed = np.zeros_like(diff)
        for el in data.record(k)["elements"]:
            if el["role"] in fresh_words.ROLES:
                bx, by, bw, bh = el["box"]
                allowed[max(0, by - y0 - 2):max(0, by - y0 + bh + 2), max(0, bx - x0 - 2):max(0, bx - x0 + bw + 2)] = True
        assert not (diff & ~allowed).any(), (i, ins, new_ins)
        assert diff.any(), (i, ins, new_ins)
    assert changed > n // 5, f"only {changed} of {n} crops were redrawn"
    print(f"selftest: fresh words: {changed} of {n} crops redrawn, changes inside text boxes, instructions renamed")


def check_tokenizer():
    tok = nano_tok.load_or_build()
    for s in ["click the Save button", "the second text field", "(123,456)", "[|AI|]:(0,999)</s>"]:
        assert tok.decode(tok.encode(s).ids, skip_special_tokens=False) == s, s
    digits = tok.encode("(123,456)").tokens
    assert digits == ["(", "1", "2", "3", ",", "4", "5", "6", ")"], digits
    print("selftest: tokenizer: round trips, one token a digit")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", default=os.path.expanduser("~/.cache/gui-agent/training/pool/train"))
    args = ap.parse_args()
    check_pool(args.pool)
    check_heldout()
    check_reading()
    check_fresh(args.pool)
    check_tokenizer()


if __name__ == "__main__":
    main()
