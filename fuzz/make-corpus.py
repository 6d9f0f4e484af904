#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/, and the libFuzzer
dictionaries (tokens the mutator splices in) into fuzz/dict/<name>.dict.

Seeds are small valid (and a few deliberately broken) inputs: copies of the tests' fixtures and
files built here with the standard library only (GGUF, safetensors, requests). The output is
deterministic; rerun after changing a seed. Inputs the fuzzer finds interesting later are kept
out of the repository (fuzz/.build/corpus); inputs that crashed a target are kept in the corpus
as regression-* files, which this script leaves alone.
"""
import base64
import json
import shutil
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"
DICT = FUZZ / "dict"
TESTS = ROOT / "Tests"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    elif not isinstance(data, bytes):
        data = json.dumps(data, indent=1, ensure_ascii=False).encode()
    (folder / name).write_bytes(data)


def copy(target, source, name=None):
    source = ROOT / source
    write(target, name or source.name, source.read_bytes())


# MARK: - safetensors

def safetensors(header, data=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    base = "Tests/EngineTests/Fixtures/weights/safetensors/"
    copy("safetensors", base + "single.safetensors")
    copy("safetensors", base + "sharded/model-00001-of-00002.safetensors", "shard1.safetensors")
    copy("safetensors", base + "sharded/model-00002-of-00002.safetensors", "shard2.safetensors")
    write("safetensors", "metadata-only.safetensors", safetensors({"__metadata__": {"format": "pt"}}))
    write("safetensors", "mixed.safetensors", safetensors({
        "__metadata__": {"format": "pt"},
        "bf16": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]},
        "i64": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]},
        "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [16, 16]},
        "scalar": {"dtype": "F16", "shape": [], "data_offsets": [16, 18]},
    }, bytes(range(18))))
    # Indexes over the harness's one shard (tensors a and b).
    shard = "model-00001-of-00001.safetensors"
    write("safetensors-index", "index.json", {"metadata": {"total_size": 12}, "weight_map": {"a": shard, "b": shard}})
    write("safetensors-index", "partial.json", {"weight_map": {"b": shard}})
    write("safetensors-index", "missing-shard.json", {"weight_map": {"a": "model-00002-of-00002.safetensors"}})


# MARK: - GGUF

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(kind, value):
    if kind == STR:
        return gguf_string(value)
    if kind == ARR:
        element, items = value
        return struct.pack("<IQ", element, len(items)) + b"".join(gguf_value(element, v) for v in items)
    fmt = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
           U64: "<Q", I64: "<q", F64: "<d"}[kind]
    return struct.pack(fmt, value)


def gguf(kvs, tensors, alignment=32):
    """kvs: [(key, kind, value)]; tensors: [(name, ne (fastest first), f32 values)]."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, kind, value in kvs:
        out += gguf_string(key) + struct.pack("<I", kind) + gguf_value(kind, value)
    data, offset = b"", 0
    for name, ne, values in tensors:
        out += gguf_string(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", 0, offset)  # GGML_TYPE_F32
        blob = struct.pack(f"<{len(values)}f", *values)
        blob += b"\0" * (-len(blob) % alignment)
        data += blob
        offset += len(blob)
    out += b"\0" * (-len(out) % alignment)
    return out + data


def llama_gguf():
    """A one-layer llama text model that ModelLoader loads: d 8, 2 heads of 4, 1 kv head, ff 8."""
    d, heads, kv, hd, ff = 8, 2, 1, 4, 8
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "ab", "\u0120", "\u0120a"]
    types = [3, 3, 3, 1, 1, 1, 1, 1]

    def values(n, seed):
        return [((i * 37 + seed * 11) % 17 - 8) / 16 for i in range(n)]

    kvs = [
        ("general.architecture", STR, "llama"),
        ("general.name", STR, "fuzz-seed"),
        ("llama.context_length", U32, 64),
        ("llama.embedding_length", U32, d),
        ("llama.feed_forward_length", U32, ff),
        ("llama.block_count", U32, 1),
        ("llama.attention.head_count", U32, heads),
        ("llama.attention.head_count_kv", U32, kv),
        ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        ("llama.rope.freq_base", F32, 10000.0),
        ("tokenizer.ggml.model", STR, "gpt2"),
        ("tokenizer.ggml.pre", STR, "smollm"),
        ("tokenizer.ggml.tokens", ARR, (STR, tokens)),
        ("tokenizer.ggml.token_type", ARR, (I32, types)),
        ("tokenizer.ggml.merges", ARR, (STR, ["a b", "\u0120 a"])),
        ("tokenizer.ggml.eos_token_id", U32, 2),
        ("tokenizer.chat_template", STR,
         "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"),
    ]
    tensors = [
        ("token_embd.weight", [d, len(tokens)], values(d * len(tokens), 1)),
        ("output_norm.weight", [d], [1.0] * d),
        ("blk.0.attn_norm.weight", [d], [1.0] * d),
        ("blk.0.attn_q.weight", [d, heads * hd], values(d * heads * hd, 2)),
        ("blk.0.attn_k.weight", [d, kv * hd], values(d * kv * hd, 3)),
        ("blk.0.attn_v.weight", [d, kv * hd], values(d * kv * hd, 4)),
        ("blk.0.attn_output.weight", [heads * hd, d], values(heads * hd * d, 5)),
        ("blk.0.ffn_norm.weight", [d], [1.0] * d),
        ("blk.0.ffn_gate.weight", [d, ff], values(d * ff, 6)),
        ("blk.0.ffn_up.weight", [d, ff], values(d * ff, 7)),
        ("blk.0.ffn_down.weight", [ff, d], values(ff * d, 8)),
    ]
    return gguf(kvs, tensors)


