#!/usr/bin/python3
"""Reference logits for llmap's import tests, computed with PyTorch.

This script is independent of llmap: it parses safetensors and GGUF files
with the standard library (json, struct) and numpy, and runs the models with
torch.nn.functional in float64. `make golden` runs it; the Go tests read the
JSON files it writes and compare llmap's logits with them. CI does not need
torch, only the committed outputs.

It writes, next to itself:

  hf-gpt2-tiny/       a random GPT2LMHeadModel directory (F16, "transformer."
                      names, 2 layers, 4 heads) created here from a fixed seed
  hf-llama-tiny/      a random LlamaForCausalLM directory (BF16, grouped-query
                      attention, untied lm_head, rope_theta 1000) with a toy
                      SentencePiece-style tokenizer.json, created here
  gpt2_lmbuddy.json   logits of ../shared/models/tiny-gpt2-random-lmbuddy
  gpt2_tiny.json      logits of hf-gpt2-tiny
  llama_hf_tiny.json  logits of hf-llama-tiny
  llama_gguf_tiny.json logits of llama-2-tiny-random.gguf (a sample of the
                      32000 logits per position: every 125th id, and the argmax)

Usage: /usr/bin/python3 reference_logits.py [MODELS_DIR]
MODELS_DIR defaults to $LLMAP_MODELS or ../../../shared/models.

Attention is written out (softmax of masked scores) because Debian's torch
1.13 predates F.scaled_dot_product_attention; the math is the same.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DT = torch.float64

# Token-id prompts, the same for every model whose vocabulary allows them.
PROMPTS = [[0], [3, 1, 4, 1, 5, 9, 2, 6], [7, 7, 7, 2, 0, 11]]


# ---------------------------------------------------------------- safetensors

def read_safetensors(path):
    """Returns {name: float64 tensor} of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        dt = info["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif dt == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            a = u.view(np.float32).astype(np.float64)
        else:
            raise ValueError(f"{path}: {name}: dtype {dt}")
        out[name] = torch.tensor(a.reshape(info["shape"]), dtype=DT)
    return out


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype string, numpy array of the stored bits)."""
    header, blobs, off = {}, [], 0
    for name, dt, arr in tensors:
        raw = arr.tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def as_f16(t):
    return t.to(torch.float16).numpy()


def as_bf16_bits(t):
    return t.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)


# ----------------------------------------------------------------------- GGUF

def read_gguf(path):
    """Returns (metadata dict, {name: float64 tensor, outermost dim first})."""
    with open(path, "rb") as f:
        data = f.read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal off
        n = take("Q")
        s = data[off:off + n]
        off += n
        return s.decode("utf-8", errors="surrogateescape")

    scalars = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t in scalars:
            return take(scalars[t])
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        raise ValueError(f"gguf value type {t}")

    assert data[:4] == b"GGUF", path
    off = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    assert version == 3
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        nd = take("I")
        dims = [take("Q") for _ in range(nd)]
        typ, toff = take("I"), take("Q")
        infos.append((name, dims, typ, toff))
    align = meta.get("general.alignment", 32)
    start = (off + align - 1) // align * align
    tensors = {}
    for name, dims, typ, toff in infos:
        n = int(np.prod(dims))
        if typ == 0:
            a = np.frombuffer(data, dtype="<f4", count=n, offset=start + toff)
        elif typ == 1:
            a = np.frombuffer(data, dtype="<f2", count=n, offset=start + toff)
        else:
            raise ValueError(f"{name}: ggml type {typ}")
        tensors[name] = torch.tensor(a.astype(np.float64).reshape(list(reversed(dims))), dtype=DT)
    return meta, tensors


# ---------------------------------------------------------------- the models

def causal_attention(q, k, v, window=None):
    """q (nh, T, hs), k/v (nh, T, hs) -> (nh, T, hs). With a window, query i
    sees keys i-window+1..i (Hugging Face's sliding-window mask)."""
    T, hs = q.shape[1], q.shape[2]
    scores = q @ k.transpose(1, 2) / hs ** 0.5
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    if window is not None:
        mask |= torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-window)
    scores = scores.masked_fill(mask, float("-inf"))
    return F.softmax(scores, dim=-1) @ v


def gpt2_logits(w, cfg, tokens, prefix):
    """GPT-2 with HF tensor names; Conv1D weights are [in, out]: y = x @ W + b."""
    g = lambda n: w[prefix + n]
    d, nh, eps = cfg["n_embd"], cfg["n_head"], cfg.get("layer_norm_epsilon", 1e-5)
    hs = d // nh
    T = len(tokens)
    x = g("wte.weight")[tokens] + g("wpe.weight")[:T]
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        h = F.layer_norm(x, (d,), g(p + "ln_1.weight"), g(p + "ln_1.bias"), eps)
        qkv = h @ g(p + "attn.c_attn.weight") + g(p + "attn.c_attn.bias")
        q, k, v = (t.reshape(T, nh, hs).transpose(0, 1) for t in qkv.split(d, dim=1))
        a = causal_attention(q, k, v).transpose(0, 1).reshape(T, d)
        x = x + a @ g(p + "attn.c_proj.weight") + g(p + "attn.c_proj.bias")
        h = F.layer_norm(x, (d,), g(p + "ln_2.weight"), g(p + "ln_2.bias"), eps)
        m = F.gelu(h @ g(p + "mlp.c_fc.weight") + g(p + "mlp.c_fc.bias"), approximate="tanh")
        x = x + m @ g(p + "mlp.c_proj.weight") + g(p + "mlp.c_proj.bias")
    x = F.layer_norm(x, (d,), g("ln_f.weight"), g("ln_f.bias"), eps)
    return x @ g("wte.weight").T


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def default_inv_freq(theta, hs):
    """The angle per position of each pair of a head: theta^(-2i/hs)."""
    return 1.0 / theta ** (torch.arange(0, hs, 2, dtype=DT) / hs)


