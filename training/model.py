"""bluelm-vl-nano in PyTorch, built from the reference classes the format names
(docs/checkpoint-format.md): transformers' SiglipVisionModel, a two-layer adapter after the 2x2
downsampling, and LlamaForCausalLM. Parameter names are the checkpoint's, so `state_dict()` is
what export.py writes.

Config choice (reasoning in training/README.md): tile 224 / patch 14 (16x16 patches, 8x8 LM tokens
a tile), AnyRes up to 9x5 tiles so a 1920x1080 screen is tiled at 1.04x, ViT 192 wide x 6 layers,
decoder 256 wide x 4 layers, 2048-token byte-level BPE.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM, SiglipVisionConfig, SiglipVisionModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["GUI_AGENT_PYENV"] = "1"  # the fixture scripts imported below must not re-execute
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import make_model_fixtures as model_ref  # noqa: E402  (the format's 2x2 downsampling)

VISION = {"hidden_size": 192, "intermediate_size": 768, "num_hidden_layers": 6, "num_attention_heads": 3,
          "image_size": 224, "patch_size": 14, "layer_norm_eps": 1e-6, "hidden_act": "gelu_pytorch_tanh",
          "num_channels": 3}
TEXT = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 704, "num_hidden_layers": 4,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0, "vocab_size": 2048, "max_position_embeddings": 4096,
        "tie_word_embeddings": False, "attention_bias": False}
ANYRES = {"tile_size": 224, "max_rows": 5, "max_cols": 9, "max_tiles": 45, "thumbnail": True,
          "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": "bicubic"}


def nano_config(vocab_size):
    """The whole config.json of the nano model for a tokenizer of `vocab_size` tokens."""
    from tokenizer import CHAT, TOKENS
    return {"model_type": "bluelm_vl", "vision_config": dict(VISION),
            "text_config": {**TEXT, "vocab_size": vocab_size}, "projector": {"downsample": 2, "hidden_act": "gelu"},
            "anyres": dict(ANYRES), "tokens": dict(TOKENS), "chat": dict(CHAT), "coordinates": "norm1000"}


def pointer_config(tok):
    """The nano config for tokenizer `tok` (tokenizer.build_bytes) with the pointer head's ids."""
    cfg = nano_config(tok.get_vocab_size())
    for name, token in POINTER_TOKENS.items():
        cfg[name + "_token_id"] = tok.token_to_id(token)
    return cfg


# MARK: - Model

class Projector(nn.Module):
    """2x2 downsampling (format step 3), then linear_1 -> exact GELU -> linear_2."""

    def __init__(self, d_vision, d_text):
        super().__init__()
        self.linear_1 = nn.Linear(4 * d_vision, d_text)
        self.linear_2 = nn.Linear(d_text, d_text)

    def forward(self, feats, g):
        # feats (tiles, g*g, D_v) -> (tiles*h*h, 4*D_v) -> (tiles*h*h, D_lm)
        return self.linear_2(F.gelu(self.linear_1(model_ref.downsample_2x2(feats, g))))


