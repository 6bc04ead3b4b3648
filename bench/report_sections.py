"""Markdown for the parts users ask about (issue 16); bench/report.py puts them into docs/benchmarks/README.md.
Every number comes from results.json; the prose says what was measured and how, not what to conclude."""

from __future__ import annotations

from typing import Any

from bench import stats
from bench.report_parts import _ok, targets

CMD = "sudo .venv/bin/python -m bench --parts {}"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _p99(row: dict[str, Any]) -> Any:
    """p99 of a run that served nothing is not 0 ms."""
    return row["p99_ms"] if row["rps"] else "—"


def _cpu(row: dict[str, Any]) -> str:
    cpu = row.get("cpu_us", {})
    return ", ".join(f"{k} {v:g}" for k, v in cpu.items()) + f" (total {sum(cpu.values()):.0f})"


def page(p: dict[str, Any]) -> list[str]:
    out = ["## Real page", "", f"`{CMD.format('page')}`. The benchmark app's `/page` (bench/apps/page): 40 rows read from the "
           f"stack's PostgreSQL machine, rendered by a Jinja2 template ({p['bytes']:,} bytes). **stack**: Nginx → unix socket → "
           f"gunicorn as rendered ({p['host']['shape']}); **bare**: the same release's gunicorn (same venv, config, workers and "
           f"sandbox) alone on 127.0.0.1. wrk from the web machine's loopback, {p['rounds']} interleaved rounds × {p['seconds']:g} s, "
           f"medians. Versions: {p['host']['versions']}.", "",
           "| setup | " + " | ".join(f"req/s c{c} | p50 ms | p99 ms" for c in p["levels"]) + " | CPU µs/request (c" + str(p["levels"][0]) + ") |",
           "|---|" + "---:|---:|---:|" * len(p["levels"]) + "---|"]
    for k in ("stack", "bare"):
        row = p["setups"][k]
        out.append(_row([k, *[x for c in p["levels"] for x in (f"{row[f'c{c}']['rps']:,}", row[f"c{c}"]["p50_ms"], row[f"c{c}"]["p99_ms"])],
                         _cpu(row[f"c{p['levels'][0]}"])]))
    out += ["", f"stack / bare: {', '.join(f'{v} ({k})' for k, v in p['ratio'].items())}; target ≥ {p['target']} — {_ok(p['met'])}.",
            "", page_floor(p), "", "![page](page.png)"]
    return out


def page_floor(p: dict[str, Any]) -> str:
    """The ratio the measured CPU per request allows when both sides are CPU-bound on the same cores."""
    c = f"c{p['levels'][0]}"
    f = stats.cpu_floor(p["setups"]["bare"][c]["cpu_us"], p["setups"]["stack"][c]["cpu_us"], 2)
    budget = round(f["bare_us"] / p["target"] - f["bare_us"], 1)
    return (f"**The CPU floor ({c}).** Every process's CPU per request: bare {f['bare_us']} µs, the stack {f['stack_us']} µs "
            f"(Nginx {f['proxy_us']} µs of it; the stack's wrk spends less, its connections are kept alive). Both sides saturate "
            f"the same 2 cores, so the ratio cannot exceed {f['bare_us']} / {f['stack_us']} = {f['shared_ratio']}. A ratio of "
            f"{p['target']} allows the stack {budget} µs more than bare per request; it adds {f['added_us']} µs, Nginx alone "
            f"{f['proxy_us']} µs. With the generator on its own core the servers' costs decide: {f['pinned_ratio']}.")