def rope_hf(x, inv, scale=1.0):
    """Hugging Face's RoPE: x (nh, T, hs); dimension j pairs with j+hs/2
    and turns by pos*inv[j mod hs/2]; cos and sin are multiplied by scale
    (LongRoPE's attention factor)."""
    nh, T, hs = x.shape
    ang = torch.arange(T, dtype=DT)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    x1, x2 = x[..., : hs // 2], x[..., hs // 2:]
    rot = torch.cat([-x2, x1], dim=-1)
    return x * (emb.cos() * scale) + rot * (emb.sin() * scale)


def rope_rotate_half(x, theta):
    """Hugging Face LLaMA RoPE: x (nh, T, hs); dimension j pairs with j+hs/2."""
    return rope_hf(x, default_inv_freq(theta, x.shape[2]))


def rope_interleaved(x, theta):
    """ggml's RoPE for llama (mode 0): adjacent pairs (2i, 2i+1) rotate."""
    nh, T, hs = x.shape
    inv = 1.0 / theta ** (torch.arange(0, hs, 2, dtype=DT) / hs)
    ang = torch.arange(T, dtype=DT)[:, None] * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


def llama_logits(w, c, tokens, rope):
    """w: tensors under llmap/GGUF-like roles given by the callable names in c."""
    d, nh, nkv, eps, theta = c["dim"], c["n_heads"], c["n_kv_heads"], c["eps"], c["theta"]
    hs = d // nh
    T = len(tokens)
    x = w["embed"][tokens]
    for l in range(c["n_layers"]):
        L = lambda n: w[f"{n}.{l}"]
        h = rms_norm(x, L("attn_norm"), eps)
        q = (h @ L("wq").T).reshape(T, nh, hs).transpose(0, 1)
        k = (h @ L("wk").T).reshape(T, nkv, hs).transpose(0, 1)
        v = (h @ L("wv").T).reshape(T, nkv, hs).transpose(0, 1)
        q, k = rope(q, theta), rope(k, theta)
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        a = causal_attention(q, k, v).transpose(0, 1).reshape(T, d)
        x = x + a @ L("wo").T
        h = rms_norm(x, L("ffn_norm"), eps)
        x = x + (F.silu(h @ L("w_gate").T) * (h @ L("w_up").T)) @ L("w_down").T
    x = rms_norm(x, w["norm"], eps)
    return x @ w["out"].T


# ------------------------------------------------------------------- outputs

def golden(path, model, source, cases, stride=1):
    out = {"model": model, "source": source, "cases": []}
    for tokens, logits in cases:
        vocab = logits.shape[1]
        idx = list(range(0, vocab, stride))
        out["cases"].append({
            "tokens": tokens,
            "stride": stride,
            "argmax": [int(r.argmax()) for r in logits],
            "logits": [[round(float(v), 9) for v in r[idx]] for r in logits],
        })
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(path, HERE))