def gguf_seeds():
    copy("gguf", "Tests/EngineTests/Fixtures/weights/gguf/types.gguf")
    write("gguf", "llama-tiny.gguf", llama_gguf())
    write("gguf", "metadata-kinds.gguf", gguf([
        ("general.alignment", U32, 64), ("u8", U8, 7), ("i16", I16, -3), ("u64", U64, 1 << 40), ("f64", F64, 0.5),
        ("flag", BOOL, True), ("nested", ARR, (ARR, [(U8, [1, 2]), (U8, [])])), ("words", ARR, (STR, ["x", ""])),
    ], [("t", [4, 2], [0.0] * 8)], alignment=64))


# MARK: - Model files

def model_file_seeds():
    for name in ["gpt2", "llama2_bytefallback", "llama2_unk", "splits"]:
        copy("tokenizer", f"Tests/EngineTests/Fixtures/tokenizer/{name}.tokenizer.json")
    copy("tokenizer", "Tests/GroundingTests/Fixtures/tiny-bluelm/tokenizer.json", "tiny-bluelm.tokenizer.json")
    copy("config", "Tests/GroundingTests/Fixtures/tiny-bluelm/config.json", "tiny-bluelm.json")
    for name in ["llama_bias_headdim", "llama_gqa", "qwen2_tied_bf16"]:
        copy("config", f"Tests/EngineTests/Fixtures/models/{name}/config.json", f"{name}.json")
    write("config", "anyres.json", {"tile_size": 378, "max_rows": 4, "max_cols": 4, "max_tiles": 16,
                                    "thumbnail": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                                    "resample": "bicubic"})
    config = json.loads((ROOT / "Tests/GroundingTests/Fixtures/tiny-bluelm/config.json").read_text())
    config.update({"prompt_template": "<|image_pad|>Find: {instruction}", "pointer_start_token_id": 470,
                   "pointer_pad_token_id": 471, "pointer_end_token_id": 472})
    write("config", "pointer.json", config)


# MARK: - Images

def image_seeds():
    for png in sorted((TESTS / "ImagingTests/Fixtures/png").glob("*.png")):
        if png.stat().st_size <= 2400:
            copy("png", png.relative_to(ROOT))
    copy("png", "Tests/GroundingTests/Fixtures/pipeline/small_13x7.png")


# MARK: - Grounding