def static(s: dict[str, Any]) -> list[str]:
    c = f"c{s['levels'][0]}"
    out = ["## Static files", "", f"`{CMD.format('static')}`. Nginx serving the live release's static folder the way the release "
           "agent sets it up (`location ^~ /static/` aliasing the release's folder, Cache-Control, security headers) against the "
           f"same release's gunicorn alone serving them through Flask's static route. wrk -{c}, {s['rounds']} interleaved rounds × "
           f"{s['seconds']:g} s.", "",
           "| file | bytes | Nginx req/s | Flask req/s | Nginx / Flask | Nginx p99 ms | Flask p99 ms | CPU µs/request: Nginx, Flask | servers' CPU ratio |",
           "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for kind, f in s["files"].items():
        n, fl = s["setups"][f"nginx {kind}"][c], s["setups"][f"flask {kind}"][c]
        server = s.get("server_cpu_ratio", {}).get(kind, {}).get(c, "")
        out.append(_row([f"`{f['path']}`", f"{f['bytes']:,}", f"{n['rps']:,}", f"{fl['rps']:,}", f"{s['ratio'][kind][c]}×",
                         n["p99_ms"], fl["p99_ms"], f"{_cpu(n)}; {_cpu(fl)}", f"{server}×" if server else ""]))
    out += ["", "The last column leaves the load generator out: Flask's CPU per request over Nginx's. On these 2 shared cores "
            "wrk's own cost (reading every byte, and a new connection per request to gunicorn's sync workers, which do not "
            "keep connections alive) bounds the measured ratio.", "", *static_floor(s)]
    out += ["", "Headers through Nginx (checked before measuring):", "",
            "| file | Cache-Control | ETag | Last-Modified | If-None-Match | nosniff | release id | Flask's Cache-Control |",
            "|---|---|---|---|---|---|---|---|"]
    for kind in s["files"]:
        h = s["headers"][kind]
        out.append(_row([kind, f"`{h['cache_control']}`", "yes" if h["etag"] else "**no**", "yes" if h["last_modified"] else "**no**",
                         h["conditional_status"], h["x_content_type_options"] or "**missing**", "yes" if h["release"] else "**no**",
                         f"`{h['flask_cache_control']}`"]))
    out += ["", f"Target ≥ {s['target']:g}× with correct cache headers — {_ok(s['met'])}"
            + (f" (header problems: {'; '.join(s['headers']['problems'])})" if s["headers"]["problems"] else "") + ".",
            "", "![static](static.png)"]
    return out


def static_floor(s: dict[str, Any]) -> list[str]:
    """Per file: the ratio CPU allows (all processes), and the ceiling even a free Nginx would hit (wrk's reading alone)."""
    c = f"c{s['levels'][0]}"
    out = [f"**The CPU floor ({c}).** Throughput on 2 shared cores is 2 s ÷ CPU per request:"]
    for kind in s["files"]:
        n, fl = s["setups"][f"nginx {kind}"][c]["cpu_us"], s["setups"][f"flask {kind}"][c]["cpu_us"]
        f = stats.cpu_floor(n, fl, 2)  # "bare" = Nginx here, "stack" = Flask: the ratio Flask/Nginx inverted
        wrk = n.get("wrk", 0.0)
        ceiling = stats.ratio(f["stack_us"], wrk, 1) if wrk else 0.0
        out.append(f"- {kind}: the Flask setup {f['stack_us']} µs, the Nginx setup {f['bare_us']} µs (wrk's share {wrk:g}) → at most "
                   f"{stats.ratio(f['stack_us'], f['bare_us'], 1)}×; even a Nginx costing nothing stops at {ceiling}× "
                   f"(wrk reading the file); {s['target']:g}× needs Nginx + wrk ≤ {round(f['stack_us'] / s['target'], 1)} µs.")
    return out


def slow(sl: dict[str, Any]) -> list[str]:
    cases = ["unloaded"] + [f"{m} {n}" for n in sl["counts"] for m in sl["modes"]]
    out = ["## Slow clients", "", f"`{CMD.format('slow')}`. While N clients (bench/slowclients.py, in the web machine's "
           "network namespace, loopback only, bounded) either **trickle** a request one byte a second (never finishing their "
           "headers) or **slowread** a 1 MiB answer of the app at 1 KiB a second, wrk -c"
           f"{sl['connections']} measures Hello World. {sl['rounds']} interleaved rounds × {sl['seconds']:g} s. "
           "**stack**: Nginx → gunicorn sync as rendered; **bare**: the same gunicorn sync, same workers, alone.", "",
           "| target | slow clients | req/s | p99 ms | errors | kept of unloaded | slow clients cut by the server | slow clients' own CPU s |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for t in ("stack", "bare"):
        for case in cases:
            row = sl["setups"][f"{t} {case}"]
            loaded = case != "unloaded"
            cut = sum(x.get("closed_by_server", 0) for x in row["slow"]) if loaded else ""
            cpu = max((x.get("cpu_s", 0.0) for x in row["slow"]), default=0.0) if loaded else ""
            rps = f"{row['rps']:,}" if row["rps"] else f"0 (no answer in {sl['seconds']:g} s)"
            out.append(_row([t, case, rps, _p99(row), row["errors"], sl["kept"][t].get(case, 1.0) if loaded else "", cut, cpu]))
    out += ["", "wrk starts once the slow clients are connected and the host is back under 0.5 busy cores (at most 20 s: "
            "the slow readers' answers are buffered by then), so the figures are the steady state with N clients holding on. "
            "The slow clients run on the same 2 cores (their own CPU is in the last column).", "",
            f"Target: the stack keeps ≥ {sl['target']} × its unloaded req/s — {_ok(sl['met'])}.", "", "![slow](slow.png)"]
    return out


def release(r: dict[str, Any]) -> list[str]:
    out = ["## Release time", "", f"`{CMD.format('release')}`. {r['n_each']} releases each, alternating: **unchanged** "
           "dependencies (code only: the agent reuses the live venv) and **changed** dependencies (requirements.txt gains a pin: "
           "a new venv, wheels from the host's shared pip cache). Each is `launchpad deploy`'s path "
           "(launchpad.local.release.deploy: build, publish to the store, poke the agent, wait for the id). "
           "Clock: from the deploy's start to the first `GET /version` through Nginx naming the new code (polled every 50 ms). "
           "A steady 100 req/s (new connection each) runs from before the deploy until the old slot is retired; any non-200 "
           "or socket error is a failure.", "",
           "| dependencies | p50 s | max s | failed requests |", "|---|---:|---:|---:|"]
    for case, s in r["summary"].items():
        out.append(_row([case, s["p50_s"], s["max_s"], f"{s['failed']} of {s['requests']:,}"]))
    out += ["", "Each release (agent steps from its journal, seconds each):", "",
            "| deps | release | new code s | deploy returned s | agent s | agent steps |", "|---|---|---:|---:|---:|---|"]
    for case, runs in r["runs"].items():
        for x in runs:
            out.append(_row([case, x["release"], x["new_code_s"], x["returned_s"], x["agent_took_s"],
                             ", ".join(f"{k} {v:g}" for k, v in x["steps"].items())]))
    out += ["", f"Target 0 failed requests — {_ok(r['met'])}.", "", "![release](release.png)"]
    return out


def peer(pe: dict[str, Any]) -> list[str]:
    c = f"c{pe['levels'][0]}"
    out = ["## A peer: Caddy", "", f"`{CMD.format('peer')}`. Debian's Caddy ({pe['caddy']}) with a minimal Caddyfile "
           "(`reverse_proxy unix//run/<app>-<slot>.sock`, no access log: Caddy's default) and the stack's Nginx (buffered access "
           "log, security headers) in front of the same gunicorn (the live slot), and that gunicorn's release alone on "
           f"127.0.0.1 (same workers) as the reference; -{c}, {pe['rounds']} interleaved rounds × {pe['seconds']:g} s.", "",
           "| path | setup | req/s | p99 ms | CPU µs/request |", "|---|---|---:|---:|---|"]
    for what in ("hello", "page"):
        for n in ("nginx", "caddy", "bare"):
            row = pe["setups"][f"{n} {what}"][c]
            out.append(_row([what, n, f"{row['rps']:,}", row["p99_ms"], _cpu(row)]))
    out += ["", "| path | " + " | ".join(pe["ratio"]["hello"]) + " |", "|---|" + "---:|" * len(pe["ratio"]["hello"])]
    for what, r in pe["ratio"].items():
        out.append(_row([what, *r.values()]))
    return out + ["", "![peer](peer.png)"]


def gap(g: dict[str, Any]) -> list[str]:
    c = g["levels"][0]
    out = ["## Closing the hello-world gap", "", f"`{CMD.format('gap')}`. Hello World on the benchmark stack, one setting changed "
           f"at a time (bench/gap_variants.py), -c{c}, medians of interleaved rounds; references in the same rounds: the release's "
           "gunicorn alone (rendered shape; gthread 2×4). Green beats the stack as rendered by more than 10 %, red loses by more. "
           "One run of this table swings by ±15 % on this shared host, so a **better** here is a candidate, not a result: the "
           "candidates are measured again head to head below (more rounds, rotated order), and only a win there counts.", "",
           "| variant | req/s | p99 ms | vs rendered | vs best gunicorn alone | beyond ±10 % | what it tests |", "|---|---:|---:|---:|---:|---|---|"]
    for v in g["variants"]:
        mark = {1: "**better**", -1: "worse", 0: "noise"}[v["verdict"]] + ("" if v["adoptable"] else " (not adoptable)")
        out.append(_row([v["label"], f"{v['rps']:,}", v["p99_ms"], v["vs_rendered"], v["vs_best_bare"], mark, v["why"]]))
    for name, row in g["setups"].items():
        if name.startswith(("bare", "pinned")):
            r = row[f"c{c}"]
            out.append(_row([f"*{name}*", f"{r['rps']:,}", r["p99_ms"], "", "", "", _cpu(r)]))
    for k, f in g["floor"].items():
        cpu, pc = f["cpu"], f["pinned_cpu"]
        out += ["", f"**The physical floor ({k}).** CPU per request, all processes: best gunicorn alone ({f['best_bare']}) "
                f"{cpu['bare_us']} µs, the stack {cpu['stack_us']} µs, of which Nginx {cpu['proxy_us']} µs. On 2 cores shared with "
                f"wrk, throughput ≤ 2 s/s ÷ CPU per request: {cpu['max_rps_bare']:,} vs {cpu['max_rps_stack']:,} req/s, a ratio of "
                f"{cpu['shared_ratio']} (measured: {f['ratio']}). Nginx's CPU × the stack's rate = {f['nginx_cores_at_rate']} of the "
                f"2 cores. The stack adds {cpu['added_us']} µs per request (Nginx, and gunicorn's extra work behind it: one "
                f"connection per request, the forwarded headers); a ratio of 0.9 allows {cpu['budget_us_for_0.9']} µs. "
                f"With wrk pinned to CPU 1 and the machine to CPU 0, the servers' own cost decides: "
                f"{pc['bare_server_us']:g} µs alone vs {pc['stack_server_us']:g} µs stacked → floor {pc['pinned_ratio']}; measured "
                f"{f['pinned_ratio']} (against {f['pinned_best_bare']})."]
    return out + ["", "![gap](gap.png)"]


def confirm(c: dict[str, Any]) -> list[str]:
    lvl = f"c{c['levels'][0]}"
    base_runs = [r["rps"] for r in c["setups"]["as rendered"][lvl]["runs"]]
    out = ["### Confirmation: the candidates head to head", "",
           f"`{CMD.format('confirm')}`. The variants that beat the rendered stack by about 10 % or more in a run of the table, measured again "
           f"({len(base_runs)} rounds, the order rotated every round, {lvl}).", "",
           "| variant | req/s | p99 ms | vs rendered | per round vs rendered | beyond ±10 % | nginx µs/request |",
           "|---|---:|---:|---:|---|---|---:|"]
    for v in c["variants"]:
        row = c["setups"][v["label"]][lvl]
        per = [round(r["rps"] / b, 2) for r, b in zip(row["runs"], base_runs) if b]
        mark = {1: "**better**", -1: "worse", 0: "noise"}[v["verdict"]]
        out.append(_row([v["label"], f"{v['rps']:,}", v["p99_ms"], v["vs_rendered"], ", ".join(map(str, per)), mark,
                         row["cpu_us"].get("nginx", "")]))
    return out


def sections(result: dict[str, Any]) -> list[str]:
    out: list[str] = []
    table = targets(result)
    if table:
        out += ["", "## Targets: what users ask (issue 16)", "", *table]
    for key, fn in (("page", page), ("static", static), ("slow", slow), ("release", release), ("peer", peer), ("gap", gap),
                    ("confirm", confirm)):
        if result.get(key):
            out += ["", *fn(result[key])]
    return out