def make_gpt2_tiny(dir):
    """A random GPT2LMHeadModel, F16 on disk, with a 40-token toy BPE."""
    os.makedirs(dir, exist_ok=True)
    gen = torch.Generator().manual_seed(20240601)
    d, nl, nh, ctx = 16, 2, 4, 32
    # byte-level BPE vocabulary: the bytes of "abcdefghijklmnopqrstuvwxyz ."
    # in GPT-2's byte alphabet (space is "Ġ"), "<unk>" for every other byte,
    # a few merges and "<|endoftext|>".
    chars = [c for c in "abcdefghijklmnopqrstuvwxyz."] + ["Ġ"]
    merges = ["Ġ t", "h e", "Ġt he", "i n", "a n", "Ġ a"]
    vocab = chars + ["Ġt", "he", "Ġthe", "in", "an", "Ġa", "<unk>", "<|endoftext|>"]
    V = len(vocab)
    r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float32) * 0.5
    t = {"transformer.wte.weight": r(V, d), "transformer.wpe.weight": r(ctx, d)}
    for l in range(nl):
        p = f"transformer.h.{l}."
        t[p + "ln_1.weight"] = 1 + r(d) * 0.2
        t[p + "ln_1.bias"] = r(d) * 0.2
        t[p + "attn.c_attn.weight"] = r(d, 3 * d)
        t[p + "attn.c_attn.bias"] = r(3 * d) * 0.2
        t[p + "attn.c_proj.weight"] = r(d, d)
        t[p + "attn.c_proj.bias"] = r(d) * 0.2
        t[p + "ln_2.weight"] = 1 + r(d) * 0.2
        t[p + "ln_2.bias"] = r(d) * 0.2
        t[p + "mlp.c_fc.weight"] = r(d, 4 * d)
        t[p + "mlp.c_fc.bias"] = r(4 * d) * 0.2
        t[p + "mlp.c_proj.weight"] = r(4 * d, d)
        t[p + "mlp.c_proj.bias"] = r(d) * 0.2
    t["transformer.ln_f.weight"] = 1 + r(d) * 0.2
    t["transformer.ln_f.bias"] = r(d) * 0.2
    write_safetensors(os.path.join(dir, "model.safetensors"), [(k, "F16", as_f16(v)) for k, v in t.items()])
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
           "n_embd": d, "n_layer": nl, "n_head": nh, "n_positions": ctx, "n_inner": None,
           "layer_norm_epsilon": 1e-5, "vocab_size": V, "bos_token_id": V - 1, "eos_token_id": V - 1,
           "torch_dtype": "float16"}
    with open(os.path.join(dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(dir, "vocab.json"), "w") as f:
        json.dump({tok: i for i, tok in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(dir, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")


def make_llama_tiny(dir):
    """A random LlamaForCausalLM, BF16 on disk, GQA 4:2, untied lm_head,
    with a SentencePiece-style BPE tokenizer.json of 64 tokens."""
    os.makedirs(dir, exist_ok=True)
    gen = torch.Generator().manual_seed(20240602)
    d, nl, nh, nkv, hidden, ctx = 16, 2, 4, 2, 40, 64
    hs = d // nh
    pieces, ids, merges = spm_toy()
    V = len(pieces)
    r = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float32) * 0.5
    t = {"model.embed_tokens.weight": r(V, d)}
    for l in range(nl):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = 1 + r(d) * 0.2
        t[p + "self_attn.q_proj.weight"] = r(d, d)
        t[p + "self_attn.k_proj.weight"] = r(nkv * hs, d)
        t[p + "self_attn.v_proj.weight"] = r(nkv * hs, d)
        t[p + "self_attn.o_proj.weight"] = r(d, d)
        t[p + "post_attention_layernorm.weight"] = 1 + r(d) * 0.2
        t[p + "mlp.gate_proj.weight"] = r(hidden, d)
        t[p + "mlp.up_proj.weight"] = r(hidden, d)
        t[p + "mlp.down_proj.weight"] = r(d, hidden)
    t["model.norm.weight"] = 1 + r(d) * 0.2
    t["lm_head.weight"] = r(V, d)
    write_safetensors(os.path.join(dir, "model.safetensors"), [(k, "BF16", as_bf16_bits(v)) for k, v in t.items()])
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": d,
           "intermediate_size": hidden, "num_hidden_layers": nl, "num_attention_heads": nh,
           "num_key_value_heads": nkv, "max_position_embeddings": ctx, "rms_norm_eps": 1e-5,
           "rope_theta": 1000.0, "tie_word_embeddings": False, "vocab_size": V, "hidden_act": "silu",
           "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}
    with open(os.path.join(dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    write_spm_tokenizer(dir, ids, merges)


def spm_toy():
    """A SentencePiece-style BPE of 62 pieces: <unk>, <s>, </s>, two byte
    pieces, "▁", the letters and 30 merged pieces. Returns the pieces, their
    ids and the merges: every split of a multi-character piece into two
    pieces, ordered by the piece's position (earlier = higher priority), as
    HF's converter orders them by SentencePiece score."""
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in (9, 10)] + \
        ["▁"] + list("abcdefghijklmnopqrstuvwxyz") + \
        ["▁t", "he", "▁the", "in", "▁a", "an", "▁an", "nd", "▁and", "er", "on", "re", "at", "en", "▁s",
         "▁w", "▁o", "▁i", "ed", "es", "or", "▁c", "is", "▁f", "it", "ar", "ou", "▁b", "▁p", "al"]
    ids = {p: i for i, p in enumerate(pieces)}
    merges = []
    for p in pieces[6 + 26:]:
        for i in range(1, len(p)):
            if p[:i] in ids and p[i:] in ids:
                merges.append([p[:i], p[i:]])
    return pieces, ids, merges


def write_spm_tokenizer(dir, ids, merges, specials=()):
    """tokenizer.json of the SentencePiece toy, with specials as added
    tokens after the pieces."""
    tok = {"version": "1.0", "model": {"type": "BPE", "byte_fallback": True, "unk_token": "<unk>",
                                       "vocab": ids, "merges": merges}}
    if specials:
        tok = {"version": "1.0", "added_tokens": [
            {"id": len(ids) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True} for i, s in enumerate(specials)], "model": tok["model"]}
    with open(os.path.join(dir, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)


# ------------------------------------------------------ families as in 2025

# Tiny random checkpoints of LLaMA 3, Qwen 2, Qwen 3, Mistral and Phi-3,
# each written twice from the same numbers: a Hugging Face directory
# (safetensors, config.json, tokenizer files) and a GGUF file laid out as
# llama.cpp's converter lays out that family (names, q/k row order,
# metadata keys, RoPE factor tensors). The reference logits are computed
# from the Hugging Face tensors with Hugging Face's semantics (rotate-half
# RoPE and its rope_scaling formulas, sliding-window mask), so llmap's
# Hugging Face import and its GGUF import are both checked against them.

def byte_alphabet():
    """GPT-2's byte-level alphabet: byte b as one printable character
    (printable Latin-1 bytes as themselves, the rest as U+0100 onwards)."""
    printable = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    out, n = [], 0
    for b in range(256):
        if b in printable:
            out.append(chr(b))
        else:
            out.append(chr(256 + n))
            n += 1
    return out


def bpe_toy(specials):
    """A byte-level BPE: the 256 byte tokens (id = byte), 15 merges, then
    the special tokens. Returns the tokens and the merges."""
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("a", "n"), ("e", "r"), ("o", "n"), ("Ġ", "a"),
              ("r", "e"), ("Ġ", "s"), ("o", "u"), ("a", "t"), ("e", "n"), ("i", "t"), ("Ġ", "w")]
    tokens = byte_alphabet() + [a + b for a, b in merges] + specials
    return tokens, merges


def write_bpe_tokenizer(dir, models, like, tokens, merges, specials, tok_config):
    """tokenizer.json with the pre-tokenizer, normalizer, post-processor
    and decoder of the real tokenizer.json of `like` (llama3 or qwen3 in
    MODELS_DIR/hf-tokenizers), and tokenizer_config.json."""
    real = json.load(open(os.path.join(models, "hf-tokenizers", like, "tokenizer.json")))
    n = len(tokens) - len(specials)
    model = {k: v for k, v in real["model"].items() if k not in ("vocab", "merges")}
    model["vocab"] = {t: i for i, t in enumerate(tokens[:n])}
    model["merges"] = [a + " " + b for a, b in merges]
    tj = {"version": "1.0", "truncation": None, "padding": None,
          "added_tokens": [{"id": n + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": False, "special": True} for i, s in enumerate(specials)],
          "normalizer": real["normalizer"], "pre_tokenizer": real["pre_tokenizer"],
          "post_processor": real["post_processor"], "decoder": real["decoder"], "model": model}
    with open(os.path.join(dir, "tokenizer.json"), "w") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    with open(os.path.join(dir, "tokenizer_config.json"), "w") as f:
        json.dump(tok_config, f, indent=1)


def write_gguf(path, kvs, tensors):
    """A GGUF v3 file. kvs: (key, kind, value), kind u32, i32, f32, bool,
    str, or [kind] for an array; tensors: (name, float64 tensor outermost
    first, ggml type: 0 F32, 1 F16, 30 BF16), data aligned to 32 bytes."""
    codes = {"u32": (4, "<I"), "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<?")}

    def s(x):
        b = x.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def val(kind, v):
        if kind == "str":
            return s(v)
        return struct.pack(codes[kind][1], v)

    def code(kind):
        return 8 if kind == "str" else codes[kind][0]

    out = [b"GGUF", struct.pack("<IQQ", 3, len(tensors), len(kvs))]
    for key, kind, v in kvs:
        out.append(s(key))
        if isinstance(kind, list):
            out.append(struct.pack("<IIQ", 9, code(kind[0]), len(v)))
            out.extend(val(kind[0], x) for x in v)
        else:
            out.append(struct.pack("<I", code(kind)) + val(kind, v))
    blobs, off = [], 0
    for name, t, typ in tensors:
        if typ == 0:
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
        elif typ == 1:
            raw = as_f16(t).astype("<f2").tobytes()
        else:
            raw = as_bf16_bits(t).astype("<u2").tobytes()
        out.append(s(name) + struct.pack("<I", t.dim()) + b"".join(struct.pack("<Q", d) for d in reversed(t.shape)))
        out.append(struct.pack("<IQ", typ, off))
        blobs.append(raw)
        off += (len(raw) + 31) // 32 * 32
    head = b"".join(out)
    head += b"\0" * ((32 - len(head) % 32) % 32)
    with open(path, "wb") as f:
        f.write(head)
        for raw in blobs:
            f.write(raw + b"\0" * ((32 - len(raw) % 32) % 32))


def llama3_inv_freq(theta, hs, rs):
    """Hugging Face's rope_type "llama3": the default frequencies, divided by
    factor where the wavelength exceeds original/low_freq_factor, blended
    between the two where it lies between original/high_freq_factor and
    original/low_freq_factor."""
    inv = default_inv_freq(theta, hs)
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    orig = rs["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv
    scaled = torch.where(wavelen > orig / low, inv / factor, inv)
    smooth = (orig / wavelen - low) / (high - low)
    blended = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= orig / high) & (wavelen <= orig / low)
    return torch.where(medium, blended, scaled)


def llama3_rope_freqs(theta, hs, rs):
    """llama.cpp's rope_freqs.weight for the same scaling: one divisor of
    each pair's frequency (1, factor, or the blend's inverse)."""
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    orig = rs["original_max_position_embeddings"]
    out = []
    for i in range(hs // 2):
        wavelen = 2 * math.pi * theta ** (2 * i / hs)
        if wavelen < orig / high:
            out.append(1.0)
        elif wavelen > orig / low:
            out.append(factor)
        else:
            sm = (orig / wavelen - low) / (high - low)
            out.append(1 / ((1 - sm) / factor + sm))
    return torch.tensor(out, dtype=DT)


def decoder_logits(w, c, tokens):
    """A LLaMA-like decoder with Hugging Face's tensor names: RMSNorm, q/k/v
    (fused qkv_proj for Phi-3, biases for Qwen 2, per-head q_norm/k_norm
    for Qwen 3), rotate-half RoPE with c["inv_freq"] and c["rope_scale"],
    grouped-query causal attention (c["window"]: sliding window or None),
    SwiGLU (fused gate_up_proj for Phi-3), tied or untied lm_head."""
    nh, nkv, hd, eps = c["n_heads"], c["n_kv_heads"], c["head_dim"], c["eps"]
    T = len(tokens)
    x = w["model.embed_tokens.weight"][tokens]
    for l in range(c["n_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        if p + "self_attn.qkv_proj.weight" in w:
            q, k, v = (h @ w[p + "self_attn.qkv_proj.weight"].T).split([nh * hd, nkv * hd, nkv * hd], dim=1)
        else:
            q, k, v = (h @ w[p + f"self_attn.{n}_proj.weight"].T + w.get(p + f"self_attn.{n}_proj.bias", 0)
                       for n in "qkv")
        q, k, v = q.reshape(T, nh, hd), k.reshape(T, nkv, hd), v.reshape(T, nkv, hd)
        if p + "self_attn.q_norm.weight" in w:
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        q, k = rope_hf(q, c["inv_freq"], c["rope_scale"]), rope_hf(k, c["inv_freq"], c["rope_scale"])
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        a = causal_attention(q, k, v, c["window"]).transpose(0, 1).reshape(T, nh * hd)
        x = x + a @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        if p + "mlp.gate_up_proj.weight" in w:
            gate, up = (h @ w[p + "mlp.gate_up_proj.weight"].T).chunk(2, dim=-1)
        else:
            gate, up = h @ w[p + "mlp.gate_proj.weight"].T, h @ w[p + "mlp.up_proj.weight"].T
        x = x + (F.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    return x @ w.get("lm_head.weight", w["model.embed_tokens.weight"]).T


# GGUF names of the Hugging Face tensors (llama.cpp's tensor map).
GGUF_NAMES = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
              "self_attn.o_proj.weight": "attn_output.weight", "self_attn.qkv_proj.weight": "attn_qkv.weight",
              "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
              "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
              "mlp.down_proj.weight": "ffn_down.weight", "mlp.gate_up_proj.weight": "ffn_up.weight"}
for _n in "qkv":
    GGUF_NAMES[f"self_attn.{_n}_proj.weight"] = f"attn_{_n}.weight"
    GGUF_NAMES[f"self_attn.{_n}_proj.bias"] = f"attn_{_n}.bias"


def interleave_rows(t, hd):
    """llama.cpp's q/k order for GGUF llama: within each head, row 2i is
    Hugging Face's row i and row 2i+1 its row i+hd/2."""
    heads = t.reshape(-1, 2, hd // 2, t.shape[1])
    return heads.transpose(1, 2).reshape(t.shape)


def gguf_tensors(w, arch, hd, typ):
    """The Hugging Face tensors under GGUF names, matrices in typ and
    vectors in F32, q/k rows interleaved for llama."""
    out = []
    for name, t in w.items():
        if name == "model.embed_tokens.weight":
            g = "token_embd.weight"
        elif name == "model.norm.weight":
            g = "output_norm.weight"
        elif name == "lm_head.weight":
            g = "output.weight"
        else:
            _, _, l, rest = name.split(".", 3)
            g = f"blk.{l}.{GGUF_NAMES[rest]}"
            if arch == "llama" and rest in ("self_attn.q_proj.weight", "self_attn.k_proj.weight"):
                t = interleave_rows(t, hd)
        out.append((g, t, typ if t.dim() == 2 else 0))
    return out


def gguf_bpe_vocab(pre, tokens, specials, bos, eos, add_bos):
    n = len(tokens) - len(specials)
    merges = bpe_toy(specials)[1]
    return [("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.pre", "str", pre),
            ("tokenizer.ggml.tokens", ["str"], tokens),
            ("tokenizer.ggml.token_type", ["i32"], [1] * n + [3] * len(specials)),
            ("tokenizer.ggml.merges", ["str"], [a + " " + b for a, b in merges]),
            ("tokenizer.ggml.bos_token_id", "u32", bos), ("tokenizer.ggml.eos_token_id", "u32", eos),
            ("tokenizer.ggml.add_bos_token", "bool", add_bos)]


def gguf_spm_vocab(pieces, merges, vocab_size, specials=()):
    """The SentencePiece toy as llama.cpp writes it: scores minus the rank
    of the first merge that makes a piece, types unknown/control/byte/
    normal, the special tokens (control), and [PADn] pieces (unused) up to
    the model's vocabulary."""
    rank = {}
    for i, (a, b) in enumerate(merges):
        rank.setdefault(a + b, i)
    types = [2, 3, 3, 6, 6] + [1] * (len(pieces) - 5) + [3] * len(specials)
    pad = [f"[PAD{i}]" for i in range(len(pieces) + len(specials), vocab_size)]
    scores = [-float(rank[p]) if p in rank else 0.0 for p in pieces] + [0.0] * len(specials)
    return [("tokenizer.ggml.model", "str", "llama"), ("tokenizer.ggml.tokens", ["str"], pieces + list(specials) + pad),
            ("tokenizer.ggml.scores", ["f32"], scores + [-10000.0] * len(pad)),
            ("tokenizer.ggml.token_type", ["i32"], types + [5] * len(pad)),
            ("tokenizer.ggml.bos_token_id", "u32", 1), ("tokenizer.ggml.eos_token_id", "u32", 2),
            ("tokenizer.ggml.add_bos_token", "bool", True)]


def gguf_hparams(arch, cfg, hd):
    a = arch
    kv = [("general.architecture", "str", a), ("general.name", "str", cfg["name"]),
          (a + ".context_length", "u32", cfg["max_position_embeddings"]),
          (a + ".embedding_length", "u32", cfg["hidden_size"]),
          (a + ".block_count", "u32", cfg["num_hidden_layers"]),
          (a + ".feed_forward_length", "u32", cfg["intermediate_size"]),
          (a + ".attention.head_count", "u32", cfg["num_attention_heads"]),
          (a + ".attention.head_count_kv", "u32", cfg["num_key_value_heads"]),
          (a + ".attention.layer_norm_rms_epsilon", "f32", cfg["rms_norm_eps"]),
          (a + ".rope.freq_base", "f32", cfg["rope_theta"]), (a + ".rope.dimension_count", "u32", hd)]
    if "head_dim" in cfg:
        kv += [(a + ".attention.key_length", "u32", hd), (a + ".attention.value_length", "u32", hd)]
    return kv


def make_family(dir, spec, rnd):
    """Writes the Hugging Face directory of spec (random weights from rnd)
    and returns its tensors as float64 after rounding to the stored dtype."""
    cfg = spec["config"]
    d, nl, nh, nkv = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, hidden, V = cfg.get("head_dim", d // nh), cfg["intermediate_size"], cfg["vocab_size"]
    r = lambda *s: torch.randn(*s, generator=rnd, dtype=torch.float32) * 0.35
    t = {"model.embed_tokens.weight": r(V, d)}
    for l in range(nl):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = 1 + r(d) * 0.2
        if spec.get("fused"):
            t[p + "self_attn.qkv_proj.weight"] = r((nh + 2 * nkv) * hd, d)
        else:
            t[p + "self_attn.q_proj.weight"] = r(nh * hd, d)
            t[p + "self_attn.k_proj.weight"] = r(nkv * hd, d)
            t[p + "self_attn.v_proj.weight"] = r(nkv * hd, d)
        if spec.get("bias"):
            for n, rows in (("q", nh * hd), ("k", nkv * hd), ("v", nkv * hd)):
                t[p + f"self_attn.{n}_proj.bias"] = r(rows)
        if spec.get("qk_norm"):
            t[p + "self_attn.q_norm.weight"] = 1 + r(hd) * 0.4
            t[p + "self_attn.k_norm.weight"] = 1 + r(hd) * 0.4
        t[p + "self_attn.o_proj.weight"] = r(d, nh * hd)
        t[p + "post_attention_layernorm.weight"] = 1 + r(d) * 0.2
        if spec.get("fused"):
            t[p + "mlp.gate_up_proj.weight"] = r(2 * hidden, d)
        else:
            t[p + "mlp.gate_proj.weight"] = r(hidden, d)
            t[p + "mlp.up_proj.weight"] = r(hidden, d)
        t[p + "mlp.down_proj.weight"] = r(d, hidden)
    t["model.norm.weight"] = 1 + r(d) * 0.2
    if not cfg["tie_word_embeddings"]:
        t["lm_head.weight"] = r(V, d)
    os.makedirs(dir, exist_ok=True)
    dt = {"float16": "F16", "bfloat16": "BF16"}[cfg["torch_dtype"]]
    bits = as_f16 if dt == "F16" else as_bf16_bits
    write_safetensors(os.path.join(dir, "model.safetensors"), [(k, dt, bits(v)) for k, v in t.items()])
    with open(os.path.join(dir, "config.json"), "w") as f:
        json.dump({k: v for k, v in cfg.items() if k != "name"}, f, indent=1)
    return read_safetensors(os.path.join(dir, "model.safetensors"))


def families(models):
    """The family checkpoints, their GGUF twins and reference logits."""
    bpe_l3 = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    bpe_qw = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    n_bpe = 256 + 15 + 3
    pieces, spm_ids, spm_merges = spm_toy()
    phi_specials = ["<|endoftext|>", "<|end|>"]
    common = lambda **kw: {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                           "num_key_value_heads": 2, "intermediate_size": 64, "hidden_act": "silu", **kw}
    specs = [
        # LLaMA 3.2-style: θ 500000, rope_scaling llama3 with the original
        # context small enough that the 8 pairs of a 16-wide head cover all
        # three regimes (kept, blended, slowed), tied embeddings, BF16.
        {"name": "llama3", "arch": "llama", "seed": 20250101, "tok": "llama3", "prompt": 40,
         "config": common(architectures=["LlamaForCausalLM"], model_type="llama", num_attention_heads=2,
                          num_key_value_heads=1, max_position_embeddings=128, rms_norm_eps=1e-5,
                          rope_theta=500000.0, rope_scaling={"factor": 8.0, "low_freq_factor": 1.0,
                                                             "high_freq_factor": 4.0,
                                                             "original_max_position_embeddings": 64,
                                                             "rope_type": "llama3"},
                          tie_word_embeddings=True, vocab_size=n_bpe, bos_token_id=n_bpe - 3,
                          eos_token_id=n_bpe - 2, torch_dtype="bfloat16")},
        # Qwen 2.5-style: q/k/v biases, θ 1e6, tied, F16.
        {"name": "qwen2", "arch": "qwen2", "seed": 20250102, "tok": "qwen3", "bias": True, "prompt": 40,
         "config": common(architectures=["Qwen2ForCausalLM"], model_type="qwen2", max_position_embeddings=128,
                          rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False,
                          sliding_window=32, max_window_layers=2, vocab_size=n_bpe, bos_token_id=n_bpe - 3,
                          eos_token_id=n_bpe - 1, torch_dtype="float16")},
        # Qwen 3-style: q/k head norms, head_dim 16 (q_dim 64 > hidden 32),
        # untied, BF16.
        {"name": "qwen3", "arch": "qwen3", "seed": 20250103, "tok": "qwen3", "qk_norm": True, "prompt": 40,
         "config": common(architectures=["Qwen3ForCausalLM"], model_type="qwen3", head_dim=16,
                          max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
                          tie_word_embeddings=False, attention_bias=False, use_sliding_window=False,
                          vocab_size=n_bpe, bos_token_id=n_bpe - 3, eos_token_id=n_bpe - 1, torch_dtype="bfloat16")},
        # Mistral v0.1-style with a window of 8 (v0.1 has 4096) and a
        # head_dim of 12 that is not hidden/heads (as Mistral NeMo has),
        # untied, F16. GGUF "llama" files carry no window.
        {"name": "mistral", "arch": "llama", "seed": 20250104, "tok": "spm", "prompt": 24,
         "config": common(architectures=["MistralForCausalLM"], model_type="mistral", head_dim=12,
                          max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=8,
                          tie_word_embeddings=False, vocab_size=len(pieces), bos_token_id=1, eos_token_id=2,
                          torch_dtype="float16")},
        # Phi-3 mini 4k-style: fused qkv and gate_up, sliding window (2047
        # in the real model; 8 here), special tokens after the pieces and
        # embeddings padded past them (32064 for 32011 in the real model),
        # F16.
        {"name": "phi3", "arch": "phi3", "seed": 20250105, "tok": "spm", "fused": True, "prompt": 24,
         "specials": phi_specials,
         "config": common(architectures=["Phi3ForCausalLM"], model_type="phi3", intermediate_size=48,
                          max_position_embeddings=64, original_max_position_embeddings=64, rms_norm_eps=1e-5,
                          rope_theta=10000.0, rope_scaling=None, sliding_window=8, tie_word_embeddings=False,
                          vocab_size=66, bos_token_id=1, eos_token_id=2, torch_dtype="float16")},
        # Phi-3.5 mini-style: LongRoPE (short and long factors, attention
        # factor from max/original = 256/32), MHA, BF16. llmap runs it up to
        # the original 32 positions, with the short factors.
        {"name": "phi35", "arch": "phi3", "seed": 20250106, "tok": "spm", "fused": True, "prompt": 30,
         "specials": phi_specials,
         "config": common(architectures=["Phi3ForCausalLM"], model_type="phi3", num_key_value_heads=4,
                          max_position_embeddings=256, original_max_position_embeddings=32, rms_norm_eps=1e-5,
                          rope_theta=10000.0, sliding_window=256, tie_word_embeddings=False, vocab_size=66,
                          bos_token_id=1, eos_token_id=2, torch_dtype="bfloat16")},
    ]
    # Phi-3.5's factors: random but fixed, between 1 and 5 as the real ones.
    g = torch.Generator().manual_seed(20250107)
    specs[5]["config"]["rope_scaling"] = {
        "type": "longrope",
        "short_factor": [round(1 + 2 * float(v), 4) for v in torch.rand(4, generator=g, dtype=DT)],
        "long_factor": [round(1 + 4 * float(v), 4) for v in torch.rand(4, generator=g, dtype=DT)]}

    for spec in specs:
        cfg, name = spec["config"], spec["name"]
        cfg["name"] = f"{name}-tiny"
        dir = os.path.join(HERE, f"hf-{name}-tiny")
        w = make_family(dir, spec, torch.Generator().manual_seed(spec["seed"]))
        d, nh = cfg["hidden_size"], cfg["num_attention_heads"]
        hd = cfg.get("head_dim", d // nh)
        theta, V = cfg["rope_theta"], cfg["vocab_size"]

        # tokenizers
        if spec["tok"] == "spm":
            write_spm_tokenizer(dir, spm_ids, spm_merges, spec.get("specials", ()))
            vocab = gguf_spm_vocab(pieces, spm_merges, V, spec.get("specials", ()))
        else:
            specials = bpe_l3 if spec["tok"] == "llama3" else bpe_qw
            tokens, merges = bpe_toy(specials)
            if spec["tok"] == "llama3":
                tc = {"bos_token": specials[0], "eos_token": specials[1], "tokenizer_class": "PreTrainedTokenizerFast"}
                vocab = gguf_bpe_vocab("llama-bpe", tokens, specials, V - 3, V - 2, True)
            else:
                tc = {"add_bos_token": False, "bos_token": None, "eos_token": specials[2],
                      "tokenizer_class": "Qwen2Tokenizer"}
                vocab = gguf_bpe_vocab("qwen2", tokens, specials, V - 3, V - 1, False)
            write_bpe_tokenizer(dir, models, spec["tok"], tokens, merges, specials, tc)

        # the RoPE of the Hugging Face model, and what GGUF carries for it
        c = {"n_heads": nh, "n_kv_heads": cfg["num_key_value_heads"], "head_dim": hd, "eps": cfg["rms_norm_eps"],
             "n_layers": cfg["num_hidden_layers"], "inv_freq": default_inv_freq(theta, hd), "rope_scale": 1.0,
             "window": None}
        kvs = gguf_hparams(spec["arch"], cfg, hd)
        extra = []
        rs = cfg.get("rope_scaling")
        if rs and rs.get("rope_type") == "llama3":
            c["inv_freq"] = llama3_inv_freq(theta, hd, rs)
            extra.append(("rope_freqs.weight", llama3_rope_freqs(theta, hd, rs), 0))
        if rs and rs.get("type") == "longrope":
            orig = cfg["original_max_position_embeddings"]
            scale = cfg["max_position_embeddings"] / orig
            c["rope_scale"] = math.sqrt(1 + math.log(scale) / math.log(orig))
            c["inv_freq"] = 1.0 / (torch.tensor(rs["short_factor"], dtype=DT) * theta ** (torch.arange(0, hd, 2, dtype=DT) / hd))
            extra += [("rope_factors_long.weight", torch.tensor(rs["long_factor"], dtype=DT), 0),
                      ("rope_factors_short.weight", torch.tensor(rs["short_factor"], dtype=DT), 0)]
            kvs.append(("phi3.rope.scaling.attn_factor", "f32", c["rope_scale"]))
        if spec["arch"] == "phi3":
            kvs += [("phi3.rope.scaling.original_context_length", "u32", cfg["original_max_position_embeddings"]),
                    ("phi3.attention.sliding_window", "u32", cfg["sliding_window"])]
        window = cfg.get("sliding_window") if spec["arch"] != "qwen2" else None
        if window and window < cfg["max_position_embeddings"]:
            c["window"] = window
        typ = 1 if cfg["torch_dtype"] == "float16" else 30
        write_gguf(os.path.join(HERE, f"{name}_tiny.gguf"), kvs + vocab, extra + gguf_tensors(w, spec["arch"], hd, typ))

        prompts = PROMPTS + [[(7 * i + 3) % 60 for i in range(spec["prompt"])]]
        label = f"{cfg['architectures'][0]}, {cfg['torch_dtype']}"
        stride = 5 if V > 100 else 2
        golden(os.path.join(HERE, f"{name}_tiny.json"), f"hf-{name}-tiny", label,
               [(p, decoder_logits(w, c, p)) for p in prompts], stride=stride)
        if spec["arch"] == "llama" and c["window"]:
            # GGUF llama has no window: its reference attends to everything.
            c["window"] = None
            golden(os.path.join(HERE, f"{name}_gguf_tiny.json"), f"{name}_tiny.gguf", label + ", no sliding window",
                   [(p, decoder_logits(w, c, p)) for p in prompts], stride=stride)


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "LLMAP_MODELS", os.path.join(HERE, "..", "..", "..", "shared", "models"))
    torch.set_grad_enabled(False)

    # 1. The lm-buddy GPT2Model fixture (names without "transformer.").
    src = os.path.join(models, "tiny-gpt2-random-lmbuddy")
    w = read_safetensors(os.path.join(src, "model.safetensors"))
    cfg = json.load(open(os.path.join(src, "config.json")))
    prompts = [[0], [20, 3, 5, 7, 11, 2], [1] * 10]
    golden(os.path.join(HERE, "gpt2_lmbuddy.json"), "tiny-gpt2-random-lmbuddy", "GPT2Model, F32",
           [(p, gpt2_logits(w, cfg, p, "")) for p in prompts])

    # 2. A random GPT2LMHeadModel with "transformer." names, stored as F16.
    dir = os.path.join(HERE, "hf-gpt2-tiny")
    make_gpt2_tiny(dir)
    w = read_safetensors(os.path.join(dir, "model.safetensors"))
    cfg = json.load(open(os.path.join(dir, "config.json")))
    golden(os.path.join(HERE, "gpt2_tiny.json"), "hf-gpt2-tiny", "GPT2LMHeadModel, F16",
           [(p, gpt2_logits(w, cfg, p, "transformer.")) for p in PROMPTS + [list(range(32))]])

    # 3. A random LlamaForCausalLM (HF rotate-half RoPE), stored as BF16.
    dir = os.path.join(HERE, "hf-llama-tiny")
    make_llama_tiny(dir)
    w = read_safetensors(os.path.join(dir, "model.safetensors"))
    cfg = json.load(open(os.path.join(dir, "config.json")))
    roles = {"embed": w["model.embed_tokens.weight"], "norm": w["model.norm.weight"], "out": w["lm_head.weight"]}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        for role, n in [("attn_norm", "input_layernorm"), ("wq", "self_attn.q_proj"), ("wk", "self_attn.k_proj"),
                        ("wv", "self_attn.v_proj"), ("wo", "self_attn.o_proj"),
                        ("ffn_norm", "post_attention_layernorm"), ("w_gate", "mlp.gate_proj"),
                        ("w_up", "mlp.up_proj"), ("w_down", "mlp.down_proj")]:
            roles[f"{role}.{l}"] = w[p + n + ".weight"]
    c = {"dim": cfg["hidden_size"], "n_heads": cfg["num_attention_heads"], "n_kv_heads": cfg["num_key_value_heads"],
         "eps": cfg["rms_norm_eps"], "theta": cfg["rope_theta"], "n_layers": cfg["num_hidden_layers"]}
    golden(os.path.join(HERE, "llama_hf_tiny.json"), "hf-llama-tiny", "LlamaForCausalLM, BF16, HF rotate-half RoPE",
           [(p, llama_logits(roles, c, p, rope_rotate_half)) for p in PROMPTS + [list(range(40))]])

    # 4. llama-2-tiny-random.gguf (ggml's interleaved RoPE on GGUF's q/k order).
    meta, w = read_gguf(os.path.join(models, "llama-2-tiny-random-gguf", "llama-2-tiny-random.gguf"))
    roles = {"embed": w["token_embd.weight"], "norm": w["output_norm.weight"],
             "out": w.get("output.weight", w["token_embd.weight"])}
    for l in range(meta["llama.block_count"]):
        for role, n in [("attn_norm", "attn_norm"), ("wq", "attn_q"), ("wk", "attn_k"), ("wv", "attn_v"),
                        ("wo", "attn_output"), ("ffn_norm", "ffn_norm"), ("w_gate", "ffn_gate"),
                        ("w_up", "ffn_up"), ("w_down", "ffn_down")]:
            roles[f"{role}.{l}"] = w[f"blk.{l}.{n}.weight"]
    nh = meta["llama.attention.head_count"]
    c = {"dim": meta["llama.embedding_length"], "n_heads": nh,
         "n_kv_heads": meta.get("llama.attention.head_count_kv", nh),
         "eps": meta["llama.attention.layer_norm_rms_epsilon"], "theta": meta.get("llama.rope.freq_base", 10000.0),
         "n_layers": meta["llama.block_count"]}
    prompts = [[1], [1, 15043, 3186, 29991], [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278]]
    golden(os.path.join(HERE, "llama_gguf_tiny.json"), "llama-2-tiny-random.gguf", "GGUF v3 llama, F16",
           [(p, llama_logits(roles, c, p, rope_interleaved)) for p in prompts], stride=125)

    # 5. LLaMA 3, Qwen 2, Qwen 3, Mistral, Phi-3 and Phi-3.5: Hugging Face
    # directories and GGUF files of the same random weights.
    families(models)


if __name__ == "__main__":
    main()
