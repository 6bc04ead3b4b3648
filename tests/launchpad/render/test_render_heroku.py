"""launchpad/render/heroku.py: the Procfile, gunicorn settings, runtime files and requirements for Heroku."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping

import pytest

from launchpad.render import heroku
from launchpad.providers import GUNICORN_REQUIREMENT


def reader(files: Mapping[str, str]) -> heroku.Reader:
    return lambda name: files[name].encode() if name in files else None


def web_command(text: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith("web: ")]
    return line[len("web: "):]


def test_procfile_web_and_release() -> None:
    text = heroku.procfile("rocket:app", "flask db upgrade")
    assert text == ("web: gunicorn --bind 0.0.0.0:$PORT --config .launchpad/gunicorn.conf.py 'rocket:app'\n"
                    "release: flask db upgrade\n")
    assert "release:" not in heroku.procfile("rocket:app", None)


@pytest.mark.parametrize("module", ["flaskr:create_app()", "app:create_app('prod', debug=False)", "a;b:$(rm -rf ~)`x`"])
def test_module_is_one_shell_word_whatever_it_holds(module: str) -> None:
    words = shlex.split(web_command(heroku.procfile(module, None)))
    assert words[-1] == module
    assert words[:5] == ["gunicorn", "--bind", "0.0.0.0:$PORT", "--config", heroku.CONF]


def test_bind_host_is_a_parameter_for_tests_and_nothing_else() -> None:
    local = heroku.procfile("rocket:app", None, bind_host="127.0.0.1")
    assert local == heroku.procfile("rocket:app", None).replace("0.0.0.0:$PORT", "127.0.0.1:$PORT")
    with pytest.raises(ValueError):
        heroku.procfile("rocket:app", None, bind_host="0.0.0.0; curl evil")


@pytest.mark.parametrize("release, message", [
    ("flask db upgrade\nweb: nc -l 4444", "Heroku's release phase takes one command line"),
    ("   ", "Heroku's release phase takes one command line"),
])
def test_release_command_cannot_add_a_process(release: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        heroku.procfile("rocket:app", release)


def test_conf_workers_from_settings_or_web_concurrency() -> None:
    fixed = heroku.gunicorn_conf(5, None, "0123456789ab")
    assert "workers = 5\n" in fixed and "WEB_CONCURRENCY" not in fixed
    assert "worker_class" not in fixed
    default = heroku.gunicorn_conf(None, 4, "0123456789ab")
    assert 'workers = int(os.environ.get("WEB_CONCURRENCY") or 2)' in default
    assert 'worker_class = "gthread"' in default and "threads = 4" in default


def _conf(release: str = "0123456789ab") -> dict:
    namespace: dict = {}
    exec(compile(heroku.gunicorn_conf(None, None, release), "gunicorn.conf.py", "exec"), namespace)
    return namespace


def test_conf_trusts_exactly_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    conf = _conf()
    assert conf["workers"] == 3
    assert conf["forwarded_allow_ips"] == "*"
    # Only the header the router itself sets decides the scheme.
    assert conf["secure_scheme_headers"] == {"X-FORWARDED-PROTO": "https"}
    assert conf["timeout"] < 30 and conf["graceful_timeout"] < 30


def test_conf_wraps_every_answer_with_the_release_and_drops_client_forwarded_host() -> None:
    conf = _conf("0123456789ab")
    seen: dict = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    worker = type("Worker", (), {})()
    worker.wsgi = app
    conf["post_worker_init"](worker)
    answered: list = []
    body = worker.wsgi({"HTTP_X_FORWARDED_HOST": "evil.example", "HTTP_X_FORWARDED_FOR": "203.0.113.9",
                        "HTTP_HOST": "rocket.example.com"},
                       lambda status, headers, exc_info=None: answered.append((status, headers)))
    assert body == [b"ok"]
    assert answered == [("200 OK", [("Content-Type", "text/plain"), ("X-Launchpad-Release", "0123456789ab")])]
    assert "HTTP_X_FORWARDED_HOST" not in seen and seen["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"


def test_python_version_pinned_unless_the_app_pins_it() -> None:
    assert heroku.python_version(reader({})) == b"3.11\n"
    assert heroku.python_version(reader({".python-version": "3.12\n"})) is None
    assert heroku.python_version(reader({"runtime.txt": "python-3.12.7\n"})) is None


@pytest.mark.parametrize("files, expected", [
    ({"requirements.txt": "Flask~=3.1\n"}, "Flask~=3.1\n# Added by Launchpad: the app names no gunicorn.\ngunicorn~=27.0\n"),
    ({"requirements.txt": "Flask~=3.1"}, "Flask~=3.1\n# Added by Launchpad: the app names no gunicorn.\ngunicorn~=27.0\n"),
    ({"requirements.txt": "Flask\nGunicorn==21.2.0\n"}, None),
    ({"requirements.txt": "gunicorn[gevent]>=20  # ours\n"}, None),
    ({"requirements.txt": "-r requirements/base.txt\n", "requirements/base.txt": "gunicorn==23.0.0\n"}, None),
    ({"requirements.txt": "--requirement=base.txt\n", "base.txt": "-r requirements.txt\nflask\n"},
     "--requirement=base.txt\n# Added by Launchpad: the app names no gunicorn.\ngunicorn~=27.0\n"),
    ({"requirements.txt": "# gunicorn is not here\ngunicorn-plugin==1\n"},
     "# gunicorn is not here\ngunicorn-plugin==1\n# Added by Launchpad: the app names no gunicorn.\ngunicorn~=27.0\n"),
    ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask", "gunicorn>=22"]\n'},
     "# Generated by Launchpad (launchpad/render/heroku.py); do not edit.\n.\n"),
    ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask"]\n'},
     "# Generated by Launchpad (launchpad/render/heroku.py); do not edit.\n.\ngunicorn~=27.0\n"),
    ({}, "# Generated by Launchpad (launchpad/render/heroku.py); do not edit.\ngunicorn~=27.0\n"),
])
def test_gunicorn_added_only_when_the_app_names_none(files: dict, expected: str | None) -> None:
    got = heroku.requirements(reader(files))
    assert (got.decode() if got is not None else None) == expected


def test_hash_checking_requirements_are_refused_rather_than_broken() -> None:
    with pytest.raises(ValueError, match="--hash"):
        heroku.requirements(reader({"requirements.txt": "flask==3.1.0 --hash=sha256:abc\n"}))


def test_gunicorn_pin_is_the_vm_hosts_pin() -> None:
    assert heroku.GUNICORN == GUNICORN_REQUIREMENT


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p%40ss@h.compute.amazonaws.com:5432/d", "postgresql://u:p%40ss@h.compute.amazonaws.com:5432/d"),
    ("postgresql://u:p@h:5432/d", "postgresql://u:p@h:5432/d"),
    ("", ""),
])
def test_profile_gives_database_url_the_postgresql_scheme(tmp_path, url: str, expected: str) -> None:
    (tmp_path / ".profile").write_bytes(heroku.profile(b"export FROM_APP=yes\n"))
    out = subprocess.run(["bash", "-c", '. ./.profile; printf "%s|%s" "${DATABASE_URL:-}" "$FROM_APP"'],
                         cwd=tmp_path, env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    assert out.stdout == f"{expected}|yes"


def test_runtime_files_keep_the_apps_own_pins() -> None:
    files = heroku.runtime_files(reader({"requirements.txt": "gunicorn==23.0.0\n", ".python-version": "3.12\n"}),
                                 "rocket:app", None, None, None, "0123456789ab")
    assert sorted(files) == [".launchpad/gunicorn.conf.py", ".profile", "Procfile"]
    files = heroku.runtime_files(reader({}), "rocket:app", 2, None, "flask db upgrade", "0123456789ab")
    assert sorted(files) == [".launchpad/gunicorn.conf.py", ".profile", ".python-version", "Procfile", "requirements.txt"]
