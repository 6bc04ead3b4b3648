"""The benchmarks' pure helpers: percentiles, medians over rounds, noise verdicts, parsing, the CPU floor,
the generated static files, and the slow-client program's argument guards (loopback only, bounded)."""

from __future__ import annotations

import struct
import zlib

import pytest

from bench import assets, stats
from bench.release_time import STEP
from bench.slowclients import parse


def test_percentile_interpolates_like_numpy() -> None:
    assert stats.percentile([1, 2, 3, 4], 50) == 2.5
    assert stats.percentile([5], 99) == 5
    assert stats.percentile([3, 1, 2], 0) == 1 and stats.percentile([3, 1, 2], 100) == 3
    assert stats.percentile(range(1, 101), 99) == pytest.approx(99.01)
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1], 101)


def test_median_runs_takes_medians_sums_errors_and_keeps_rounds() -> None:
    runs = [{"rps": 100.0, "p50_ms": 1.0, "p99_ms": 9.0, "errors": 1, "cpu_us": {"nginx": 70.0}},
            {"rps": 120.0, "p50_ms": 2.0, "p99_ms": 7.0, "errors": 0, "cpu_us": {"nginx": 60.0, "gunicorn": 300.0}},
            {"rps": 80.0, "p50_ms": 3.0, "p99_ms": 8.0, "errors": 2, "cpu_us": {}}]
    m = stats.median_runs(runs)
    assert (m["rps"], m["p50_ms"], m["p99_ms"], m["errors"]) == (100, 2.0, 8.0, 3)
    assert m["cpu_us"] == {"gunicorn": 0.0, "nginx": 60.0}  # a round without a process counts it as 0
    assert m["spread"] == 0.4 and len(m["runs"]) == 3


def test_ratio_verdict_and_noise() -> None:
    assert stats.ratio(95, 100) == 0.95 and stats.ratio(1, 0) == 0.0
    assert stats.verdict(0.95, 0.95) == "met" and stats.verdict(0.94, 0.95) == "not met"
    assert stats.verdict(3, 5, at_least=False) == "met"
    assert [stats.beyond_noise(v, 100) for v in (111, 109, 91, 89)] == [1, 0, 0, -1]
    assert stats.beyond_noise(2794, 2540) == 0  # exactly +10 %: not beyond the noise


def test_marked_json_reads_the_last_marked_line() -> None:
    out = 'noise\nSLOWJSON {"n": 1}\nmore\nSLOWJSON {"n": 2}\n'
    assert stats.marked_json(out, "SLOWJSON ") == {"n": 2}
    with pytest.raises(ValueError, match="no line starting"):
        stats.marked_json("nothing", "SLOWJSON ")


def test_cpu_floor_arithmetic() -> None:
    floor = stats.cpu_floor({"gunicorn": 270, "wrk": 30}, {"gunicorn": 300, "nginx": 70, "wrk": 30}, cores=2)
    assert floor["shared_ratio"] == 0.75 and floor["pinned_ratio"] == 0.73
    assert floor["max_rps_bare"] == 6667 and floor["max_rps_stack"] == 5000
    assert floor["proxy_us"] == 70 and floor["added_us"] == 100 and floor["budget_us_for_0.9"] == pytest.approx(33.3)
    assert (floor["bare_server_us"], floor["stack_server_us"]) == (270, 370)


def test_static_assets_are_exact_sizes_deterministic_and_valid(tmp_path) -> None:
    assert len(assets.css()) == 30 * 1024 and assets.css() == assets.css()
    assert all(len(assets.css(n)) == n for n in (1, 4, 5, 200))
    png = assets.png()
    assert len(png) == 500 * 1024 and png == assets.png() and png.startswith(b"\x89PNG\r\n\x1a\n")
    # Every chunk's CRC is right and the image data inflates: a browser would show it.
    pos, kinds = 8, []
    while pos < len(png):
        (n,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        data, crc = png[pos + 8:pos + 8 + n], struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0]
        assert zlib.crc32(kind + data) & 0xFFFFFFFF == crc
        if kind == b"IDAT":
            zlib.decompress(data)
        kinds.append(kind)
        pos += 12 + n
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    info = assets.write_static(tmp_path)
    assert info["css"]["path"].startswith("/static/site.") and (tmp_path / info["css"]["path"].split("/")[-1]).is_file()


def test_agent_journal_steps_parse() -> None:
    log = ("abcdef012345: fetched (0.12 s)\nabcdef012345: installed (venv 0123456789abcdef) (3.40 s)\n"
           "abcdef012345: live on slot b, serving after 6.01 s (0.33 s)\n")
    assert [(m.group(2), m.group(3)) for m in STEP.finditer(log)] == [
        ("fetched", "0.12"), ("installed", "3.40"), ("live on slot b", "0.33")]


@pytest.mark.parametrize("argv, why", [
    (["--host", "10.0.0.1", "--port", "80", "--n", "1", "--mode", "trickle", "--seconds", "1"], "only loopback"),
    (["--port", "80", "--n", "1", "--mode", "trickle", "--seconds", "601"], "--seconds"),
    (["--port", "80", "--n", "5000", "--mode", "trickle", "--seconds", "1"], "--n"),
])
def test_slow_clients_refuse_other_hosts_and_unbounded_runs(argv: list[str], why: str, capsys) -> None:
    with pytest.raises(SystemExit):
        parse(argv)
    assert why in capsys.readouterr().err


def test_slow_clients_accept_a_bounded_loopback_run() -> None:
    a = parse(["--port", "80", "--n", "500", "--mode", "slowread", "--seconds", "20"])
    assert (a.host, a.n, a.mode, a.path) == ("127.0.0.1", 500, "slowread", "/big")
