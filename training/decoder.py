"""The decoder pass train.py needs and transformers does not give: one image prefix, many
instruction segments. The prefix `[|Human|]:<image tokens>` runs once (causal); each segment
`{instruction}[|AI|]:<|pointer_start|><|pointer_pad|><|pointer_end|>` attends to the whole prefix
and causally to itself, at positions P, P+1, ... as if it were alone after the prefix. The layers
are LlamaForCausalLM's own modules (norms, projections, MLP); attention and RoPE are written out
here as transformers' Llama computes them (rotate-half RoPE, grouped KV heads). `check()` holds
this pass to transformers' forward over each whole prompt.
"""
import torch
import torch.nn.functional as F

import model as nano
from tokenizer import CHAT, TOKENS
from windows import H_TOK, anyres_ref


def special_ids(tok):
    """The format's special token ids ({"image_pad": id, ...}); also set for token_layout."""
    ids = {k: tok.token_to_id(v) for k, v in TOKENS.items()}
    anyres_ref.IDS = ids  # token_layout reads the module's ids
    return ids


def prompt_ids(tok, instruction, grid, thumb):
    """The engine's prompt for a model without prompt_template (the image, then the text) up to the
    assistant prefix, image_pad expanded to the token layout."""
    ids_of = special_ids(tok)
    text = CHAT["user"].replace("{content}", TOKENS["image_pad"] + instruction) + CHAT["assistant"]
    layout = anyres_ref.token_layout(grid[0], grid[1], thumb, H_TOK)
    return [t for i in tok.encode(text, add_special_tokens=False).ids for t in (layout if i == ids_of["image_pad"] else [i])]


class Prompts:
    """Token ids of the engine's pointer prompt, split into the image prefix and the segment."""

    def __init__(self, tok):
        self.tok = tok
        self.ids = special_ids(tok)
        self.pad = tok.token_to_id(nano.POINTER_TOKENS["pointer_pad"])
        self.suffix = tok.encode(CHAT["assistant"] + "".join(nano.POINTER_TOKENS.values()),
                                 add_special_tokens=False).ids
        self.human = tok.encode(CHAT["user"].split("{content}")[0], add_special_tokens=False).ids
        self._seg = {}

    def prefix(self, grid, thumb):
        special_ids(self.tok)  # token_layout reads the module's ids
        return self.human + anyres_ref.token_layout(grid[0], grid[1], thumb, H_TOK)

    def segment(self, instruction):
        if instruction not in self._seg:
            self._seg[instruction] = self.tok.encode(instruction, add_special_tokens=False).ids + self.suffix
        return self._seg[instruction]

    def whole(self, instruction, grid, thumb):
        """The prompt as the engine builds it for one instruction (prompt_ids + the pointer tokens)."""
        return prompt_ids(self.tok, instruction, grid, thumb) + self.suffix[len(self.tok.encode(
            CHAT["assistant"], add_special_tokens=False).ids):]


def rope(x, pos, theta):
    """x (..., n, hd), pos (n,) -> x rotated as transformers' Llama does (halves, not pairs)."""
    hd = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32, device=x.device) / hd))
    f = pos.float()[:, None] * inv[None]
    emb = torch.cat([f, f], -1)
    cos, sin = emb.cos(), emb.sin()
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def heads(x, proj, n, hd):
    B, L, _ = x.shape
    return proj(x).view(B, L, n, hd).transpose(1, 2)