def grounding_seeds():
    answers = ["(512,300)", "[480, 290, 544, 310]", "<point>12.5 99</point>", "<|box_start|>(1,2),(3,4)<|box_end|>",
               "click(start_box='(100,200)')", "click(start_box='<|box_start|>(7,8)<|box_end|>')",
               "click(point='<point>5 6</point>')", "The button is at (0.25, 0.75).", "<bbox>1 2 3 4</bbox>",
               "(1e999, 2)", "(-3, 4)", "", "   \n", "no coordinate here", "(1,2,3)"]
    for i, a in enumerate(answers):
        write("answer", f"answer-{i:02}.txt", a)
    mini = "Tests/GroundingTests/Fixtures/screenspot-mini/"
    copy("screenspot", mini + "screenspot_mini.json")
    copy("screenspot", mini + "tk_mini_pro.json")
    write("screenspot", "bad-entries.json", [
        {"img_filename": "a.png", "bbox": [1, 2, -3, 4], "instruction": "x", "data_type": "text", "data_source": "web"},
        {"img_filename": "a.png", "bbox": [1, 2, 3, True], "instruction": "y", "data_type": "icon", "data_source": "web"},
        7, None, {"img_filename": "", "bbox": "1,2,3,4"}])
    write("predictions", "predictions.jsonl",
          '{"img_filename": "a.png", "instruction": "save", "x": 10, "y": 20.5}\n'
          '{"img_filename": "b.png", "instruction": "open", "x": null, "y": null}\n')
    write("predictions", "predictions.json",
          [{"img_filename": "a.png", "instruction": "save", "x": 10, "y": 20},
           {"img_filename": "a.png", "instruction": "save", "x": 10, "y": 20}])


# MARK: - Agent

def agent_seeds():
    uitars = [
        "Thought: The Save button is at the top right.\nAction: click(start_box='<|box_start|>(512,300)<|box_end|>')",
        "Thought: open it\nReflection: nothing yet\nAction_Summary: double click\nAction: left_double(start_box='(1,2)')",
        "Action: drag(start_box='(10,20)', end_box='(30,40,50,60)')",
        "Action: scroll(start_box='[5, 6]', direction='down', amount='3')",
        "Action: type(content='it\\'s a \"test\"\\n')",
        "Action: hotkey(key='ctrl s')\n\npress(key='ctrl+shift++')",
        "Action: wait(seconds='2')\n\nfinished(content='done')",
        "Action: call_user(content='Which printer?')",
        "Action: click(point='<point>5 6</point>')",
        "Action: right_single(element='the report.pdf icon')",
        "Action: drag(start_element='a', end_element='b')",
        "Action: click(start_box='(1,2)'",
    ]
    for i, t in enumerate(uitars):
        write("ui-tars", f"response-{i:02}.txt", t)
    actions = [
        '{"thought": "Save the file.", "action": "click", "target": {"point": [512, 300]}}',
        '{"action": "click", "target": {"point": [512, 300], "box": [480, 290, 544, 310]}}',
        '{"action": "double_click", "target": {"element": "the report.pdf icon"}}',
        '{"action": "right_click", "target": {"box": [480, 290, 544, 310]}}',
        '{"action": "drag", "from": {"point": [10, 20]}, "to": {"element": "the Trash"}}',
        '{"action": "scroll", "target": {"point": [500, 500]}, "direction": "down", "amount": 3}',
        '{"action": "type", "text": "hello\\nworld"}',
        '{"action": "hotkey", "keys": ["ctrl", "s"]}',
        '{"action": "wait", "seconds": 1}',
        '{"action": "finished", "summary": "Saved the file."}',
        '{"action": "call_user", "question": "Which printer?"}',
        'Thought: two steps\n```json\n[{"action": "left_double", "target": {"point": [1, 2]}}, {"action": "press", "keys": ["enter"]}]\n```',
        '{"action": "click", "target": {"point": [1e400, 2]}}',
        '{"action": "click", "target": {"point": "@submit"',
    ]
    for i, t in enumerate(actions):
        write("json-action", f"response-{i:02}.txt", t)
    for scenario in sorted((ROOT / "Scenarios").glob("*.json")):
        copy("scenario", scenario.relative_to(ROOT))
    copy("scenario", "Scenarios/grounded/tk-form-grounded.json")
    write("scenario", "plan.json", {"steps": [
        {"action": {"action": "click", "target": {"point": [120, 40]}}, "expect_change": True},
        {"action": {"action": "click", "target": {"element": "the OK button"}}},
        {"action": {"action": "wait", "seconds": 1}}]})


# MARK: - Service

