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

def causal_attention(q, k, v):
    """q (nh, T, hs), k/v (nh, T, hs) -> (nh, T, hs)."""
    T, hs = q.shape[1], q.shape[2]
    scores = q @ k.transpose(1, 2) / hs ** 0.5
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
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


def rope_rotate_half(x, theta):
    """Hugging Face LLaMA RoPE: x (nh, T, hs); dimension j pairs with j+hs/2."""
    nh, T, hs = x.shape
    inv = 1.0 / theta ** (torch.arange(0, hs, 2, dtype=DT) / hs)
    ang = torch.arange(T, dtype=DT)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    x1, x2 = x[..., : hs // 2], x[..., hs // 2:]
    rot = torch.cat([-x2, x1], dim=-1)
    return x * emb.cos() + rot * emb.sin()


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
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in (9, 10)] + \
        ["▁"] + list("abcdefghijklmnopqrstuvwxyz") + \
        ["▁t", "he", "▁the", "in", "▁a", "an", "▁an", "nd", "▁and", "er", "on", "re", "at", "en", "▁s",
         "▁w", "▁o", "▁i", "ed", "es", "or", "▁c", "is", "▁f", "it", "ar", "ou", "▁b", "▁p", "al"]
    V = len(pieces)
    # merges: every split of a multi-character piece into two pieces, ordered
    # by the piece's position (earlier = higher priority), as HF's converter
    # orders them by SentencePiece score.
    ids = {p: i for i, p in enumerate(pieces)}
    merges = []
    for p in pieces[6 + 26:]:
        for i in range(1, len(p)):
            if p[:i] in ids and p[i:] in ids:
                merges.append([p[:i], p[i:]])
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
    tok = {"version": "1.0", "model": {"type": "BPE", "byte_fallback": True, "unk_token": "<unk>",
                                       "vocab": ids, "merges": merges}}
    with open(os.path.join(dir, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)


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


if __name__ == "__main__":
    main()
