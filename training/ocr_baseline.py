#!/usr/bin/env python3
"""An OCR baseline for the held-out grounding sets: Tesseract (Debian's tesseract-ocr) reads each
image once (`tesseract IMG - --psm 11 --dpi 96 tsv`: sparse text, UI text is scattered), the label
is taken out of the instruction by trying the instruction forms of instructions.py (and
make_realapps.py's extra ones) and keeping the shortest text they leave ("the Save button" ->
"Save"; no form fits -> the whole instruction), and the prediction is the center of the run of
consecutive OCR words on one line that spells the label best, within a small edit distance
(case-insensitive, surrounding punctuation ignored); no such run -> no point (null).

The predictions (JSONL: img_filename, instruction, x, y) are scored by the Swift evaluator,
`gui-agent eval screenspot --predictions`, beside its `--baseline center` and `--baseline random`
(seed 0), on training/heldout and training/heldout-real; the table is printed as Markdown.
Standard library only; deterministic (Tesseract is, for one binary and one image).

Usage: training/ocr_baseline.py [--out DIR] [--psm N] [--sets heldout,heldout-real]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
import instructions  # noqa: E402
import make_realapps  # noqa: E402  (its forms; pyatspi is imported only when it runs)

SETS = {"heldout": ("heldout", "screenspot_heldout.json"),
        "heldout-real": ("heldout-real", "screenspot_realapps.json")}
PUNCT = ".,:;!?\"'()[]{}<>|‘’“”…"

# MARK: - The label inside an instruction


def all_forms():
    """Every instruction form with a {t} or {l} slot, as one regular expression each."""
    forms = [f for fs in instructions.TEXT_FORMS.values() for f in fs]
    forms += instructions.LABEL_FORMS + instructions.VALUE_FORMS + make_realapps.LABELLED_COMBO_FORMS
    forms += [f for fs in make_realapps.EXTRA_FORMS.values() for f in fs]
    out = []
    for f in sorted(set(forms)):
        parts = re.split(r"\{[tl]\}", f)
        if len(parts) == 2:
            out.append(re.compile("^" + re.escape(parts[0]) + "(.+?)" + re.escape(parts[1]) + "$", re.IGNORECASE))
    return out


FORMS = all_forms()


def label_in(instruction):
    """The shortest text an instruction form leaves when it fits the instruction; else the whole."""
    s = " ".join(instruction.split())
    found = [m.group(1).strip() for r in FORMS for m in [r.match(s)] if m and m.group(1).strip()]
    return min(found, key=lambda x: (len(x), x)) if found else s


# MARK: - Matching OCR words


def norm_token(w):
    """Lower case without surrounding punctuation (a token of punctuation only stays as it is)."""
    s = w.lower().strip(PUNCT)
    return s or w.lower()


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def allowed(n):
    """Edits allowed for a label of n characters: none for 1-3, then one per 5 characters, at most 3."""
    return 0 if n <= 3 else min(3, max(1, n // 5))


def ocr_words(path, psm):
    """Tesseract's words: dicts with text, box [x, y, w, h], conf and line key, in reading order."""
    tsv = subprocess.run(["tesseract", path, "-", "--psm", str(psm), "--dpi", "96", "tsv"],
                         capture_output=True, text=True, check=True).stdout
    words = []
    for row in tsv.splitlines()[1:]:
        f = row.split("\t")
        if len(f) == 12 and f[0] == "5" and f[11].strip():
            words.append({"text": f[11].strip(), "box": [int(f[6]), int(f[7]), int(f[8]), int(f[9])],
                          "conf": float(f[10]), "line": (int(f[2]), int(f[3]), int(f[4]))})
    return words