def forward(lm, prefix, segs, seg_len):
    """prefix (1, P, d) and segs (S, L, d) input embeddings -> the segments' final normed hidden
    states (S, L, d). seg_len: (S,) true lengths (right padding past them is never read)."""
    cfg = lm.config
    nh, nkv = cfg.num_attention_heads, cfg.num_key_value_heads
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // nh
    theta = getattr(cfg, "rope_theta", None) or cfg.rope_parameters["rope_theta"]
    P, (S, L), dev = prefix.shape[1], segs.shape[:2], prefix.device
    pos_p, pos_s = torch.arange(P, device=dev), torch.arange(P, P + L, device=dev)
    seg_mask = torch.cat([torch.ones(L, P, dtype=torch.bool, device=dev),
                          torch.ones(L, L, dtype=torch.bool, device=dev).tril()], 1)
    hp, hs = prefix, segs
    for layer in lm.model.layers:
        at = layer.self_attn
        xp, xs = layer.input_layernorm(hp), layer.input_layernorm(hs)
        qp, kp, vp = (heads(xp, at.q_proj, nh, hd), heads(xp, at.k_proj, nkv, hd), heads(xp, at.v_proj, nkv, hd))
        qs, ks, vs = (heads(xs, at.q_proj, nh, hd), heads(xs, at.k_proj, nkv, hd), heads(xs, at.v_proj, nkv, hd))
        qp, kp = rope(qp, pos_p, theta), rope(kp, pos_p, theta)
        qs, ks = rope(qs, pos_s, theta), rope(ks, pos_s, theta)
        rep = nh // nkv
        kp_r, vp_r = kp.repeat_interleave(rep, 1), vp.repeat_interleave(rep, 1)
        op = F.scaled_dot_product_attention(qp, kp_r, vp_r, is_causal=True)
        k_all = torch.cat([kp_r.expand(S, -1, -1, -1), ks.repeat_interleave(rep, 1)], 2)
        v_all = torch.cat([vp_r.expand(S, -1, -1, -1), vs.repeat_interleave(rep, 1)], 2)
        os_ = F.scaled_dot_product_attention(qs, k_all, v_all, attn_mask=seg_mask)
        hp = hp + at.o_proj(op.transpose(1, 2).reshape(1, P, nh * hd))
        hs = hs + at.o_proj(os_.transpose(1, 2).reshape(S, L, nh * hd))
        hp = hp + layer.mlp(layer.post_attention_layernorm(hp))
        hs = hs + layer.mlp(layer.post_attention_layernorm(hs))
    return lm.model.norm(hs)


def pointer_logits(net, prompts, feats, grid, thumb, instructions, parts=False):
    """Logits (S, tile tokens) of the pointer head for each instruction on one image, from the
    tower's cached features (tiles, g*g, D_v), thumbnail first; with parts, also the keys
    (tile tokens, d) and the projected queries (S, d)."""
    emb = net.language_model.model.embed_tokens
    dev = emb.weight.device
    img = net.multi_modal_projector(feats.to(dev), net.g)               # (tokens, d)
    pre_ids = torch.tensor(prompts.prefix(grid, thumb), device=dev)
    pre = emb(pre_ids)
    mask = pre_ids == prompts.ids["image_pad"]
    if int(mask.sum()) != img.shape[0]:
        raise ValueError(f"{int(mask.sum())} image_pad positions for {img.shape[0]} image tokens")
    pre = pre.masked_scatter(mask.unsqueeze(-1), img.to(pre.dtype)).unsqueeze(0)
    segs = [prompts.segment(t) for t in instructions]
    L = max(len(s) for s in segs)
    ids = torch.zeros(len(segs), L, dtype=torch.long)
    for i, s in enumerate(segs):
        ids[i, :len(s)] = torch.tensor(s)
    hidden = forward(net.language_model, pre, emb(ids.to(dev)), [len(s) for s in segs])
    pad_at = torch.tensor([s.index(prompts.pad) for s in segs], device=dev)
    query = hidden[torch.arange(len(segs), device=dev), pad_at]         # (S, d)
    return head_logits(net, img, thumb, query, parts)


def head_logits(net, img, thumb, query, parts=False):
    """The pointer head on one image: keys from the tiles' adapter outputs (thumbnail left out),
    logits (S, tile tokens) for the decoder states `query` (S, d); with parts, keys and queries too."""
    n_thumb = H_TOK * H_TOK if thumb else 0
    head = net.multi_patch_pointer_head
    keys = head.keys(img[n_thumb:])
    q = head.query(query)
    logits = q @ keys.transpose(0, 1) / head.d ** 0.5
    return (logits, keys, q) if parts else logits


def check(net, prompts, feats, grid, thumb, instructions, tol=2e-4, first=False):
    """pointer_logits (or, with first, pointer_logits_first) against transformers' forward over
    each whole, unpadded prompt: the head's logits from the final state at <|pointer_pad|>.
    Returns the largest difference (raises past tol)."""
    worst = 0.0
    with torch.no_grad():
        logits = (pointer_logits_first if first else pointer_logits)(net, prompts, feats, grid, thumb, instructions)
        img = net.multi_modal_projector(feats, net.g)
        for i, t in enumerate(instructions):
            seq = (prompts.human + prompts.tok.encode(t, add_special_tokens=False).ids
                   + prompts.prefix(grid, thumb)[len(prompts.human):] + prompts.suffix) if first \
                else prompts.whole(t, grid, thumb)
            ids = torch.tensor([seq])
            embeds = net.embed_features(ids, feats, prompts.ids["image_pad"])
            out = net.language_model.model(inputs_embeds=embeds).last_hidden_state[0]
            pad = seq.index(prompts.pad)
            ref = head_logits(net, img, thumb, out[pad:pad + 1])[0]
            worst = max(worst, float((ref - logits[i]).abs().max()))
    if worst > tol:
        raise AssertionError(f"decoder.check: logits differ from transformers' by {worst:.2e} (first={first})")
    return worst


