#!/usr/bin/python3
"""What if: speedup of each schedule over CDAC against cluster size, one panel per network
bandwidth.

    plots/what_if.py out/figures/what_if/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
column = "cluster.network.nic.bandwidth"
nets = figlib.ordered(r[column] for r in rows)
fig, axes = plt.subplots(1, len(nets), figsize=(4.3 * len(nets) + 1.2, 3.6), squeeze=False,
                         sharey=True)
for ax, net in zip(axes[0], nets):
    sel = [r for r in rows if r[column] == net]
    for j, s in enumerate(figlib.ordered(r["schedule"] for r in sel)):
        pts = [r for r in sel if r["schedule"] == s]
        ax.plot([int(figlib.num(r, "gpus")) for r in pts], [figlib.num(r, "speedup") for r in pts],
                "o-", color=figlib.PALETTE[j % len(figlib.PALETTE)], label=s)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("GPUs")
    ax.set_title(f"NICs at {net}", fontsize=10)
axes[0][0].set_ylabel("speedup over CDAC")
figlib.legend_outside(axes[0][-1], axes[0][:-1], fontsize=7)
fig.suptitle(f"DGX H100, GPT3-XL with 64 fine-grained experts, training ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
