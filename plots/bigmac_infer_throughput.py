#!/usr/bin/python3
"""BigMac: inference throughput against prompt length, 16 and 32 GPUs, top-4/top-8, CDAC against
DCCA.

    plots/bigmac_infer_throughput.py out/figures/bigmac_infer_throughput/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
gpus = figlib.ordered(r["gpus"] for r in rows)
# One colour per (top-k, schedule) in every panel, so that one legend serves them all.
lines = figlib.ordered((r["model.moe.top_k"], r["schedule"]) for r in rows)
fig, axes = plt.subplots(1, len(gpus), figsize=(4.5 * len(gpus) + 1.2, 3.6), squeeze=False)
for ax, g in zip(axes[0], gpus):
    sel = [r for r in rows if r["gpus"] == g]
    for j, (k, s) in enumerate(lines):
        pts = [r for r in sel if r["model.moe.top_k"] == k and r["schedule"] == s]
        if not pts:
            continue
        prompt = [int(r["case"].rsplit("-p", 1)[1]) for r in pts]
        ax.plot(prompt, [figlib.num(r, "tokens_per_s") / 1e3 for r in pts], "o-",
                color=figlib.PALETTE[(j + 1) % len(figlib.PALETTE)], label=f"top-{k} {s}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("prompt length [tokens]")
    ax.set_ylabel("throughput [k tokens/s]")
    ax.set_title(f"{g} GPUs", fontsize=10)
figlib.legend_outside(axes[0][-1], axes[0][:-1], fontsize=7)
fig.suptitle(f"Inference, 128k tokens per batch, A40 cluster ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