# MARK: - Instruction first

def rope_rows(x, pos, theta):
    """x (S, heads, n, hd), pos (S, n): rope with a position row per sequence."""
    hd = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32, device=x.device) / hd))
    f = pos.float()[..., None] * inv                                     # (S, n, hd/2)
    emb = torch.cat([f, f], -1)[:, None]                                 # (S, 1, n, hd)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * emb.cos() + torch.cat([-x2, x1], -1) * emb.sin()


def forward_padded(lm, x, pad):
    """x (S, n, d) left-padded sequences, pad (S, n) bool -> final normed hidden states (S, n, d).
    Real tokens take positions 0, 1, ... from each sequence's first real token; pads are never
    attended to (a pad attends to itself only, so that no row is empty)."""
    cfg = lm.config
    nh, nkv = cfg.num_attention_heads, cfg.num_key_value_heads
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // nh
    theta = getattr(cfg, "rope_theta", None) or cfg.rope_parameters["rope_theta"]
    S, n, _ = x.shape
    dev = x.device
    pos = (torch.arange(n, device=dev)[None] - pad.sum(1, keepdim=True)).clamp(min=0)
    causal = torch.ones(n, n, dtype=torch.bool, device=dev).tril()
    mask = (causal[None] & ~pad[:, None, :]) | torch.eye(n, dtype=torch.bool, device=dev)[None]
    h = x
    rep = nh // nkv
    for layer in lm.model.layers:
        at = layer.self_attn
        xn = layer.input_layernorm(h)
        q, k, v = heads(xn, at.q_proj, nh, hd), heads(xn, at.k_proj, nkv, hd), heads(xn, at.v_proj, nkv, hd)
        q, k = rope_rows(q, pos, theta), rope_rows(k, pos, theta)
        o = F.scaled_dot_product_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1),
                                           attn_mask=mask[:, None])
        h = h + at.o_proj(o.transpose(1, 2).reshape(S, n, nh * hd))
        h = h + layer.mlp(layer.post_attention_layernorm(h))
    return lm.model.norm(h)


INSTRUCTION_FIRST = "{instruction}" + TOKENS["image_pad"]   # config prompt_template of such a model


def pointer_logits_first(net, prompts, feats, grid, thumb, instructions, parts=False):
    """As pointer_logits, for a model whose prompt puts the instruction before the image
    (`prompt_template` INSTRUCTION_FIRST): every instruction is a whole sequence of its own, so
    that the image tokens see it; sequences are left-padded to one length."""
    emb = net.language_model.model.embed_tokens
    dev = emb.weight.device
    img = net.multi_modal_projector(feats.to(dev), net.g)
    layout = prompts.prefix(grid, thumb)[len(prompts.human):]
    seqs = [prompts.human + prompts.tok.encode(t, add_special_tokens=False).ids + layout + prompts.suffix
            for t in instructions]
    n = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), n, dtype=torch.long)
    pad = torch.ones(len(seqs), n, dtype=torch.bool)
    for i, s in enumerate(seqs):
        ids[i, n - len(s):] = torch.tensor(s)
        pad[i, n - len(s):] = False
    ids, pad = ids.to(dev), pad.to(dev)
    x = emb(ids)
    mask = (ids == prompts.ids["image_pad"]) & ~pad
    x = x.masked_scatter(mask.unsqueeze(-1), img.repeat(len(seqs), 1).to(x.dtype))
    hidden = forward_padded(net.language_model, x, pad)
    at = n - len(prompts.suffix) + prompts.suffix.index(prompts.pad)
    query = hidden[:, at]
    if not parts:
        return head_logits(net, img, thumb, query)
    n_thumb = H_TOK * H_TOK if thumb else 0
    tiles = hidden[mask].view(len(seqs), img.shape[0], -1)[:, n_thumb:]  # (S, tile tokens, d)
    return head_logits(net, img, thumb, query, True) + (tiles,)
