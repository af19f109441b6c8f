"""The benchmark as one picture: per model, native time ÷ the faster of onnxruntime and LiteRT,
float and int8, one bar per batch, with the goal lines (0.8 at batch 1, 1.0 at batch 8 and 64)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.bench.engines import LABELS
from edgecnn.bench.tables import GOAL_LATENCY
from edgecnn.runtime.files import staged_file

COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b2")


def plot(results: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

    comparisons = results["comparisons"]
    dtypes = [d for d in ("float", "int8") if any(c["dtype"] == d for c in comparisons)] or ["float"]
    models = list(dict.fromkeys(c["model"] for c in comparisons))
    batches = sorted({c["batch"] for c in comparisons}) or [1]
    status = {(r["model"], r["dtype"], r["engine"]): r["status"] for r in results["engine_status"]}
    by_key = {(c["model"], c["dtype"], c["batch"]): c for c in comparisons}
    ratios = [c["native_vs_best"] for c in comparisons if c["native_vs_best"]]
    low, high = (min([*ratios, GOAL_LATENCY]) / 1.4, max([*ratios, 1.0]) * 2.2) if ratios else (0.3, 3.0)

    width = 0.8 / len(batches)
    fig, axes = plt.subplots(
        len(dtypes), 1, figsize=(max(7.0, 1.1 * len(models) + 2.5), 3.6 * len(dtypes)), squeeze=False
    )
    for ax, dtype in zip(axes[:, 0], dtypes):
        xs = np.arange(len(models))
        labelled = set()
        for j, batch in enumerate(batches):
            offsets = xs - 0.4 + width * (j + 0.5)
            for x, model in zip(offsets, models):
                c = by_key.get((model, dtype, batch))
                ratio = c["native_vs_best"] if c else None
                if ratio:
                    ax.bar(
                        x,
                        ratio,
                        width * 0.92,
                        color=COLORS[j % len(COLORS)],
                        label=None if batch in labelled else f"batch {batch}",
                    )
                    labelled.add(batch)
                    ax.text(x, ratio * 1.04, f"{ratio:.2f}", ha="center", va="bottom", fontsize=6.5, rotation=90)
                    best = c["best_other"]
                    ax.text(x, low * 1.05, LABELS[best][0], ha="center", va="bottom", fontsize=6, color="#555")
        for i, model in enumerate(models):
            state = status.get((model, dtype, "native"))
            if state and state != "ok":
                ax.text(
                    i,
                    np.sqrt(low * high),
                    "not compiled" if state == "not compiled" else state,
                    ha="center",
                    va="center",
                    fontsize=8,
                    rotation=90,
                    color="#a00",
                )
            elif not any(by_key.get((model, dtype, b)) for b in batches):
                ax.text(
                    i, np.sqrt(low * high), "no model", ha="center", va="center", fontsize=8, rotation=90, color="#777"
                )
        ax.axhline(1.0, color="k", linewidth=1, label="1.0: as fast as the faster other")
        ax.axhline(GOAL_LATENCY, color="k", linewidth=1, linestyle="--", label=f"{GOAL_LATENCY}: goal at batch 1")
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        steps = (
            (0.1, 0.2, 0.3, 0.5, 0.8, 1, 1.5, 2, 3, 5, 10, 20, 50, 100)
            if high / low < 20
            else (0.1, 0.2, 0.5, 0.8, 1, 2, 5, 10, 20, 50, 100, 200)
        )  # fewer when the range is wide
        ticks = [t for t in steps if low <= t <= high]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(-0.6, len(models) - 0.4)
        ax.set_xticks(xs)
        ax.set_xticklabels(models, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel("native time ÷ faster other\n(lower is better)", fontsize=8)
        ax.set_title(dtype, fontsize=10, loc="left")
        ax.grid(axis="y", which="major", alpha=0.25)
    legend = {}
    for ax in axes[:, 0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.legend(legend.values(), legend.keys(), loc="lower center", ncol=len(legend), fontsize=7, frameon=False)
    m = results["machine"]
    load = m.get("load_start")
    fig.suptitle(
        f"edgecnn ÷ the faster of onnxruntime (O) and LiteRT (L), letter under each bar; "
        f"{results['threads']} thread(s), medians\n{m['cpu']}"
        + (f", load average {load[0]:.1f} at start" if load else ""),
        fontsize=8.5,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    with staged_file(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(out)
