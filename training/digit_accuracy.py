#!/usr/bin/env python3
"""Which answer digits the model gets right: teacher-forced argmax accuracy of every digit of
`(x,y)` (x3/y3 the hundreds, x2/y2 the tens, x1/y1 the units; a two-digit number's first digit
counts as tens) on 96 fresh training samples of the easy and t4 curricula (seed 5, indices the
training runs never reach). Usage: training/digit_accuracy.py [MODEL_DIR]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, common.TORCH_PACKAGES)

import torch  # noqa: E402

import grounding_data as gd  # noqa: E402
import tokenizer as nano_tok  # noqa: E402
import train_device as td  # noqa: E402


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(HERE), "Models", "bluelm-vl-nano")
    torch.set_num_threads(2)
    tok_path = os.path.join(model_dir, "tokenizer.json")
    tok, m = td.exported(model_dir)
    pad, eos = tok.token_to_id(nano_tok.TOKENS["image_pad"]), tok.token_to_id(nano_tok.TOKENS["eos"])
    for name in ("easy", "t4"):
        ds = td.GroundingSamples(tok_path, gd.POOL, 5, td.CURRICULA[name], 10**7, 96)
        correct, total = {}, {}
        with torch.no_grad():
            for b in range(0, 96, 16):
                batch = td.collate_grounding([ds[i] for i in range(b, b + 16)], eos)
                ids, labels = batch["ids"], batch["labels"]
                out, _ = m.ground(ids, td.to_pixels(batch["tiles"], batch["valid"], "cpu"), batch["mask"], pad)
                pred, tgt = out.logits[:, :-1].argmax(-1), labels[:, 1:]
                for r in range(ids.shape[0]):
                    pos = (tgt[r] != -100).nonzero().flatten().tolist()
                    text = [tok.id_to_token(int(tgt[r, p])) for p in pos]  # ( d d d , d d d ) </s>
                    comma = text.index(",")
                    for k, p in enumerate(pos):
                        if not text[k].isdigit():
                            continue
                        key = f"x{comma - k}" if k < comma else f"y{len(text) - 2 - k}"
                        total[key] = total.get(key, 0) + 1
                        correct[key] = correct.get(key, 0) + int(pred[r, p] == tgt[r, p])
        print(f"digit_accuracy: {name}: " + ", ".join(f"{k} {correct[k]}/{total[k]}" for k in sorted(total)))


if __name__ == "__main__":
    main()
