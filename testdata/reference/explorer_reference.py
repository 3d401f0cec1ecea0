#!/usr/bin/python3
"""Reference values for llmap's explorer (runtime/explore Trace), computed
with numpy in float64 from stories260K.bin, independently of llmap: its own
reader of llama2.c's checkpoint layout and its own forward pass written
from llama2.c's run.c description (RMSNorm, RoPE on pairs, grouped-query
attention, SwiGLU).

It writes explorer_stories260K.json next to itself: for a fixed token-id
sequence ("Lily saw a cat. Lily liked the cat." as tok512 encodes it, BOS
first), the cosine similarity of every position's residual stream after
each block with its token's embedding row, and the attention weights of
every layer and head at two positions; and the 2D PCA map of a few words,
with the axes fitted to those words and to the whole vocabulary.

Usage: /usr/bin/python3 explorer_reference.py (Debian's python3-numpy) [MODELS_DIR]
MODELS_DIR defaults to $LLMAP_MODELS or ../../../shared/models.
"""

import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENS = [1, 317, 394, 261, 280, 294, 426, 317, 397, 355, 265, 280, 294, 426]
POSITIONS = [7, 13]
# Words for the embedding map, as token ids: " Lily", " Timmy", " Tim",
# " she", " he", " her", " She", and "him" (" h" + "im", a mean of two rows).
MAP_WORDS = [[317], [405], [326], [358], [281], [311], [338], [270, 288]]


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, layers, heads, kv_heads, vocab, seq = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    w = np.frombuffer(data[28:], dtype="<f4").astype(np.float64)
    hs = dim // heads
    kv = kv_heads * hs
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        a = w[off:off + n].reshape(shape)
        off += n
        return a

    p = {"dim": dim, "hidden": hidden, "layers": layers, "heads": heads, "kv_heads": kv_heads, "hs": hs}
    p["emb"] = take(vocab, dim)
    p["rms_att"] = take(layers, dim)
    p["wq"] = take(layers, dim, dim)
    p["wk"] = take(layers, kv, dim)
    p["wv"] = take(layers, kv, dim)
    p["wo"] = take(layers, dim, dim)
    p["rms_ffn"] = take(layers, dim)
    p["w1"] = take(layers, hidden, dim)
    p["w2"] = take(layers, dim, hidden)
    p["w3"] = take(layers, hidden, dim)
    p["rms_final"] = take(dim)
    assert shared, "stories260K shares its classifier"
    return p


def rmsnorm(x, g):
    return x / np.sqrt(np.mean(x * x) + 1e-5) * g


def rope(v, pos, hs):
    v = v.copy()
    for i in range(0, len(v), 2):
        freq = 1.0 / (10000.0 ** ((i % hs) / hs))
        c, s = np.cos(pos * freq), np.sin(pos * freq)
        a, b = v[i], v[i + 1]
        v[i], v[i + 1] = a * c - b * s, a * s + b * c
    return v


def run(p, tokens):
    L, H, hs = p["layers"], p["heads"], p["hs"]
    group = H // p["kv_heads"]
    keys = [[] for _ in range(L)]
    values = [[] for _ in range(L)]
    sim = []
    att = {}
    for pos, tok in enumerate(tokens):
        x = p["emb"][tok].copy()
        row = []
        for l in range(L):
            xb = rmsnorm(x, p["rms_att"][l])
            q = rope(p["wq"][l] @ xb, pos, hs)
            k = rope(p["wk"][l] @ xb, pos, hs)
            v = p["wv"][l] @ xb
            keys[l].append(k)
            values[l].append(v)
            o = np.zeros(H * hs)
            for h in range(H):
                kvh = (h // group) * hs
                qh = q[h * hs:(h + 1) * hs]
                s = np.array([qh @ keys[l][t][kvh:kvh + hs] for t in range(pos + 1)]) / np.sqrt(hs)
                s = np.exp(s - s.max())
                s /= s.sum()
                if pos in POSITIONS:
                    att.setdefault(pos, [[None] * H for _ in range(L)])[l][h] = s.tolist()
                o[h * hs:(h + 1) * hs] = sum(s[t] * values[l][t][kvh:kvh + hs] for t in range(pos + 1))
            x = x + p["wo"][l] @ o
            xb = rmsnorm(x, p["rms_ffn"][l])
            g = p["w1"][l] @ xb
            hb = g / (1 + np.exp(-g)) * (p["w3"][l] @ xb)
            x = x + p["w2"][l] @ hb
            e = p["emb"][tok]
            row.append(float(x @ e / np.linalg.norm(x) / np.linalg.norm(e)))
        sim.append(row)
    logits = p["emb"] @ rmsnorm(x, p["rms_final"])
    return sim, att, int(np.argmax(logits))


def pca(fit, words):
    """Principal axes of the rows of fit (by SVD), each oriented so that
    its components sum to a positive number; the fraction of variance
    along each and the words' coordinates."""
    mean = fit.mean(0)
    _, sv, vt = np.linalg.svd(fit - mean, full_matrices=False)
    axes = vt[:2] * np.sign(vt[:2].sum(1))[:, None]
    explained = (sv[:2] ** 2 / (sv ** 2).sum()).tolist()
    return explained, ((words - mean) @ axes.T).tolist()


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LLMAP_MODELS", os.path.join(HERE, "../../../shared/models"))
    p = load(os.path.join(models, "stories260K", "stories260K.bin"))
    sim, att, argmax = run(p, TOKENS)
    words = np.array([p["emb"][ids].mean(0) for ids in MAP_WORDS])
    w_explained, w_points = pca(words, words)
    v_explained, v_points = pca(p["emb"], words)
    out = {
        "model": "stories260K/stories260K.bin",
        "tokens": TOKENS,
        "similarity": sim,
        "attention": [{"position": pos, "weights": att[pos]} for pos in POSITIONS],
        "argmax_last": argmax,
        "map": {
            "words": MAP_WORDS,
            "words_basis": {"explained": w_explained, "points": w_points},
            "vocab_basis": {"explained": v_explained, "points": v_points},
        },
    }
    with open(os.path.join(HERE, "explorer_stories260K.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
