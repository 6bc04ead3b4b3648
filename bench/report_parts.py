"""README sections and charts for the parts users ask about (issue 16): real page, static files,
slow clients, release time, a peer proxy, and the hello-world gap. bench/report.py calls these.
Each section reads only its part's results (results.json); a part not run yet is left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PARTS = ("page", "static", "slow", "release", "peer", "gap")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bars(ax: Any, groups: list[str], series: dict[str, list[float]], log: bool = False, fmt: str = "{:,.0f}") -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(groups))]
        ax.bar(xs, values, width, label=name)
        for x, v in zip(xs, values):
            ax.text(x, v, fmt.format(v), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8)


def charts(result: dict[str, Any], out: Path) -> list[str]:
    """One PNG per part that has results; returns the file names written."""
    plt = _plt()
    written = []
    if p := result.get("page"):
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        levels = [f"c{c}" for c in p["levels"]]
        _bars(a, levels, {k: [p["setups"][k][c]["rps"] for c in levels] for k in ("stack", "bare")})
        _bars(b, levels, {k: [p["setups"][k][c]["p99_ms"] for c in levels] for k in ("stack", "bare")}, fmt="{:.1f}")
        a.set_title("/page req/s")
        b.set_title("/page p99 ms")
        fig.suptitle(f"Real page (40 rows from PostgreSQL, Jinja2): stack / bare = {', '.join(f'{v}' for v in p['ratio'].values())}")
        written.append(_save(plt, fig, out / "page.png"))
    if s := result.get("static"):
        fig, ax = plt.subplots(figsize=(8, 4))
        kinds = list(s["files"])
        c = f"c{s['levels'][0]}"
        _bars(ax, [f"{k} ({s['files'][k]['bytes'] // 1024} KiB)" for k in kinds],
              {w: [s["setups"][f"{w} {k}"][c]["rps"] for k in kinds] for w in ("nginx", "flask")}, log=True)
        ax.set_title(f"Static files, req/s ({c}, log scale): Nginx / Flask = "
                     + ", ".join(f"{k} {s['ratio'][k][c]}×" for k in kinds))
        written.append(_save(plt, fig, out / "static.png"))
    if sl := result.get("slow"):
        fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
        cases = ["unloaded"] + [f"{m} {n}" for n in sl["counts"] for m in sl["modes"]]
        by = {t: [sl["setups"][f"{t} {case}"] for case in cases] for t in ("stack", "bare")}
        _bars(a, cases, {t: [r["rps"] for r in rs] for t, rs in by.items()})
        _bars(b, cases, {t: [r["p99_ms"] for r in rs] for t, rs in by.items()}, log=True, fmt="{:.0f}")
        a.set_title("fast clients' req/s (wrk -c32, Hello World)")
        b.set_title("fast clients' p99 ms (log)")
        written.append(_save(plt, fig, out / "slow.png"))
    if r := result.get("release"):
        fig, ax = plt.subplots(figsize=(8, 4))
        for i, (case, runs) in enumerate(r["runs"].items()):
            ax.scatter([i] * len(runs), [x["new_code_s"] for x in runs], label=f"deps {case}", s=40)
        ax.set_xticks(range(len(r["runs"])))
        ax.set_xticklabels([f"deps {c}" for c in r["runs"]])
        ax.set_ylabel("s from deploy start to new code answering")
        ax.set_ylim(bottom=0)
        ax.set_title("Release time (each dot one release)")
        written.append(_save(plt, fig, out / "release.png"))
    if pe := result.get("peer"):
        fig, ax = plt.subplots(figsize=(8, 4))
        c = f"c{pe['levels'][0]}"
        whats = ["hello", "page"]
        _bars(ax, ["Hello World", "/page"], {n: [pe["setups"][f"{n} {w}"][c]["rps"] for w in whats] for n in ("nginx", "caddy", "bare")})
        ax.set_title(f"Nginx vs Caddy in front of the same gunicorn, req/s ({c})")
        written.append(_save(plt, fig, out / "peer.png"))
    if g := result.get("gap"):
        vs = [v for v in g["variants"] if v["conns"] == g["levels"][0]]
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(vs) + 1.5))
        ax.barh([v["label"] for v in vs][::-1], [v["vs_rendered"] for v in vs][::-1],
                color=["tab:green" if v["verdict"] > 0 else "tab:red" if v["verdict"] < 0 else "tab:gray" for v in vs][::-1])
        ax.axvspan(0.9, 1.1, color="0.9", zorder=0)
        ax.axvline(1.0, color="k", lw=0.8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("req/s relative to the stack as rendered (grey band: ±10 % noise)")
        written.append(_save(plt, fig, out / "gap.png"))
    return written


def _save(plt: Any, fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def _ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def targets(result: dict[str, Any]) -> list[str]:
    """The table of issue 16's targets, from whatever parts have run."""
    rows = []
    if p := result.get("page"):
        rows.append(f"| real page: stack ≥ {p['target']} × gunicorn alone | " + ", ".join(f"{v} ({k})" for k, v in p["ratio"].items())
                    + f" | {_ok(p['met'])} |")
    if s := result.get("static"):
        lvl = f"c{s['levels'][0]}"
        rows.append(f"| static files: Nginx ≥ {s['target']:g} × Flask, cache headers right | "
                    + ", ".join(f"{k} {v[lvl]}×" for k, v in s["ratio"].items())
                    + ("; headers " + ("right" if not s["headers"]["problems"] else "wrong: " + "; ".join(s["headers"]["problems"])))
                    + f" | {_ok(s['met'])} |")
    if sl := result.get("slow"):
        rows.append(f"| slow clients: stack keeps ≥ {sl['target']} × its unloaded req/s | "
                    + ", ".join(f"{k} {v}" for k, v in sl["kept"]["stack"].items()) + f" | {_ok(sl['met'])} |")
    if r := result.get("release"):
        rows.append("| release: 0 failed requests | " + ", ".join(f"deps {k}: {v['failed']} of {v['requests']:,}" for k, v in r["summary"].items())
                    + f" | {_ok(r['met'])} |")
    if g := result.get("gap"):
        for k, f in g["floor"].items():
            rows.append(f"| hello world: stack ≥ 0.9 × best gunicorn alone ({k}) | {f['ratio']} (wrk pinned to its own core: "
                        f"{f['pinned_ratio']}) | {_ok(f['ratio'] >= 0.9)} |")
    if not rows:
        return []
    return ["| target | measured | |", "|---|---|---|", *rows]
