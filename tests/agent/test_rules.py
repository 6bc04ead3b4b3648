"""The agent's pure rules: env-file quoting, requirement names, manifest checks, health
semantics, status bookkeeping and pruning. (systemd's own reading of the quoted file is
proven on a booted machine: tests/agent/test_e2e_agent.py.)"""

from __future__ import annotations

import pytest

import kit
from kit import agent

rules = agent("rules")


@pytest.mark.parametrize("value, quoted", [
    ("plain", '"plain"'),
    ('say "hi"', r'"say \"hi\""'),
    ("back\\slash", r'"back\\slash"'),
    ("$HOME ${X}", r'"\$HOME \${X}"'),
    ("`id`", r'"\`id\`"'),
    ("it's", '"it\'s"'),
    ("  padded  ", '"  padded  "'),
    ("", '""'),
    ("multi\nline", '"multi\nline"'),
    ("%i %n", '"%i %n"'),
    ("ünï ✓", '"ünï ✓"'),
])
def test_quote_env_value(value: str, quoted: str) -> None:
    assert rules.quote_env_value(value) == quoted


@pytest.mark.parametrize("value", ["tab\there", "cr\r", "nul\x00", "esc\x1b[0m", "del\x7f", "\ufeffbom"])
def test_control_characters_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        rules.quote_env_value(value)


def test_env_file_text_and_its_reading_agree() -> None:
    pairs = [("A", "1"), ("DATABASE_URL", "postgresql://u:p%40ss@db:5432/app?sslmode=require"), ("Q", 'x "y" $z')]
    text = rules.env_file_text(pairs, "header")
    assert text.startswith("# header\n")
    assert rules.parse_env_file(text) == pairs


@pytest.mark.parametrize("name", ["1ABC", "A-B", "A B", ""])
def test_env_file_refuses_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="environment name"):
        rules.env_file_text([(name, "x")], "h")


def test_parse_env_file_forms() -> None:
    text = "# comment\n; also\nDATABASE_URL=postgresql://u:p@h/db\nB = 'single $x'\nC=\"dq \\\" \\$x\"\nD=esc\\ aped\nnoequals\n"
    assert rules.parse_env_file(text) == [("DATABASE_URL", "postgresql://u:p@h/db"), ("B", "single $x"), ("C", 'dq " $x'),
                                          ("D", "esc aped")]


@pytest.mark.parametrize("line, name", [
    ("gunicorn==21.2.0", "gunicorn"),
    ("Gunicorn>=20", "gunicorn"),
    ("gunicorn[gevent]~=23.0", "gunicorn"),
    ("gunicorn ; python_version >= '3.8'", "gunicorn"),
    ("gunicorn", "gunicorn"),
    ("gunicorn @ https://example.org/gunicorn-23.0.0.tar.gz", "gunicorn"),
    ("git+https://github.com/benoitc/gunicorn.git#egg=gunicorn", "gunicorn"),
    ("Flask_SQLAlchemy==3.1.1", "flask-sqlalchemy"),
    ("zope.interface>=5", "zope-interface"),
    ("psycopg2-binary==2.9.9  # the driver", "psycopg2-binary"),
    ("gunicorn-extras==1.0", "gunicorn-extras"),
    ("# gunicorn==21.2.0", None),
    ("-r base.txt", None),
    ("--index-url https://pypi.org/simple", None),
    ("", None),
    ("https://example.org/pkg.whl", None),
])
def test_requirement_name(line: str, name: str | None) -> None:
    assert rules.requirement_name(line) == name


def test_gunicorn_is_added_only_when_absent(tmp_path) -> None:
    (tmp_path / "base.txt").write_text("Flask==3.0.0\ngunicorn==21.2.0\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\npsycopg2-binary==2.9.9 \\\n  --hash=sha256:abc\n")
    lines = rules.requirement_lines(tmp_path / "requirements.txt", tmp_path)
    names = [rules.requirement_name(ln) for ln in lines]
    assert "gunicorn" in names and "psycopg2-binary" in names
    assert not rules.needs_gunicorn(names)
    assert rules.needs_gunicorn([rules.requirement_name("gunicorn-extras==1"), "flask"])


def test_requirement_includes_stay_inside_the_release(tmp_path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "outside.txt").write_text("gunicorn\n")
    (tmp_path / "app" / "requirements.txt").write_text("-r ../outside.txt\nflask\n")
    assert rules.requirement_lines(tmp_path / "app" / "requirements.txt", tmp_path / "app") == ["flask"]


@pytest.mark.parametrize("line", ["-e .", "--editable .", ".", "./", ".[extra]", "file:///srv/app", "-e ./pkg"])
def test_lines_installing_the_app_itself(line: str) -> None:
    assert rules.LOCAL_REQ_RE.match(line)


@pytest.mark.parametrize("line", ["flask", "-r base.txt", "gunicorn==23.0", ".venv-tool==1"])
def test_ordinary_lines_are_kept(line: str) -> None:
    assert not rules.LOCAL_REQ_RE.match(line)


def test_pyproject_dependencies() -> None:
    text = '[project]\nname = "flaskr"\ndependencies = ["flask>=3", "gunicorn==22.0.0"]\n'
    assert rules.pyproject_dependencies(text) == ["flask>=3", "gunicorn==22.0.0"]
    assert rules.pyproject_dependencies("[tool.poetry]\nname='x'\n") == []
    with pytest.raises(ValueError, match="dependencies"):
        rules.pyproject_dependencies('[project]\ndependencies = "flask"\n')