def service_seeds():
    png = (TESTS / "ImagingTests/Fixtures/png/rgb8_small.png").read_bytes()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    grounds = {
        "image-url": {"image": url, "instruction": "the OK button", "max_tokens": 4},
        "image-base64": {"image": base64.b64encode(png).decode(), "instruction": "x", "think": True,
                         "think_budget": 3, "max_tokens": 6},
        "no-think": {"image": url, "instruction": "save", "think": False},
        "capture": {"capture": True, "monitor": 0, "instruction": "OK"},
        "capture-named": {"capture": True, "monitor": "HDMI-1", "instruction": "OK"},
        "bad": {"image": "data:image/jpeg;base64,AAAA", "instruction": "", "extra": 1},
    }
    for name, body in grounds.items():
        write("ground-body", f"{name}.json", body)
    chats = {
        "text": {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
        "image": {"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "What is this? "},
                                         {"type": "image_url", "image_url": {"url": url}}]}],
            "max_completion_tokens": 5, "temperature": 0.7, "top_p": 0.9, "top_k": 5, "seed": 42,
            "stop": ["\n", "</s>"], "n": 1},
        "stream": {"messages": [{"role": "developer", "content": "x"}, {"role": "user", "content": "a"},
                                {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}],
                   "stream": True, "stream_options": {"include_usage": True}, "think": True, "think_budget": 2,
                   "max_tokens": 6},
        "image-string": {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": url}]}],
                         "max_tokens": 2, "stop": "x"},
        "bad": {"messages": [{"role": "tool", "content": 5}], "seed": 1.5},
    }
    for name, body in chats.items():
        write("chat-body", f"{name}.json", body)
    plan = {"steps": [{"action": {"action": "click", "target": {"point": [10, 20]}}, "expect_change": True},
                      {"action": {"action": "type", "text": "hello"}}]}
    episodes = {
        "plan": {"task": "Save the file", "plan": plan, "settings": {"max_steps": 3, "dry_run": True}},
        "settings": {"task": "Open the menu", "settings": {
            "allowed_actions": ["click", "type"], "denied_key_combinations": [["ctrl", "alt", "delete"]],
            "fail_safe": False, "settle_seconds": 0.1, "think_budget": 16, "history_length": 2,
            "constrained_decoding": True}},
        "bad": {"task": " ", "settings": {"max_steps": 0, "unknown": 1}, "plan": {"steps": "x"}},
    }
    for name, body in episodes.items():
        write("episodes-body", f"{name}.json", body)

    auth = "Authorization: Bearer fuzz-token-0123456789abcdef\r\n"

    def request(line, body=b"", headers=auth):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else ""
        return f"{line} HTTP/1.1\r\nHost: localhost\r\n{headers}{extra}\r\n".encode() + body

    write("http", "viewer.txt", request("GET /", headers=""))
    write("http", "healthz.txt", request("GET /healthz"))
    write("http", "openapi.txt", request("HEAD /openapi.json"))
    write("http", "models.txt", request("GET /v1/models"))
    write("http", "ground.txt", request("POST /v1/ground", grounds["image-url"]))
    write("http", "chat.txt", request("POST /v1/chat/completions", chats["stream"]))
    write("http", "episodes-list.txt", request("GET /v1/episodes"))
    write("http", "episodes-start.txt", request("POST /v1/episodes", episodes["plan"]))
    write("http", "episode.txt", request("GET /v1/episodes/1"))
    write("http", "screenshot.txt", request("GET /v1/episodes/1/steps/0/screenshot.png?moment=after"))
    write("http", "stop.txt", request("POST /v1/episodes/1/stop"))
    write("http", "no-token.txt", request("GET /v1/episodes", headers=""))
    write("http", "wrong-method.txt", request("DELETE /v1/ground"))
    write("http", "not-found.txt", request("GET /v1/episodes/1/steps/x/y%20z?moment=a+b&q"))


# MARK: - Dictionaries

# Tokens are the values themselves (str, or bytes for binary formats); write_dictionaries escapes
# them for libFuzzer. JSON's syntax, and numbers and escapes at the edges of what decoders accept:
JSON_TOKENS = ["{", "}", "[", "]", ":", ",", '"', "null", "true", "false", "[]", "{}", '""', "-", "0", "-0", "0.5",
               "1e308", "1e309", "-1e400", "1e-400", "2147483647", "2147483648", "4294967295", "4294967296",
               "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
               "-9223372036854775809", "18446744073709551615", "18446744073709551616", r"\u0000", r"\ud800",
               r"\udc00", r"\"", r"\n"]
ACTION_KEYS = ["thought", "action", "target", "point", "box", "element", "from", "to", "direction", "amount", "text",
               "keys", "seconds", "summary", "question", "click", "double_click", "right_click", "drag", "scroll",
               "type", "hotkey", "wait", "finished", "call_user", "left_double", "right_single", "press", "up", "down"]
