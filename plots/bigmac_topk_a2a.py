#!/usr/bin/python3
"""BigMac: all-to-all time and its share of the iteration against top-k (training, inference).

    plots/bigmac_topk_a2a.py out/figures/bigmac_topk_a2a/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
fig, (ax, share) = plt.subplots(1, 2, figsize=(11, 3.6))
for j, mode in enumerate(figlib.ordered(r["mode"] for r in rows)):
    sel = [r for r in rows if r["mode"] == mode]
    k = [int(r["model.moe.top_k"]) for r in sel]
    ax.plot(k, [figlib.num(r, "a2a_ms") for r in sel], "o-", color=figlib.PALETTE[j + 1],
            label=f"{mode}: all-to-all")
    ax.plot(k, [figlib.num(r, "time_ms") for r in sel], "s--", color=figlib.PALETTE[j + 1],
            label=f"{mode}: iteration", alpha=0.6)
    share.plot(k, [100 * figlib.num(r, "a2a_ms") / figlib.num(r, "time_ms") for r in sel], "o-",
               color=figlib.PALETTE[j + 1], label=mode)
ax.set_xlabel("top-k")
ax.set_ylabel("time [ms]")
ax.set_title("all-to-all and iteration time")
figlib.legend_outside(ax)
share.set_xlabel("top-k")
share.set_ylabel("all-to-all share of the iteration [%]")
share.set_ylim(0, 100)
figlib.legend_outside(share)
fig.suptitle(f"Fine-grained MoE, 64 experts, EP 32, 4x8 A40 ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