class BlueLMNano(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        v = dict(config["vision_config"])
        t = {k: val for k, val in config["text_config"].items() if k != "model_type"}
        self.vision = SiglipVisionModel(SiglipVisionConfig(**v, vision_use_head=False, attn_implementation="sdpa"))
        self.multi_modal_projector = Projector(v["hidden_size"], t["hidden_size"])
        self.language_model = LlamaForCausalLM(LlamaConfig(**t, attn_implementation="sdpa"))
        self.g = v["image_size"] // v["patch_size"]
        if "pointer_pad_token_id" in config:
            self.multi_patch_pointer_head = PointerHead(t["hidden_size"])

    def image_embeddings(self, pixel_values):
        """pixel_values (tiles, 3, T, T) -> (tiles*h*h, D_lm), thumbnail/tiles in the given order."""
        feats = self.vision(pixel_values=pixel_values).last_hidden_state  # (tiles, g*g, D_v)
        return self.multi_modal_projector(feats, self.g)

    def embed(self, input_ids, pixel_values, image_pad_id):
        """Token embeddings with the image_pad positions (row-major over the batch) replaced by
        the adapter outputs, in order. input_ids (B, n) -> (B, n, D_lm)."""
        feats = None
        if pixel_values is not None and pixel_values.shape[0] > 0:
            feats = self.vision(pixel_values=pixel_values).last_hidden_state  # (tiles, g*g, D_v)
        return self.embed_features(input_ids, feats, image_pad_id)

    def embed_features(self, input_ids, feats, image_pad_id):
        """As embed, from the tower's features (tiles, g*g, D_v) instead of pixels: the grounding
        stage trains on cached features of a frozen tower (cache_windows.py)."""
        embeds = self.language_model.model.embed_tokens(input_ids)
        if feats is not None and feats.shape[0] > 0:
            img = self.multi_modal_projector(feats.to(embeds.dtype), self.g)
            mask = input_ids == image_pad_id
            if int(mask.sum()) != img.shape[0]:
                raise ValueError(f"{int(mask.sum())} image_pad positions for {img.shape[0]} image tokens")
            embeds = embeds.masked_scatter(mask.unsqueeze(-1), img.to(embeds.dtype))
        return embeds

    def forward(self, input_ids, pixel_values, image_pad_id, attention_mask=None, labels=None):
        embeds = self.embed(input_ids, pixel_values, image_pad_id)
        return self.language_model(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels)

    @staticmethod
    def checkpoint_name(key):
        """The format's name of a state_dict key (vision_model.*, multi_modal_projector.*,
        language_model.*), or None for the vision pooling head, which the format leaves out."""
        if key.startswith("vision."):
            key = key[len("vision."):]
            # transformers 5 keeps the tower's parameters at the top level, 4.x under vision_model.
            key = key if key.startswith("vision_model.") else "vision_model." + key
            if key.startswith("vision_model.head."):
                return None
        return key

    def checkpoint_tensors(self):
        """The state under the format's tensor names."""
        return {self.checkpoint_name(k): p for k, p in self.state_dict().items() if self.checkpoint_name(k)}

    def load_checkpoint_tensors(self, tensors):
        """The inverse of checkpoint_tensors (strict: every parameter must be there)."""
        names = {self.checkpoint_name(k): k for k in self.state_dict() if self.checkpoint_name(k)}
        missing = sorted(set(names) - set(tensors))
        if missing:
            raise ValueError(f"checkpoint lacks {len(missing)} tensors, e.g. {missing[:3]}")
        self.load_state_dict({names[n]: tensors[n].float() for n in names}, strict=True)


# MARK: - Pointer head

POINTER_TOKENS = {"pointer_start": "<|pointer_start|>", "pointer_pad": "<|pointer_pad|>",
                  "pointer_end": "<|pointer_end|>"}
POINTER_HEADS = 8


class PointerHead(nn.Module):
    """The format's optional pointer head (docs/checkpoint-format.md, GUI-Actor's layout and
    tensor names under `multi_patch_pointer_head.`): keys from the image tokens' input embeddings
    (the adapter outputs of the tiles, thumbnail left out) through one self-attention over those
    tokens, residual + LayerNorm (eps 1e-5), projection_enc; the query from the decoder's final
    normed hidden state at <|pointer_pad|> through projection_dec; scores q . k / sqrt(d)."""

    def __init__(self, d, heads=POINTER_HEADS):
        super().__init__()
        self.d = d
        self.self_attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.projection_enc = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.projection_dec = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))

    def keys(self, image_embeds):
        """image_embeds (n, d), the tiles' tokens of one image -> keys (n, d)."""
        x = image_embeds.unsqueeze(0)
        ctx, _ = self.self_attention(x, x, x, need_weights=False)
        return self.projection_enc(self.layer_norm(x + ctx)).squeeze(0)

    def query(self, query_hidden):
        return self.projection_dec(query_hidden)

    def logits(self, keys, query_hidden):
        """keys (n, d), query_hidden (q, d) -> (q, n) logits; softmax over n gives the scores."""
        return self.query(query_hidden) @ keys.transpose(0, 1) / self.d ** 0.5


def count_parameters(model):
    """(vision, projector, language) parameter counts, the pooling head left out."""
    vis = sum(p.numel() for n, p in model.vision.named_parameters() if ".head." not in n)
    proj = sum(p.numel() for p in model.multi_modal_projector.parameters())
    lm = sum(p.numel() for p in model.language_model.parameters())
    return vis, proj, lm