UITARS_TOKENS = ["Thought:", "Reflection:", "Action_Summary:", "Action:", "(", ")", "'", "=", ",", r"\'", r"\n",
                 "start_box=", "end_box=", "point=", "start_point=", "end_point=", "element=", "content=", "key=",
                 "direction=", "amount=", "seconds=", "<|box_start|>", "<|box_end|>", "<point>", "</point>",
                 "<bbox>", "</bbox>", "left_single", "select", "finished()", "wait()", "ctrl+", "++"] + ACTION_KEYS
SCENARIO_KEYS = ["name", "task", "apps", "command", "env", "ready", "geometry", "window", "plan", "steps",
                 "expect_change", "check", "timeout", "settle_ms", "@", "@window:", "+0+60", "-5+3", "{dir}", "{log}"]
SERVICE_TOKENS = ["GET ", "POST ", "HEAD ", " HTTP/1.1\r\n", "\r\n\r\n", "/", "/healthz", "/openapi.json",
                  "/v1/models", "/v1/ground", "/v1/chat/completions", "/v1/episodes", "/stop", "/steps/",
                  "/screenshot.png", "?moment=after", "&", "%00", "%2F", "Authorization: Bearer ",
                  "fuzz-token-0123456789abcdef", "Content-Length: ", "messages", "role", "content", "system",
                  "developer", "user", "assistant", "image_url", "url", "data:image/png;base64,", "max_tokens",
                  "max_completion_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stream",
                  "stream_options", "include_usage", "think", "think_budget", "n", "image", "capture", "monitor",
                  "instruction", "settings", "max_steps", "dry_run", "allowed_actions", "denied_key_combinations",
                  "fail_safe", "settle_seconds", "history_length", "constrained_decoding", "max_answer_tokens"]
CONFIG_KEYS = ["model_type", "bluelm_vl", "vision_config", "text_config", "hidden_size", "intermediate_size",
               "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "image_size",
               "patch_size", "num_channels", "hidden_act", "gelu", "gelu_pytorch_tanh", "llama", "qwen2",
               "vocab_size", "rope_theta", "projector", "downsample", "anyres", "tile_size", "max_rows", "max_cols",
               "max_tiles", "thumbnail", "image_mean", "image_std", "resample", "bicubic", "bilinear", "nearest",
               "tokens", "chat", "coordinates", "prompt_template", "{instruction}", "<|image_pad|>",
               "pointer_start_token_id", "pointer_pad_token_id", "pointer_end_token_id"]
TOKENIZER_KEYS = ["model", "BPE", "vocab", "merges", "added_tokens", "normalizer", "pre_tokenizer", "decoder",
                  "post_processor", "type", "id", "content", "special", "single_word", "lstrip", "rstrip",
                  "normalized", "ByteLevel", "Sequence", "Split", "Digits", "Metaspace", "Replace", "Prepend",
                  "NFC", "NFKC", "NFD", "Lowercase", "Strip", "ByteFallback", "Fuse", "TemplateProcessing",
                  "pattern", "Regex", "String", "behavior", "Isolated", "Removed", "invert", "add_prefix_space",
                  "trim_offsets", "use_regex", "unk_token", "byte_fallback", "fuse_unk", "ignore_merges", "dropout",
                  "<0x0A>", r"\u2581", r"\u0120", "(?i:'s|'t)", r"\\p{L}+", r"\\s+(?!\\S)", r"[^\\r\\n]"]
EVAL_KEYS = ["img_filename", "bbox", "instruction", "data_type", "data_source", "ui_type", "platform", "application",
             "group", "img_size", "text", "icon", "x", "y"]
PNG_TOKENS = [b"\x89PNG\r\n\x1a\n", b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS", b"gAMA", b"sRGB", b"iCCP", b"cHRM",
              b"bKGD", b"\0\0\0\x0d", b"\xff\xff\xff\xff", b"\x78\x9c", b"\x78\xda"]