@pytest.mark.parametrize("status, path, ok", [
    (200, "/healthz", True), (204, "/healthz", True), (302, "/healthz", False), (404, "/healthz", False),
    (503, "/healthz", False), (200, None, True), (302, None, True), (404, None, True), (499, None, True),
    (500, None, False), (502, None, False),
])
def test_health_semantics(status: int, path: str | None, ok: bool) -> None:
    assert rules.healthy(status, path) is ok


def test_a_published_manifest_passes() -> None:
    m = kit.manifest(b"x", static={"/static/": "pkg/static/"}, writable=["logs", "uploads/img"], env={"DEBUG_LEVEL": "1"})
    assert rules.validate_manifest(m, m["id"], "rocket") == []


@pytest.mark.parametrize("change, message", [
    ({"app": "other"}, "this host runs 'rocket'"),
    ({"writable": ["logs\n"]}, "writable"),
    ({"env": {"NAME\n": "x"}}, "env.NAME"),
    ({"deps_hash": "0" * 16 + "\n"}, "deps_hash"),
    ({"writable": ["/var/lib"]}, "writable '/var/lib'"),
    ({"writable": ["../up"]}, "writable '../up'"),
    ({"writable": [".launchpad-venv"]}, "writable"),
    ({"module": "app:app\nExecStart=/bin/sh"}, "module"),
    ({"env": {"BAD-NAME": "x"}}, "env.BAD-NAME"),
    ({"workers": 0}, "workers 0"),
    ({"health_path": "healthz"}, "health_path"),
    ({"deps": "setup.py"}, "deps 'setup.py'"),
    ({"schema": 2}, "schema 2"),
])
def test_manifest_problems(change: dict, message: str) -> None:
    m = kit.manifest(b"x", **change)
    problems = rules.validate_manifest(m, m["id"], "rocket")
    assert any(message in p for p in problems), problems


def test_an_edited_manifest_is_refused() -> None:
    m = kit.manifest(b"x")
    m["env"] = {"INJECTED": "1"}
    assert any("does not hash to its id" in p for p in rules.validate_manifest(m, m["id"], "rocket"))
    assert any("expected 'aaaaaaaaaaaa'" in p for p in rules.validate_manifest(kit.manifest(b"x"), "aaaaaaaaaaaa", "rocket"))


def _entry(rid: str, status: str) -> dict:
    return {"id": rid, "at": "t", "source_hash": "s", "status": status, "took_s": 1.0}


def test_record_keeps_one_entry_per_id_newest_first() -> None:
    st = {"live": None, "history": [], "last_failure": None}
    st = rules.record(st, _entry("a" * 12, "live"))
    st = rules.record(st, _entry("b" * 12, "failed"))
    st = rules.record(st, _entry("c" * 12, "live"))
    assert [(h["id"][0], h["status"]) for h in st["history"]] == [("c", "live"), ("b", "failed"), ("a", "previous")]
    st = rules.record(st, _entry("a" * 12, "live"))  # rollback
    assert [(h["id"][0], h["status"]) for h in st["history"]] == [("a", "live"), ("c", "previous"), ("b", "failed")]
    assert st["live"] == "a" * 12 and st["last_failure"] is None


def test_history_is_bounded() -> None:
    st: dict = {"history": []}
    for i in range(rules.HISTORY_MAX + 10):
        st = rules.record(st, _entry(f"{i:012x}", "live"))
    assert len(st["history"]) == rules.HISTORY_MAX


def test_prune_keeps_live_previous_and_newest() -> None:
    history = [_entry("6", "live"), _entry("f", "failed"), _entry("5", "previous"), _entry("4", "previous"),
               _entry("3", "previous"), _entry("2", "removed"), _entry("1", "previous")]
    st = {"live": "6", "history": history}
    assert rules.prune_plan(st, {"6", "f", "5", "4", "3", "1", "x.tmp"}, keep=3) == {"f", "3", "1", "x.tmp"}
    # keep=1 still never removes the live release nor the one before it
    assert rules.prune_plan(st, {"6", "5", "4"}, keep=1) == {"4"}


def test_prune_after_rollback_keeps_the_release_rolled_back_from() -> None:
    history = [_entry("1", "live"), _entry("3", "previous"), _entry("2", "previous")]
    assert rules.prune_plan({"live": "1", "history": history}, {"1", "2", "3"}, keep=1) == {"2"}


def test_a_refused_release_waits_for_a_new_pointer() -> None:
    st = {"last_failure": {"id": "a" * 12, "pointer_at": "t1", "retry_after": None}}
    assert rules.refused(st, {"id": "a" * 12, "at": "t1"}, 1e12)
    assert not rules.refused(st, {"id": "a" * 12, "at": "t2"}, 0)
    assert not rules.refused(st, {"id": "b" * 12, "at": "t1"}, 0)
    assert not rules.refused({"last_failure": None}, {"id": "a" * 12, "at": "t1"}, 0)


def test_a_release_waiting_for_the_deployer_is_retried_later() -> None:
    st = {"last_failure": {"id": "a" * 12, "pointer_at": "t1", "retry_after": 100.0}}
    assert rules.refused(st, {"id": "a" * 12, "at": "t1"}, 99.0)
    assert not rules.refused(st, {"id": "a" * 12, "at": "t1"}, 100.0)
