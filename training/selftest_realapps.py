#!/usr/bin/env python3
"""Checks of training/heldout-real/ (make_realapps.py) and of ocr_baseline.py's matcher.

The folder: every sample has the ScreenSpot v1 fields plus app and theme, its image exists and
the PNG header's size holds its box (non-degenerate), instructions are unique per image, at least
4 applications, and the folder stays small. The matcher: the label comes back out of every
instruction form, and word runs are matched as intended (typos within the edit budget, split and
joined words, no match -> None). Standard library only. Usage: training/selftest_realapps.py
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import instructions  # noqa: E402
import make_realapps  # noqa: E402
import ocr_baseline  # noqa: E402

FAILS = []


def check(ok, what):
    if not ok:
        FAILS.append(what)
        print("FAIL:", what)


# MARK: - The folder


def check_folder():
    folder = make_realapps.OUT
    with open(os.path.join(folder, make_realapps.ANNOTATIONS)) as f:
        samples = json.load(f)
    check(150 <= len(samples) <= 400, f"{len(samples)} samples, expected 150-400")
    fields = {"img_filename", "bbox", "instruction", "data_type", "data_source", "app", "theme"}
    seen, sizes = set(), {}
    for i, s in enumerate(samples):
        check(set(s) == fields, f"sample {i}: fields {sorted(s)}")
        name = s["img_filename"]
        path = os.path.join(folder, name)
        if name not in sizes:
            check(os.path.isfile(path), f"sample {i}: no image {name}")
            sizes[name] = make_realapps.png_size(path) if os.path.isfile(path) else (0, 0)
        W, H = sizes[name]
        x, y, w, h = s["bbox"]
        check(w >= 4 and h >= 4 and x >= 0 and y >= 0 and x + w <= W and y + h <= H,
              f"sample {i}: box {s['bbox']} outside {name} ({W}x{H}) or degenerate")
        check(s["data_type"] in ("text", "icon"), f"sample {i}: data_type {s['data_type']!r}")
        check(bool(s["instruction"].strip()) and bool(s["data_source"]), f"sample {i}: empty instruction or role")
        key = (name, s["instruction"].lower())
        check(key not in seen, f"sample {i}: instruction {s['instruction']!r} twice on {name}")
        seen.add(key)
    apps = {s["app"].split()[0] for s in samples}
    check(len(apps) >= 4, f"programs: {sorted(apps)}, expected at least 4")
    pngs = {f for f in os.listdir(folder) if f.endswith(".png")}
    check(pngs == set(sizes), f"images without samples or missing: {sorted(pngs ^ set(sizes))}")
    total = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    check(total < 3 * 1024 * 1024, f"folder is {total / 1e6:.1f} MB")
    print(f"folder: {len(samples)} samples, {len(sizes)} images, {len({s['app'] for s in samples})} apps, "
          f"{total / 1024:.0f} KiB")


# MARK: - The matcher


def word(text, x, y, line=(1, 1, 1), conf=90.0, w=None):
    return {"text": text, "box": [x, y, w or 8 * len(text), 16], "conf": conf, "line": line}


def check_matcher():
    # Every form of every role gives its label back, for one- and two-word labels.
    for label in ["Save", "First name", "Lab 3"]:
        forms = [f for fs in instructions.TEXT_FORMS.values() for f in fs] + instructions.LABEL_FORMS
        forms += make_realapps.LABELLED_COMBO_FORMS + [f for fs in make_realapps.EXTRA_FORMS.values() for f in fs]
        for f in forms:
            ins = f.replace("{t}", label).replace("{l}", label)
            check(ocr_baseline.label_in(ins) == label, f"label_in({ins!r}) = {ocr_baseline.label_in(ins)!r}")
    for ins, label in [("the text New contact", "New contact"), ("type in the Email address field", "Email address"),
                       ("select Lab 3 in the list", "Lab 3"), ("Close without saving", "Close without saving"),
                       ("the second text field", "second text")]:
        check(ocr_baseline.label_in(ins) == label, f"label_in({ins!r}) = {ocr_baseline.label_in(ins)!r}")
    words = [word("Save", 10, 10), word("Save", 200, 10, line=(1, 1, 2)), word("as", 240, 10, line=(1, 1, 2)),
             word("Emall", 10, 50, line=(2, 1, 1)), word("address:", 60, 50, line=(2, 1, 1)),
             word("Post", 10, 90, line=(3, 1, 1)), word("code", 50, 90, line=(3, 1, 1)),
             word("Lockscreen", 10, 130, line=(4, 1, 1)), word("OK", 300, 130, line=(4, 1, 1))]
    cases = [("Save as", (228.0, 18.0)),           # the two-word run, not the lone "Save"
             ("Save", (26.0, 18.0)),              # the exact one-word run comes first in reading order
             ("Email address", (67.0, 58.0)),     # one edit, trailing colon ignored
             ("Postcode", (46.0, 98.0)),          # joined: OCR split the word
             ("Lock screen", (50.0, 138.0)),      # split: OCR joined the words
             ("OK", (308.0, 138.0)),
             ("Ok.", (308.0, 138.0)),             # case and punctuation
             ("OX", None),                        # short labels must match exactly
             ("Discard", None)]
    for label, want in cases:
        got = ocr_baseline.best_match(label, words)
        check(got == want, f"best_match({label!r}) = {got}, expected {want}")
    check(ocr_baseline.edit_distance("kitten", "sitting") == 3, "edit distance of kitten/sitting")


def main():
    check_matcher()
    check_folder()
    if FAILS:
        sys.exit(f"selftest_realapps: {len(FAILS)} failures")
    print("selftest_realapps: all checks passed")


if __name__ == "__main__":
    main()