GGUF_TOKENS = ["GGUF", "general.architecture", "general.alignment", "llama", "llama.embedding_length",
               "llama.feed_forward_length", "llama.block_count", "llama.attention.head_count",
               "llama.attention.head_count_kv", "llama.attention.key_length", "llama.rope.dimension_count",
               "llama.context_length", "tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens",
               "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.ggml.pre", "smollm", "llama-bpe",
               "qwen2", "tokenizer.ggml.eos_token_id", "tokenizer.chat_template", "<|im_start|>", "token_embd.weight",
               "output.weight", "output_norm.weight", "blk.0.", "attn_q.weight", "attn_k.weight", "ffn_down.weight",
               b"\xff\xff\xff\xff\xff\xff\xff\x7f", b"\0\0\0\x80", b"\0\0\0\0\x01\0\0\0"]
SAFETENSORS_TOKENS = ["__metadata__", "dtype", "shape", "data_offsets", "F32", "F16", "BF16", "I64", "U8", "BOOL",
                      "F8_E4M3", "weight_map", "model-00001-of-00001.safetensors", "a", "b", "../", "/"]

# One dictionary a target (libFuzzer takes one -dict); FuzzTarget names its dictionary.
DICTIONARIES = {
    "json": JSON_TOKENS + SCENARIO_KEYS + CONFIG_KEYS + EVAL_KEYS + ACTION_KEYS,
    "tokenizer": JSON_TOKENS + TOKENIZER_KEYS,
    "actions": JSON_TOKENS + UITARS_TOKENS,
    "service": JSON_TOKENS + SERVICE_TOKENS + ACTION_KEYS,
    "png": PNG_TOKENS,
    "gguf": GGUF_TOKENS,
    "safetensors": JSON_TOKENS + SAFETENSORS_TOKENS,
}


# MARK: - screen text grounding, served planners, results files


def screen_text_seeds():
    for name, text in [("button", "click the Save button"), ("field", "type in the Name field"),
                       ("quoted", 'press "Save As..."')]:
        write("ocr-match", name, text)
    action = '{"thought": "ok", "action": "click", "target": {"element_id": 3}}'
    write("chat-completion", "json-action", {
        "id": "chatcmpl-1", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": action, "reasoning_content": "the list"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 812, "completion_tokens": 24}})
    write("chat-completion", "parts", {"choices": [{"message": {"content": [
        {"type": "text", "text": "Thought: save\nAction: click(start_box='(10,20)')"}]}}]})
    records = [{"img_filename": "tk_login.png", "index": i, "instruction": text, "box": [10, 20, 110, 44],
                "source": "tk-login", "ui_type": "text", "x": 50 + i, "y": 30, "hit": True, "answer": None,
                "no_coordinate": None, "skipped": None, "seconds": 0.01}
               for i, text in enumerate(["sign in", "remember me", "cancel"])]
    header = {"results_header": {"dataset": {"file": "screenspot_mini.json", "format": "v1", "samples": 3,
                                             "sha256": "0" * 64},
                                 "records": 3, "setup": {"grounder": "ocr", "method": "OCR"},
                                 "shard_count": 1, "shard_index": 0}}
    lines = [json.dumps(x, sort_keys=True) for x in [header] + records]
    write("results", "finished.jsonl", "\n".join(lines) + "\n")
    write("results", "partial.jsonl", "\n".join(lines[1:3]) + "\n" + lines[3][:60])


def dictionary_entry(token):
    """A libFuzzer dictionary line: the token's bytes in quotes, `\\`, `"` and unprintable bytes escaped."""
    data = token if isinstance(token, bytes) else token.encode()
    out = ""
    for b in data:
        c = chr(b)
        if c in '\\"':
            out += "\\" + c
        elif 0x20 <= b < 0x7F:
            out += c
        else:
            out += f"\\x{b:02X}"
    return f'"{out}"'


def write_dictionaries():
    if DICT.exists():
        shutil.rmtree(DICT)
    DICT.mkdir()
    for name, tokens in DICTIONARIES.items():
        lines = [f"# {name}: written by make-corpus.py"] + list(dict.fromkeys(map(dictionary_entry, tokens)))
        (DICT / f"{name}.dict").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    # Inputs that once crashed a target (regression-*) are kept as they are: each has a test in
    # some Tests/*/FuzzRegressionTests.swift.
    for old in CORPUS.glob("*/*"):
        if not old.name.startswith("regression-"):
            old.unlink()
    safetensors_seeds()
    gguf_seeds()
    model_file_seeds()
    image_seeds()
    grounding_seeds()
    agent_seeds()
    service_seeds()
    screen_text_seeds()
    write_dictionaries()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name:18} {len(files):3} files {sum(f.stat().st_size for f in files):7} bytes")
