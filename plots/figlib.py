"""Shared by the figure scripts of plots/: read a moesim summary.csv, save PNG and PDF.

Each figure script takes `summary.csv output.png` and writes output.png and output.pdf.
Nothing may overlap, whatever the data: legends go outside the axes (legend_outside), and save
lifts value labels clear of each other and of the bars, with room for them under the axes' top
(fit_labels).
"""
import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401  (re-exported for the scripts)
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

# One colour per schedule family, the same in every figure.
PALETTE = ["#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def args():
    """(rows, output path) from the command line, or exit with usage."""
    if len(sys.argv) != 3:
        sys.exit(f"usage: {Path(sys.argv[0]).name} summary.csv output.png")
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{sys.argv[1]}: no rows")
    return rows, Path(sys.argv[2])


def read_rows(path, required, script, what):
    """The rows of a CSV that must have the `required` columns, or exit naming what is missing
    and which moesim file (`what`) the script expects."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = set(required) - set(reader.fieldnames or [])
        if missing:
            sys.exit(f"{script}: {path}: missing columns {sorted(missing)}; expected {what}")
        return list(reader)


def num(row, key):
    """A numeric cell (0 when empty)."""
    return float(row[key]) if row.get(key) not in (None, "") else 0.0


def point(row):
    """The sweep point of a row: its label without the schedule."""
    return row["point"].rsplit("/", 1)[0]


def ordered(values):
    """Distinct values in first-seen order."""
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def moesim_label(rows):
    """'moesim, <implementation>' for titles: which framework's kernels the figure assumes."""
    names = ordered(r.get("implementation", "") for r in rows)
    names = [n for n in names if n]
    return "moesim, " + ", ".join(names) if names else "moesim"


def legend_outside(ax, sources=(), **kw):
    """The legend of ax, with the entries of the axes in `sources` too (each label once), drawn
    outside ax at its right: it then covers no bar, line or value label whatever the data.
    tight_layout (fit_labels, save) makes room for it."""
    handles, labels = [], []
    for a in (ax, *sources):
        for h, label in zip(*a.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    if not handles:
        return None
    kw.setdefault("fontsize", 8)
    return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                     borderaxespad=0.0, **kw)


LABEL_GAP = 3.0  # points kept between a value label and other labels, the bar it was lifted over,
# and the top of its axes


def _value_labels(ax):
    """The ax.annotate labels of ax that fit_labels may move: their offset from the point they
    label becomes `offset points`, starting from the offset they were drawn with."""
    labels = []
    for t in ax.texts:
        if (not isinstance(t, Annotation) or t.xycoords != "data" or not t.get_visible()
                or not t.get_text()):
            continue
        if not hasattr(t, "_figlib_offset"):
            if t.anncoords == "offset points":
                t._figlib_offset = tuple(t.xyann)
            elif t.anncoords == t.xycoords and tuple(t.xyann) == tuple(t.xy):
                t.anncoords = "offset points"
                t._figlib_offset = (0.0, 0.0)
            else:
                continue  # placed by its script somewhere else: leave it alone
        labels.append(t)
    return labels


def _overlap(a, b, tol=0.5):
    """Whether display boxes a and b overlap by more than tol pixels both ways."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol and min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def _widened(box, dx):
    """box made dx pixels wider on each side."""
    return Bbox.from_extents(box.x0 - dx, box.y0, box.x1 + dx, box.y1)


def _stagger(ax, labels, renderer):
    """Lift each label (lowest first) just above any label already placed that it overlaps or
    comes within LABEL_GAP of, and above any bar it overlaps."""
    points = ax.figure.dpi / 72.0  # pixels per point
    gap = LABEL_GAP * points
    bars = [p.get_window_extent(renderer) for p in ax.patches
            if isinstance(p, Rectangle) and p.get_visible() and p.get_width() and p.get_height()]
    placed = []  # the labels placed so far, widened by half the gap each side
    for t in labels:
        t.xyann = t._figlib_offset
    for t in sorted(labels, key=lambda t: (ax.transData.transform(t.xy)[1], t.xy[0])):
        box = t.get_window_extent(renderer)
        lift = 0.0
        while True:  # each lift clears one more obstacle for good, so this ends
            here = box.translated(0, lift)
            wide = _widened(here, gap / 2)
            hit = (next((o for o in placed if _overlap(wide, o)), None)
                   or next((b for b in bars if _overlap(here, b)), None))
            if hit is None:
                break
            lift = hit.y1 + gap - box.y0
        if lift:
            dx, dy = t._figlib_offset
            t.xyann = (dx, dy + lift / points)
        placed.append(_widened(box.translated(0, lift), gap / 2))


def _headroom(ax, labels, renderer):
    """Raise the top of a linear y axis so that every label stays inside the axes, LABEL_GAP
    under its top edge; True when the limit changed."""
    if ax.get_yscale() != "linear" or not labels:
        return False
    frame = ax.get_window_extent(renderer)
    gap = LABEL_GAP * ax.figure.dpi / 72.0
    lo, hi = ax.get_ylim()
    need = hi
    for t in labels:
        anchor = ax.transData.transform(t.xy)[1]
        above = t.get_window_extent(renderer).y1 - anchor  # label top over its point, pixels
        room = frame.height - gap - above
        if room <= 0.1 * frame.height:
            continue  # a label too tall for its axes: no limit would do
        y = t.xy[1]
        need = max(need, lo + (y - lo) * frame.height / room)
    if need <= hi + 1e-6 * (hi - lo):
        return False
    ax.set_ylim(lo, need)
    return True


def fit_labels(fig, rounds=8):
    """Lay fig out (tight_layout) so that the value labels its scripts drew with ax.annotate
    overlap nothing: a label that would overlap another label or a bar is lifted above it, and
    the y axis is raised so that every label stays inside its axes, under the title. The layout
    and the limits depend on each other, so it repeats until they settle."""
    for _ in range(rounds):
        fig.tight_layout()
        renderer = fig.canvas.get_renderer()
        changed = False
        for ax in fig.axes:
            labels = _value_labels(ax)
            if labels:
                _stagger(ax, labels, renderer)
                changed |= _headroom(ax, labels, renderer)
        if not changed:
            return


def save(fig, out):
    out.parent.mkdir(parents=True, exist_ok=True)
    fit_labels(fig)
    fig.savefig(out, dpi=150)
    fig.savefig(out.with_suffix(".pdf"))
    print(f"wrote {out} and {out.with_suffix('.pdf')}")


def grouped_bars(ax, groups, series, value, ylabel, annotate=None, legend=True):
    """Bars of value(group, series) side by side per group; annotate(group, series) on top; the
    legend outside at the right unless legend is False (say, a panel that shares another's)."""
    width = 0.8 / max(1, len(series))
    for j, s in enumerate(series):
        xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(groups))]
        ys = [value(g, s) for g in groups]
        bars = ax.bar(xs, ys, width, label=s, color=PALETTE[j % len(PALETTE)])
        if annotate:
            for b, g in zip(bars, groups):
                text = annotate(g, s)
                if text:
                    ax.annotate(text, (b.get_x() + b.get_width() / 2, b.get_height()),
                                ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if legend:
        legend_outside(ax)