def best_match(label, words):
    """Center (x, y) of the best run of consecutive words of one line that spells `label`, or None.
    Runs are compared with and without spaces (OCR splits and joins words); ties go to the higher
    mean confidence, then to reading order."""
    target = [norm_token(t) for t in label.split()]
    if not target:
        return None
    flat, flat_nospace = " ".join(target), "".join(target)
    lines = {}
    for w in words:
        lines.setdefault(w["line"], []).append(w)
    best = None
    for key in sorted(lines):
        line = lines[key]
        for k in range(max(1, len(target) - 1), len(target) + 2):
            for i in range(0, len(line) - k + 1):
                run = line[i:i + k]
                toks = [norm_token(w["text"]) for w in run]
                d = min(edit_distance(" ".join(toks), flat), edit_distance("".join(toks), flat_nospace))
                if d > allowed(len(flat_nospace)):
                    continue
                score = (d / max(1, len(flat_nospace)), -sum(w["conf"] for w in run) / k, key, i)
                if best is None or score < best[0]:
                    x0 = min(w["box"][0] for w in run)
                    y0 = min(w["box"][1] for w in run)
                    x1 = max(w["box"][0] + w["box"][2] for w in run)
                    y1 = max(w["box"][1] + w["box"][3] for w in run)
                    best = (score, ((x0 + x1) / 2, (y0 + y1) / 2))
    return best[1] if best else None


# MARK: - Running and scoring


def predict(data, images, out, psm):
    """Writes one prediction a sample to `out`; returns (samples, images, seconds of OCR)."""
    with open(data) as f:
        samples = json.load(f)
    cache, ocr_s = {}, 0.0
    with open(out, "w") as f:
        for s in samples:
            name = s["img_filename"]
            if name not in cache:
                t0 = time.time()
                cache[name] = ocr_words(os.path.join(images, name), psm)
                ocr_s += time.time() - t0
            p = best_match(label_in(s["instruction"]), cache[name])
            f.write(json.dumps({"img_filename": name, "instruction": s["instruction"],
                                "x": p[0] if p else None, "y": p[1] if p else None}) + "\n")
    return len(samples), len(cache), ocr_s


def evaluate(data, images, extra):
    argv = [common.gui_agent(), "eval", "screenspot", "--data", data, "--images", images, "--json"] + extra
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/gui-agent/training/ocr"))
    ap.add_argument("--psm", type=int, default=11, help="Tesseract page segmentation mode (default 11)")
    ap.add_argument("--sets", default="heldout,heldout-real")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = {"center": {}, "random (seed 0)": {}, f"Tesseract psm {args.psm}": {}}
    for name in args.sets.split(","):
        folder, ann = SETS[name]
        images, data = os.path.join(HERE, folder), os.path.join(HERE, folder, ann)
        preds = os.path.join(args.out, f"predictions_{name}_psm{args.psm}.jsonl")
        t0 = time.time()
        n, n_img, ocr_s = predict(data, images, preds, args.psm)
        print(f"ocr_baseline: {name}: {n} samples on {n_img} images, {time.time() - t0:.1f} s "
              f"({ocr_s:.1f} s in tesseract) -> {preds}", flush=True)
        for row, extra in ((f"Tesseract psm {args.psm}", ["--predictions", preds]),
                           ("center", ["--baseline", "center"]),
                           ("random (seed 0)", ["--baseline", "random", "--seed", "0"])):
            r = evaluate(data, images, extra)
            rows[row][name] = (r["overall"], r["n"], r.get("by_source", {}), r.get("text"), r.get("icon"))
    names = args.sets.split(",")
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    print("\n| method | " + " | ".join(f"{n}: all (n) | text | icon" for n in names) + " |")
    print("|---|" + "---|---|---|" * len(names))
    for row, res in rows.items():
        print(f"| {row} | " + " | ".join(f"{fmt(res[n][0])} ({res[n][1]}) | {fmt(res[n][3])} | {fmt(res[n][4])}"
                                         for n in names) + " |")
    for name in names:
        roles = sorted(rows[f"Tesseract psm {args.psm}"][name][2].items())
        print(f"\nTesseract by role on {name}: " + ", ".join(f"{k} {v['hits']}/{v['n']}" for k, v in roles))


if __name__ == "__main__":
    main()
