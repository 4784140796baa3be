# SPDX-License-Identifier: MIT
"""``plot``: predicted life (with its band) against the truth for sample vehicles."""

from __future__ import annotations

from typing import Any

import numpy as np

from modellab.policy import OIL_DUE_PCT, PAD_THRESHOLD_MM


def plot(report: dict[str, Any], out_dir: Any) -> list[Any]:
    """oil_life.png and brake_pads.png: predicted (with band) against true, sample vehicles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    oil_traces = report["traces"]["oil"]
    fig, axes = plt.subplots(max(len(oil_traces), 1), 1, figsize=(9, 2.4 * max(len(oil_traces), 1)))
    for ax, (vin, tr) in zip(np.atleast_1d(axes), oil_traces.items(), strict=False):
        ax.fill_between(tr["day"], tr["low"], tr["high"], alpha=0.25, label="predicted 10-90 %")
        ax.plot(tr["day"], tr["mid"], label="predicted")
        ax.plot(tr["day"], tr["true"], "k--", label="true")
        for i, day in enumerate(tr.get("sample_day", [])):
            ax.axvline(day, color="grey", lw=0.8, ls=":", label=None if i else "oil sample")
        ax.axhline(OIL_DUE_PCT, color="tab:red", lw=0.8)
        ax.set_ylabel("oil life %")
        ax.set_title(vin, fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="upper right")
    np.atleast_1d(axes)[-1].set_xlabel("days since enrollment")
    fig.tight_layout()
    paths.append(out_dir / "oil_life.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)

    pad_traces = report["traces"]["pads"]
    fig, axes = plt.subplots(max(len(pad_traces), 1), 1, figsize=(9, 2.4 * max(len(pad_traces), 1)))
    for ax, (vin, tr) in zip(np.atleast_1d(axes), pad_traces.items(), strict=False):
        true, pred = np.array(tr["true"]).reshape(-1, 2), np.array(tr["pred"]).reshape(-1, 2)
        for a, (name, color) in enumerate((("front", "tab:blue"), ("rear", "tab:orange"))):
            ax.plot(tr["day"], pred[:, a], color=color, label=f"{name} predicted")
            ax.plot(tr["day"], true[:, a], "--", color=color, label=f"{name} true")
        if tr["visit_day"] is not None:
            ax.axvline(tr["visit_day"], color="grey", lw=0.8, label="shop measurement")
        ax.axhline(PAD_THRESHOLD_MM, color="tab:red", lw=0.8)
        ax.set_ylabel("pad mm")
        ax.set_title(vin, fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper right", ncol=3)
    np.atleast_1d(axes)[-1].set_xlabel("days since enrollment")
    fig.tight_layout()
    paths.append(out_dir / "brake_pads.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    return paths
