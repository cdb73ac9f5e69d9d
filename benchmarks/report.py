"""Print the README's issue-12 performance tables (Markdown) from benchmarks/results/film.json and load.json.

Run:  .venv/bin/python benchmarks/report.py [load.json load-200.json ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def film_table(film: dict) -> list[str]:
    real, phantom = film["real"], film["phantom"]
    rows = [f"| film raster 5100×4200 → PDF (median of {film['repeat']}) | before (reportlab + zlib 1) | now "
            "| floor / goal |", "|---|---|---|---|"]
    for name, f in (("real CT", real), ("phantom", phantom)):
        rows += [
            f"| {name}: PDF write, CPU s | {f['pdf_legacy_cpu_s']:.3f} | **{f['pdf_new16_cpu_s']:.3f}** "
            f"(= {f['pdf_new16_to_isal1_cpu']:.2f}× ISA-L 1; encoding alone {f['encode16_to_isal1_cpu']:.2f}×) "
            f"| ISA-L level 1 of the raw raster {f['isal1_raw_cpu_s']:.3f} s (zlib 1: {f['zlib1_raw_cpu_s']:.3f}); "
            "goal ≤ 1.5× |",
            f"| {name}: PDF write, wall s (fsynced) | {f['pdf_legacy_s']:.3f} | {f['pdf_new16_s']:.3f} | |",
            f"| {name}: PDF size, 16-bit | {f['pdf_legacy_MB']:.1f} MB | **{f['pdf_new16_MB']:.1f} MB** "
            f"({(1 - f['new16_to_legacy_size']) * 100:.0f} % smaller), bit-exact: {f['new16_bit_exact']} "
            "| goal ≥ 20 % smaller (real CT) |",
            f"| {name}: PDF size, `pdf_bits = 8` | | **{f['pdf_new8_MB']:.1f} MB** "
            f"({f['pdf_new8_MB'] / f['pdf_legacy_MB']:.2f}× before, {f['new8_to_new16_size']:.2f}× now at 16) "
            "| goal ≤ 0.3× |",
            f"| {name}: compose, CPU s | {f['compose_legacy_cpu_s']:.3f} | {f['compose_cpu_s']:.3f}: magnification "
            f"{f['compose_share_magnification'] * 100:.0f} %, "
            f"GSDF mapping {f['compose_share_gsdf_mapping'] * 100:.1f} %, "
            f"annotation {f['compose_share_annotation'] * 100:.1f} %, rest {f['compose_share_rest'] * 100:.0f} % | |",
        ]
    rows.append(f"| render worker peak RSS, real CT 16-bit (fresh process) | {real['worker_legacy_peak_MB']:.0f} MB "
                f"| **{real['worker_new16_peak_MB']:.0f} MB** (8-bit: {real['worker_new8_peak_MB']:.0f}; "
                f"{real['worker_after_import_MB']:.0f} after imports) | goal ≤ 120 MB |")
    return rows


def load_table(load: dict) -> list[str]:
    """Each "before" variant of the run (the pre-issue `legacy` path, a git-ref `baseline`) beside `new`, per round."""
    runs = load["runs"]
    befores = [v for v in ("legacy", "baseline") if any(r["variant"] == v for r in runs)]
    labels = {"legacy": "before (pre-issue 12 writer and GSDF)",
              "baseline": f"baseline `{load['baseline']['commit'][:7]}`" if load.get("baseline") else "baseline"}
    modes = [m for m in ("saturated", "paced") if any(r["mode"] == m for r in runs)]
    rows = [f"| {load['scus']} SCUs × {load['films_per_scu']} films | round | "
            + " | ".join(labels[v] for v in befores) + " | now | goal |",
            "|---|---|" + "---|" * len(befores) + "---|---|"]

    def pick(mode: str, variant: str, rnd: int) -> dict:
        return next(r for r in runs if r["mode"] == mode and r["variant"] == variant and r["round"] == rnd)

    def load_avg(r: dict) -> str:
        return f"{r.get('load_average_start', r['load_average']):.1f}→{r['load_average']:.1f}"

    def peak(group: dict, key: str) -> float:
        return max(r[key] for r in group.values())

    def worker(group: dict) -> float:  # the largest process besides the server (the resource tracker is ~12 MB)
        return max(max(r["other_processes_hwm_MB"]) for r in group.values())

    def row(text: str, rnd: int, cell: object, goal: str = "", bold: bool = False) -> str:
        """One table row: `cell(group)` for each before variant, then for `new` (in bold when `bold`)."""
        old = " | ".join(cell(groups[v]) for v in befores)  # type: ignore[operator]
        now = cell(groups["new"])  # type: ignore[operator]
        return f"| {text} | {rnd} | {old} | {f'**{now}**' if bold else now} | {goal} |"

    for rnd in sorted({r["round"] for r in runs}):
        groups = {v: {m: pick(m, v, rnd) for m in modes} for v in (*befores, "new")}
        if "saturated" in modes:
            rows += [
                row("saturated: films/hour", rnd, lambda g: f"{g['saturated']['films_per_hour']:,.0f}", "≥ 12,000",
                    True),
                row("saturated: Success → PDF median / p95", rnd, lambda g: f"{g['saturated']['latency_median_s']:.1f}"
                    f" / {g['saturated']['latency_p95_s']:.1f} s"),
            ]
        if "paced" in modes:
            rows += [
                row(f"paced at {load['paced_rate_films_per_hour']:,.0f}/h: films/hour reached", rnd,
                    lambda g: f"{g['paced']['films_per_hour']:,.0f}"),
                row("paced: Success → PDF median / p95", rnd, lambda g: f"{g['paced']['latency_median_s']:.1f} / "
                    f"{g['paced']['latency_p95_s']:.1f} s", "p95 ≤ 2 s", True),
            ]
        for text, key in (("CPU s per film, server tree (server + workers)", "tree_cpu_s_per_film"),
                          ("… of which the server process", "server_process_cpu_s_per_film"),
                          ("… of which render workers", "render_workers_cpu_s_per_film"),
                          ("CPU s per film, the SCUs (dcmprscu)", "scu_cpu_s_per_film")):
            if all(key in r for g in groups.values() for r in g.values()):
                rows.append(row(text, rnd, lambda g, k=key: f"{statistics.mean(r[k] for r in g.values()):.2f}",
                                bold=True))
        rows += [
            row("peak RSS of the process tree (PSS)", rnd, lambda g: f"{peak(g, 'peak_tree_rss_MB'):.0f} "
                f"({peak(g, 'peak_tree_pss_MB'):.0f}) MB", "≤ 300 MB", True),
            row("peak RSS: server process / each render worker", rnd,
                lambda g: f"{peak(g, 'server_rss_hwm_MB'):.0f} / {worker(g):.0f} MB", "≤ 120 / ≤ 120 MB", True),
            row("load average (1 min) at start→end of the runs", rnd,
                lambda g: ", ".join(load_avg(r) for r in g.values())),
        ]
    return rows


def main() -> int:
    film = json.loads((RESULTS / "film.json").read_text())
    print("\n".join(film_table(film)))
    for name in sys.argv[1:] or ["load.json"]:
        load_path = RESULTS / name
        if load_path.exists():
            print()
            print("\n".join(load_table(json.loads(load_path.read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
