#!/usr/bin/env python3
"""The nano model's tokenizers (Hugging Face `tokenizers`), deterministic:
- build: byte-level BPE with digits split one by one (a coordinate in [0, 1000) is three digit
  tokens), trained on the training split's words, UI vocabulary, instruction forms and
  coordinate answers (a fixed corpus order, no sampling); the committed model's;
- build_numbers: bytes and one token for each number 0-999, no training (a text-answer
  variant whose golden fixture the engine's tokenizer tests keep);
- build_bytes: bytes and the pointer head's tokens, no merges (the pointer model's, train.py).

Usage: training/tokenizer.py [--out FILE] [--vocab N]   (default ~/.cache/gui-agent/training/tokenizer.json)
       training/tokenizer.py --numbers --out FILE      the pointer model's (build_numbers)
"""
import argparse
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

if __name__ == "__main__":
    common.enter_venv(__file__, ["tokenizers"])

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

import instructions  # noqa: E402
import vocab  # noqa: E402

CACHE = os.path.expanduser("~/.cache/gui-agent/training")
DEFAULT_VOCAB = 2048

# The format's special tokens (docs/checkpoint-format.md), matched before BPE.
TOKENS = {"image_start": "<|image_start|>", "image_end": "<|image_end|>",
          "tile_newline": "<|tile_newline|>", "image_pad": "<|image_pad|>",
          "think_start": "[|BlueThink|]", "think_end": "[|/BlueThink|]", "eos": "</s>"}
CHAT = {"user": "[|Human|]:{content}", "assistant": "[|AI|]:"}
SPECIALS = [TOKENS["eos"], TOKENS["image_pad"], TOKENS["image_start"], TOKENS["image_end"],
            TOKENS["tile_newline"], TOKENS["think_start"], TOKENS["think_end"], "[|Human|]:", "[|AI|]:"]


def corpus():
    """Training-split text only: dictionary words (each once, plus capitalised), UI words and
    phrases weighted up, every instruction form, and coordinate answers."""
    rng = random.Random(0)
    words, ui, phrases = vocab.word_lists("train")
    out = list(words) + [w.capitalize() for w in words[::3]]
    out += (ui + phrases) * 20
    forms = [f for fs in instructions.TEXT_FORMS.values() for f in fs] + instructions.LABEL_FORMS
    for _ in range(20000):
        t = rng.choice(ui + phrases + words[:: 50])
        out.append(rng.choice(forms).replace("{t}", t).replace("{l}", t))
    nouns = list(instructions.ROLE_NOUN.values())
    for o in instructions.ORDINALS + ["last"]:
        for n in nouns:
            out += [f"the {o} {n}"] * 5
    out += [f"({rng.randrange(1000)},{rng.randrange(1000)})" for _ in range(5000)]
    return out


def build(vocab_size=DEFAULT_VOCAB):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer=trainer)
    return tok


def build_numbers():
    """A text-answer tokenizer: byte-level, no merges between letters
    (an instruction reaches the decoder one character a token, as the vision tower reads it, so
    a word never seen in training is still made of familiar pieces), and every number 0-999 one
    token (merges "1"+"2" -> "12", then "12"+"3" and "1"+"23" -> "123"), so that a coordinate is one choice among
    a thousand ordered values instead of three digits. 9 special + 256 byte + 990 number tokens
    + "00"-"09" (pieces of 100-909 on the way to one token)."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    numbers = [str(n) for n in range(10, 1000)]
    zeros = [f"0{d}" for d in range(10)]  # the tails of 100-109, 200-209, ...: pieces, never answers
    vocab = {t: i for i, t in enumerate(SPECIALS + alphabet + numbers + zeros)}
    # Pairs of digits first, then each of 100-999 from both halves: BPE merges the lowest-ranked
    # pair first, so "432" meets "4","32" (32 ranks before 43) as often as "43","2".
    merges = [(n[0], n[1]) for n in numbers + zeros if len(n) == 2]
    merges += [m for n in numbers if len(n) == 3 for m in ((n[:2], n[2]), (n[0], n[1:]))]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    return tok


POINTER = ["<|pointer_start|>", "<|pointer_pad|>", "<|pointer_end|>"]


def build_bytes():
    """The pointer-head model's tokenizer (train.py): byte-level, no merges at all, so an
    instruction reaches the decoder one character a token, as the vision tower reads it, and a
    word never seen in training is made of familiar pieces; the format's special tokens, then the
    pointer head's three (docs/checkpoint-format.md). 9 + 256 + 3 tokens."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {t: i for i, t in enumerate(SPECIALS + alphabet + POINTER)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS + POINTER)
    return tok


def load_or_build(path=None, vocab_size=DEFAULT_VOCAB):
    """The cached tokenizer at `path` (built and saved there when missing)."""
    path = path or os.path.join(CACHE, "tokenizer.json")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        build(vocab_size).save(path)
    return Tokenizer.from_file(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(CACHE, "tokenizer.json"))
    ap.add_argument("--vocab", type=int, default=DEFAULT_VOCAB)
    ap.add_argument("--numbers", action="store_true",
                    help="the pointer model's tokenizer (build_numbers) instead of a trained BPE")
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tok = build_numbers() if args.numbers else build(args.vocab)
    tok.save(args.out)
    sample = "[|Human|]:<|image_pad|>click the Save button[|AI|]:(123,456)</s>"
    print(f"tokenizer: {tok.get_vocab_size()} tokens -> {args.out}")
    print(f"  {sample!r} -> {tok.encode(sample).tokens}")


if __name__ == "__main__":
    main()
