#!/usr/bin/python3
"""ScMoE: one SwinV2-MoE-S block pair per cluster and schedule: compute, exposed and hidden
all-to-all (hatched, beside its bar); the communication share and its hidden part printed above
each bar.

    plots/scmoe_overlap.py out/figures/scmoe_overlap/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
clusters = figlib.ordered(figlib.point(r) for r in rows)
fig, axes = plt.subplots(1, len(clusters), figsize=(4.8 * len(clusters) + 1.3, 3.8),
                         squeeze=False)
for ax, c in zip(axes[0], clusters):
    sel = [r for r in rows if figlib.point(r) == c]
    for i, r in enumerate(sel):
        t = figlib.num(r, "time_ms")
        a2a = figlib.num(r, "a2a_ms")
        exposed = figlib.num(r, "a2a_exposed_ms")
        rest = max(0.0, t - exposed)
        ax.bar(i, rest, 0.6, color="#1f77b4", label="compute and the rest" if i == 0 else None)
        ax.bar(i, exposed, 0.6, bottom=rest, color="#d62728",
               label="all-to-all exposed" if i == 0 else None)
        ax.bar(i + 0.375, a2a - exposed, 0.15, color="#d62728", alpha=0.35, hatch="//",
               label="all-to-all hidden" if i == 0 else None)
        ax.annotate(f"{100 * a2a / t:.0f}% comm\n{100 * (a2a - exposed) / max(a2a, 1e-12):.0f}% hidden",
                    (i, t), ha="center", va="bottom", fontsize=6)
    ax.set_xticks(range(len(sel)))
    ax.set_xticklabels([r["schedule"] for r in sel], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("time per block pair [ms]")
    ax.set_title(c, fontsize=9)
figlib.legend_outside(axes[0][-1], axes[0][:-1], fontsize=7)
fig.suptitle(f"SwinV2-MoE-S stage-3 block pair, training ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
