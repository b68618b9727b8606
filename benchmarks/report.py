"""Summaries of the raw timings, the targets of issue 5, and the Markdown table."""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ["summarize", "evaluate_targets", "markdown"]

TORCH_TARGETS = {
    "train 784-100-10 b32 Adam": 1.8,
    "train 784-100-10 b32 SGD+momentum": 2.0,
    "train 784-256-10 b128 Adam": 1.3,
    "train 784-1024-1024-10 b256 Adam": 1.0,
    "train char-LSTM H128 T64 b32 Adam": 1.0,
    "train char-LSTM H256 T64 b32 Adam": 1.0,
    "train LeNet-5 b64 Adam": 1.0,
    "train conv32-conv64 b64 Adam": 1.0,
}
MATMUL_SHARE_TARGETS = {"train 784-1024-1024-10 b256 Adam": 0.8}
SKLEARN_TARGET = 1.5


def summarize(entry: dict[str, Any], peak_gflops: float) -> None:
    """Add median / min / max samples/s, GFLOP/s, % of peak and ratios to ``entry`` in place."""
    flops = entry["flops_per_sample"]
    for result in entry["systems"].values():
        rates = result.get("samples_per_s")
        if not rates:
            continue
        median = statistics.median(rates)
        result.update(
            median=median,
            min=min(rates),
            max=max(rates),
            gflops=median * flops / 1e9,
            percent_of_peak=100 * median * flops / 1e9 / peak_gflops,
        )
    ours = entry["systems"].get("nn101", {})
    for other in ("torch", "sklearn"):
        theirs = entry["systems"].get(other, {})
        if ours.get("median") and theirs.get("median"):
            entry[f"ratio_to_{other}"] = ours["median"] / theirs["median"]
            # best run against best run: on a busy machine, noise only ever adds time
            entry[f"ratio_to_{other}_best"] = ours["max"] / theirs["max"]


def evaluate_targets(
    entries: list[dict[str, Any]],
    profiles: list[dict[str, Any]],
    mnist_memory: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """Each target of issue 5 that this run can check: what is required, what was measured."""
    targets = []
    by_name = {e["name"]: e for e in entries}
    for name, required in TORCH_TARGETS.items():
        ratio = by_name.get(name, {}).get("ratio_to_torch")
        if ratio is not None:
            targets.append(_target(f"{name}: nn101 / PyTorch", required, ratio))
    for p in profiles:
        required = MATMUL_SHARE_TARGETS.get(p["config"])
        if required is not None:
            share = p["share"]["matrix products"]
            targets.append(_target(f"{p['config']}: share in matrix products", required, share))
    for e in entries:
        ratio = e.get("ratio_to_sklearn")
        if ratio is not None:
            targets.append(_target(f"{e['name']}: nn101 / scikit-learn", SKLEARN_TARGET, ratio))
    if mnist_memory and "overhead_mb" in mnist_memory:
        targets.append(
            {
                "target": "MNIST training peak RSS - baseline - dataset (MB)",
                "required": f"<= {mnist_memory['budget_mb']:g}",
                "measured": round(mnist_memory["overhead_mb"], 1),
                "holds": bool(mnist_memory["holds"]),
            }
        )
    return targets


def _target(label: str, required: float, measured: float) -> dict[str, Any]:
    return {
        "target": label,
        "required": f">= {required:g}",
        "measured": round(measured, 3),
        "holds": bool(measured >= required),
    }


def _ratio(entry: dict[str, Any], other: str) -> str:
    if f"ratio_to_{other}" not in entry:
        return ""
    return f"{entry[f'ratio_to_{other}']:.2f}; {entry[f'ratio_to_{other}_best']:.2f}"


def _load(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _memory(result: dict[str, Any]) -> str:
    memory = result.get("memory")
    if not memory:
        return ""
    if "error" in memory:
        return "error"
    return f"{memory['peak_mb']:.0f} (+{memory['delta_mb']:.0f})"


def markdown(results: dict[str, Any]) -> str:
    """The whole report as Markdown: header, the speed table, targets, memory, profile."""
    meta = results["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    lines = [
        f"Run of {meta['date']} on {meta['cpu']} ({meta['logical_cpus']} logical CPUs), "
        f"{meta['threads']} threads for every system ({meta['threads_from']}); {versions}.",
        f"Data: {meta['data']}. {meta['repeats']} repeats per system, systems alternating; "
        f"float32 matmul peak measured in this run: {meta['matmul_peak_gflops']:.1f} GFLOP/s. "
        f"Load average (1 min) at the start {_load(meta.get('load_average_1min'))}, at the end "
        f"{_load(meta.get('load_average_1min_end'))}. Suite time: "
        f"{meta['wall_seconds']:.0f} s.",
        "",
        "| Configuration | System | samples/s (median) | min-max | x PyTorch (median; best) "
        "| x sklearn (median; best) "
        "| GFLOP/s | % of peak | peak RSS MB (+ during run) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results["configs"]:
        for system, result in entry["systems"].items():
            if "median" not in result:
                lines.append(f"| {entry['name']} | {system} | {result.get('skipped', '-')} |||||||")
                continue
            to_torch = to_sklearn = ""
            if system == "nn101":
                to_torch, to_sklearn = _ratio(entry, "torch"), _ratio(entry, "sklearn")
            lines.append(
                f"| {entry['name']} | {system} | {result['median']:,.0f} "
                f"| {result['min']:,.0f}-{result['max']:,.0f} | {to_torch} | {to_sklearn} "
                f"| {result['gflops']:.1f} | {result['percent_of_peak']:.0f}% "
                f"| {_memory(result)} |"
            )
    if results.get("targets"):
        lines += ["", "| Target | Required | Measured | Holds |", "|---|---:|---:|---|"]
        for t in results["targets"]:
            mark = "yes" if t["holds"] else "**no**"
            lines.append(f"| {t['target']} | {t['required']} | {t['measured']} | {mark} |")
    mnist = results.get("mnist_memory")
    if mnist:
        if "error" in mnist:
            lines += ["", f"MNIST memory target: not measured ({mnist['error']})."]
        else:
            lines += [
                "",
                f"MNIST memory ({mnist['setup']}): baseline after `import nn101` "
                f"{mnist['baseline_mb']:.0f} MB, dataset {mnist['dataset_mb']:.0f} MB, peak "
                f"{mnist['peak_mb']:.0f} MB (after loading {mnist['peak_after_load_mb']:.0f} MB) "
                f"-> {mnist['overhead_mb']:.0f} MB over baseline + dataset "
                f"(budget {mnist['budget_mb']:.0f} MB).",
            ]
    if results.get("profile"):
        from benchmarks.profile import profile_markdown

        lines += [
            "",
            "Profile of one nn101 training step:",
            "",
            profile_markdown(results["profile"]),
        ]
    if results.get("recurrent_profile"):
        from benchmarks.recurrent import recurrent_profile_markdown

        lines += ["", "Profile of one nn101 char-model training step (tokens: 32 x 64):", ""]
        lines.append(recurrent_profile_markdown(results["recurrent_profile"]))
    if results.get("cnn_profile"):
        from benchmarks.cnn import cnn_profile_markdown

        lines += ["", "Profile of one nn101 CNN training step (batch 64; share and µs):", ""]
        lines.append(cnn_profile_markdown(results["cnn_profile"]))
    return "\n".join(lines) + "\n"
