#!/usr/bin/python3
"""BigMac: stacked training breakdown (all-to-all, TP/SP communication, the rest) per (EP, TP),
CDAC against DCCA, speedups annotated.

    plots/bigmac_parallelism_breakdown.py out/figures/bigmac_parallelism_breakdown/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
fig, ax = plt.subplots(figsize=(10.5, 4))
labels, x = [], 0
for i, r in enumerate(rows):
    t = figlib.num(r, "time_ms") / 1e3
    a2a = figlib.num(r, "a2a_exposed_ms") / 1e3
    tp = min(figlib.num(r, "tp_comm_ms") / 1e3, t - a2a)
    rest = max(0.0, t - a2a - tp)
    ax.bar(i, a2a, color="#d62728", label="all-to-all (exposed)" if i == 0 else None)
    ax.bar(i, tp, bottom=a2a, color="#ff7f0e", label="TP/SP communication" if i == 0 else None)
    ax.bar(i, rest, bottom=a2a + tp, color="#7f7f7f", label="the rest" if i == 0 else None)
    if r["schedule"] != rows[0]["schedule"]:
        ax.annotate(f"{figlib.num(r, 'speedup'):.2f}x", (i, t), ha="center", va="bottom",
                    fontsize=8)
    labels.append(f"{figlib.point(r)}\n{r['schedule']}")
ax.set_xticks(range(len(rows)))
ax.set_xticklabels(labels, fontsize=7)
ax.set_ylabel("time per iteration [s]")
ax.set_title(f"Training breakdown by (EP, TP), GPT3-XL base, 4x8 A40 ({figlib.moesim_label(rows)})", fontsize=10)
figlib.legend_outside(ax)
figlib.save(fig, out)
