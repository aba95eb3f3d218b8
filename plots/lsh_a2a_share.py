#!/usr/bin/python3
"""LSH-MoE: share of training time in all-to-all per model, on 16 GPUs, 32 GPUs, and 16 GPUs
with twice the experts.

    plots/lsh_a2a_share.py out/figures/lsh_a2a_share/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
by = {}
for r in rows:
    model, setup = r["case"].split("/")
    by[(model, setup)] = 100 * figlib.num(r, "a2a_ms") / figlib.num(r, "time_ms")
models = figlib.ordered(k[0] for k in by)
setups = figlib.ordered(k[1] for k in by)
names = {"16": "16 GPUs", "32": "32 GPUs", "16-2x": "16 GPUs, 2x experts"}
setup_of = {names.get(s, s): s for s in setups}  # legend name -> setup key
fig, ax = plt.subplots(figsize=(8.4, 3.6))
figlib.grouped_bars(ax, models, list(setup_of), lambda g, s: by[(g, setup_of[s])],
                    "all-to-all share of training [%]",
                    lambda g, s: f"{by[(g, setup_of[s])]:.0f}%")
ax.set_ylim(0, 100)
ax.set_title(f"Time in all-to-all, top-2 MoE training ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
