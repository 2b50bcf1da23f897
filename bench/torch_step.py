"""PyTorch reference for `npm run bench:model`: the `small` preset's text decoder training step in torch.

Builds the same-shaped GLM-4 decoder as glmv's model (src/model/decoder.ts; not a transformers model):
embedding, sandwich-norm layers (four RMSNorms), GQA attention with q/k/v bias and interleaved partial RoPE,
fused gate_up SwiGLU MLP, final RMSNorm, untied LM head; weighted next-token cross-entropy on the last three
quarters of each row; AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.01 on matrices) after clipping the global
gradient norm to 1. Times forward + backward + AdamW at `torch.set_num_threads(threads)`.

Usage: python3 bench/torch_step.py --threads 2 --batch 8 --seq 256 --steps 5 --warmup 2
Prints one JSON line: {"threads", "batch", "seq", "stepSeconds", "tokensPerSec", "times", "torch"}.
"""

import argparse
import json
import math
import statistics
import time

import torch
from torch import nn

# The `small` preset's text config (src/model/presets.ts).
SMALL = dict(vocab=4096, hidden=512, layers=4, heads=8, kv_heads=2, inter=1536, eps=1e-5, rotary=32, theta=10000.0)


class RmsNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_interleaved(x, cos, sin):
    """x·cos + rot(x)·sin with rot pairing (2j, 2j+1); pass-through dims have cos 1, sin 0."""
    pairs = x.unflatten(-1, (-1, 2))
    rot = torch.stack((-pairs[..., 1], pairs[..., 0]), -1).flatten(-2)
    return x * cos + rot * sin


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, hd = c["hidden"], c["hidden"] // c["heads"]
        self.heads, self.kv, self.hd = c["heads"], c["kv_heads"], hd
        self.q = nn.Linear(h, c["heads"] * hd)
        self.k = nn.Linear(h, c["kv_heads"] * hd)
        self.v = nn.Linear(h, c["kv_heads"] * hd)
        self.o = nn.Linear(c["heads"] * hd, h, bias=False)
        self.gate_up = nn.Linear(h, 2 * c["inter"], bias=False)
        self.down = nn.Linear(c["inter"], h, bias=False)
        self.norms = nn.ModuleList(RmsNorm(h, c["eps"]) for _ in range(4))

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        n_in, n_post_attn, n_mid, n_post_mlp = self.norms
        h = n_in(x)
        q = rope_interleaved(self.q(h).view(b, s, self.heads, self.hd), cos, sin)
        k = rope_interleaved(self.k(h).view(b, s, self.kv, self.hd), cos, sin)
        v = self.v(h).view(b, s, self.kv, self.hd)
        g = self.heads // self.kv
        q = q.view(b, s, self.kv, g, self.hd).permute(0, 2, 3, 1, 4)  # [B, K, G, S, D]
        k = k.permute(0, 2, 1, 3).unsqueeze(2)  # [B, K, 1, S, D]
        v = v.permute(0, 2, 1, 3).unsqueeze(2)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        probs = torch.softmax(scores.masked_fill(~mask, -1e30), -1)
        att = (probs @ v).permute(0, 3, 1, 2, 4).reshape(b, s, -1)
        x = x + n_post_attn(self.o(att))
        gate, up = self.gate_up(n_mid(x)).chunk(2, -1)
        return x + n_post_mlp(self.down(nn.functional.silu(gate) * up))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c["vocab"], c["hidden"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["layers"]))
        self.norm = RmsNorm(c["hidden"], c["eps"])
        self.head = nn.Linear(c["hidden"], c["vocab"], bias=False)

    def forward(self, tokens, cos, sin, mask):
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.head(self.norm(x))


def rope_tables(b, s, hd, rotary, theta):
    """cos/sin [B, S, 1, hd]: interleaved pairs on the first `rotary` dims, identity on the rest."""
    inv = theta ** (-torch.arange(0, rotary, 2, dtype=torch.float32) / rotary)
    ang = torch.arange(s, dtype=torch.float32)[:, None] * inv[None, :]  # [S, rotary/2]
    cos = torch.ones(s, hd)
    sin = torch.zeros(s, hd)
    cos[:, :rotary] = ang.cos().repeat_interleave(2, -1)
    sin[:, :rotary] = ang.sin().repeat_interleave(2, -1)
    return cos[None, :, None, :].expand(b, s, 1, hd), sin[None, :, None, :].expand(b, s, 1, hd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    c = SMALL
    model = Decoder(c)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3,
        betas=(0.9, 0.95),
        eps=1e-8,
    )
    b, s = a.batch, a.seq
    tokens = torch.randint(0, 96, (b, s))
    targets = torch.roll(tokens, -1, 1)
    weights = torch.zeros(b, s)
    weights[:, s // 4 - 1 : s - 1] = 1.0
    weights /= weights.sum()
    cos, sin = rope_tables(b, s, c["hidden"] // c["heads"], c["rotary"], c["theta"])
    mask = torch.ones(s, s, dtype=torch.bool).tril()[None, None, None]
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        logits = model(tokens, cos, sin, mask)
        logp = torch.log_softmax(logits, -1).gather(-1, targets[..., None])[..., 0]
        loss = -(logp * weights).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    print(
        json.dumps(
            {
                "threads": a.threads,
                "batch": b,
                "seq": s,
                "stepSeconds": step,
                "tokensPerSec": b * s / step,
                "times": times,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
