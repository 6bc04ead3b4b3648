"""Issue 10's proof with both test apps, deployed as a user deploys them, on the local target.

    .venv/bin/pytest -q tests/e2e/test_release_apps.py        (as root; 3.5-5 min on a busy 2-core box)

journal (tests/apps/journal: factory, blueprints, templates, static assets, 42 pins with its own
gunicorn==21.2.0 and psycopg2-binary, Flask-Migrate as `app.release`, SECRET_KEY as a secret)
on a web machine plus the stack's PostgreSQL machine: smoke.py's register/login/post/list
through Nginx, static files from Nginx itself, its own gunicorn, the migrations, the secret
nowhere but the root-only env files, three code updates and one dependency change in place
under a steady request loop, two broken releases refused, a rollback, `launchpad releases`.

notes (tests/apps/notes: pyproject.toml, no gunicorn, SQLite in Flask's instance folder,
`flask --app notes init-db`) on a web machine: the notes survive three releases and a
rollback, and the source folder's `.env` and `instance/` never reach the host.

Each app's stack (`journal-e2e`: 2 machines, then `notes-e2e`: 1) boots once for its class, one after
the other; its `Pulumi.<stack>.yaml` sits in the project root while it runs (the CLI reads only there).
Release times (p50/max, and the changed-dependency release against pip's share) go to the
"measured" summary.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from facts import fact
from launchpad.local import machine
from launchpad.local import release as local_release
from launchpad.providers import GUNICORN_REQUIREMENT
from launchpad.settings import PROJECT_ROOT

from .release_kit import AppStack, holding, rolled, set_text, spread, stages

pytestmark = pytest.mark.e2e
APPS = PROJECT_ROOT / "tests" / "apps"
JOURNAL, NOTES = "journal-e2e", "notes-e2e"
JOURNAL_APP = {"module": "journal:create_app()", "release": "flask --app journal db upgrade", "healthPath": "/healthz",
               "env": {"LOG_TO_STDOUT": "1"}, "keepReleases": 5}
NOTES_APP = {"module": "notes:create_app()", "release": "flask --app notes init-db", "healthPath": "/healthz"}
NOTES_FAKES = {".env": "SECRET_KEY=notes-dotenv-fake-do-not-ship\n",
               "instance/config.py": 'SECRET_KEY = "notes-instance-fake-do-not-ship"\n',
               "instance/notes.sqlite": "a developer's database: must not ship\n"}
UNIX_GET = """import http.client, socket, sys
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sys.argv[1])
c = C("localhost"); c.request("GET", sys.argv[2]); r = c.getresponse(); r.read()
print(r.status, r.getheader("Cache-Control"), r.getheader("ETag"))"""
SECRET_HASH = "import os, hashlib; print(hashlib.sha256(os.environ['SECRET_KEY'].encode()).hexdigest())"


def boot(stack: AppStack) -> None:
    started = time.monotonic()
    out = stack.cli("local", "up", "--stack", stack.name)
    print(out.stdout, out.stderr)
    assert out.returncode == 0, out.stderr[-4000:]
    state = machine.status(stack.web)
    assert state is not None
    stack.address, stack.init_pid = state.address, state.init_pid
    stack.ids["first"] = re.findall(r"release ([0-9a-f]{12}) live", out.stdout)[-1]
    steps = stack.agent_steps(stack.ids["first"])
    fact(f"{stack.name}: `launchpad local up` from nothing in {time.monotonic() - started:.1f} s (boot, cloud-init, "
         f"first release: live {steps.get('live', 0):.1f} s after the agent began, venv + pip {steps.get('installed', 0):.1f} s)")


def copy_app(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(name) / name
    shutil.copytree(APPS / name, folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return folder


def run(stack: AppStack, *command: str) -> str:
    """`launchpad run -- COMMAND` in the live release; its last output line."""
    out = stack.cli("run", "--stack", stack.name, "--", *command)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1]


def live_slot(stack: AppStack) -> str:
    return json.loads(stack.sh("cat /var/lib/launchpad/release/status.json"))["slot"]


def manifest(stack: AppStack, release: str) -> dict:
    return json.loads((local_release.store_dir(stack.name) / "releases" / f"{release}.json").read_text())


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, list[float]]]:
    times: dict[str, list[float]] = {"live": [], "command": [], "journal": [], "notes": []}
    yield times
    if times["live"]:
        fact(f"release time, code change with unchanged dependencies (live after publishing): {spread(times['live'])} "
             f"(journal {spread(times['journal'])}; notes {spread(times['notes'])}); whole `launchpad deploy` "
             f"{spread(times['command'])}")


@pytest.fixture(scope="class")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppStack]:
    stack = AppStack(JOURNAL, copy_app("journal", tmp_path_factory), "journal-e2e-" + hashlib.sha256(b"j").hexdigest()[:24])
    stack.write(JOURNAL_APP, **{"launchpad:database": {"enabled": True}})
    try:
        boot(stack)
        yield stack
    finally:
        stack.cli("local", "down", "--stack", JOURNAL)
        stack.stack_file.unlink(missing_ok=True)


@pytest.fixture(scope="class")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppStack]:
    stack = AppStack(NOTES, copy_app("notes", tmp_path_factory), "notes-e2e-" + hashlib.sha256(b"n").hexdigest()[:24])
    for name, text in NOTES_FAKES.items():  # what a developer's folder holds beside the code
        (stack.app / name).parent.mkdir(exist_ok=True)
        (stack.app / name).write_text(text)
    stack.write(NOTES_APP)
    try:
        boot(stack)
        yield stack
    finally:
        stack.cli("local", "down", "--stack", NOTES)
        stack.stack_file.unlink(missing_ok=True)


class TestJournal:
    def test_smoke_through_nginx_and_static_files_from_nginx(self, journal: AppStack) -> None:
        first = journal.ids["first"]
        result = journal.smoke("--expect-version", "1.0.0", "--expect-release", first)
        assert result["release_header"] == first
        assert result["static"]["url"] == "/static/css/journal.css" and result["static"]["server"] == "nginx"
        # Every url_for('static', ...) URL on a page resolves, answered by Nginx's static location.
        page = journal.get("/auth/login")[2].decode()
        links = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page))
        assert links == {"/static/css/journal.css", "/static/js/journal.js", "/static/img/logo.png", "/static/img/favicon.ico"}
        for link in sorted(links):
            code, headers, _ = journal.get(link)
            assert code == 200 and headers["cache-control"] == "public, max-age=300", (link, headers)
            assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', headers["etag"]), headers  # nginx's ETag shape
        # The app itself (its slot's socket, past Nginx) answers the same file differently: Flask's headers.
        sock = f"/run/journal-{live_slot(journal)}.sock"
        direct = machine.run(journal.web, ["python3", "-c", UNIX_GET, sock, "/static/css/journal.css"]).stdout.split()
        assert direct[0] == "200" and "max-age=300" not in " ".join(direct), direct
        conf = journal.sh("cat /etc/nginx/launchpad/journal-static.conf")
        assert f"alias /srv/journal/releases/{first}/journal/static/;" in conf

    def test_its_own_gunicorn_runs_from_the_release_venv(self, journal: AppStack) -> None:
        deps = manifest(journal, journal.ids["first"])["deps_hash"]
        slot = live_slot(journal)
        cmdline = journal.sh(f"tr '\\0' ' ' < /proc/$(systemctl show -P MainPID journal@{slot}.service)/cmdline")
        assert cmdline.startswith(f"/srv/journal/venvs/{deps}/bin/python /srv/journal/slots/{slot}/.launchpad-venv/bin/gunicorn ")
        assert cmdline.rstrip().endswith("journal:create_app()")
        assert run(journal, "python", "-c", "import gunicorn, sys; print(gunicorn.__version__, sys.prefix)") == \
            f"21.2.0 /srv/journal/venvs/{deps}"
        assert journal.sh(f"ls -d /srv/journal/venvs/{deps}/lib/python3*/site-packages/gunicorn-*").split() == \
            [f"/srv/journal/venvs/{deps}/lib/python3.11/site-packages/gunicorn-21.2.0.dist-info"]

    def test_migrations_ran_against_postgresql(self, journal: AppStack) -> None:
        assert "49f47674d95b (head)" in run(journal, "flask", "--app", "journal", "db", "current")

        def psql(sql: str) -> str:
            return machine.run(journal.db, ["runuser", "-u", "postgres", "--", "psql", "-d", "app", "-Atc", sql]).stdout.strip()

        assert psql("select version_num from alembic_version") == "49f47674d95b"
        assert psql("select column_name from information_schema.columns where table_name = 'entry' and column_name = 'mood'") == "mood"
        assert json.loads(journal.get("/version")[2])["database"] == "postgresql"

    def test_the_secret_reaches_the_app_and_nowhere_else(self, journal: AppStack, tmp_path: Path) -> None:
        assert run(journal, "python", "-c", SECRET_HASH) == hashlib.sha256(journal.secret.encode()).hexdigest()
        secret = journal.secret.encode()
        dotenv, instance = b"dotenv-fake-secret-do-not-ship", b"instance-fake-secret-do-not-ship"
        on_machine = holding(journal.upper(), secret, dotenv, instance)
        assert on_machine[secret] and all(re.fullmatch(r"etc/launchpad/releases/[0-9a-f]{12}\.env", p) for p in on_machine[secret]), on_machine
        modes = journal.sh("stat -c '%a %U' /etc/launchpad/releases/*.env").split("\n")
        assert {m for m in modes if m} == {"600 root"}
        assert on_machine[dotenv] == on_machine[instance] == []  # the developer's .env and instance/ stayed home
        store = local_release.store_dir(JOURNAL)
        in_store = holding(store, secret, dotenv, instance)
        assert [p for p in in_store[secret] if not re.fullmatch(r"secrets/[0-9a-f]{16}\.json", p)] == []
        assert {oct((store / p).stat().st_mode & 0o777) for p in in_store[secret]} == {"0o600"}
        assert in_store[dotenv] == in_store[instance] == []
        rendered = journal.cli("render", "--stack", JOURNAL, "--out", str(tmp_path))
        assert rendered.returncode == 0, rendered.stderr
        assert holding(tmp_path, secret)[secret] == []
        for args in (("logs", "--stack", JOURNAL, "-n", "5000"), ("local", "logs", "--stack", JOURNAL)):
            assert journal.cli(*args).returncode == 0
        journal.outputs.append(journal.sh("journalctl --no-pager -o cat"))
        assert [o.splitlines()[0] for o in journal.outputs if journal.secret in o] == []
        assert ".env" not in journal.sh("ls -a /srv/journal/releases/*/").split()
        assert journal.sh("ls -A /var/lib/journal/instance").split() == []

    def test_code_updates_roll_in_place_under_load(self, journal: AppStack, timings: dict[str, list[float]]) -> None:
        previous = journal.ids["first"]
        for version in ("1.1.0", "1.2.0", "1.3.0"):
            set_text(journal.app / "journal" / "version.py", r'APP_VERSION = ".*"', f'APP_VERSION = "{version}"')
            r = rolled(journal, "deploy", "--stack", JOURNAL, path="/version")
            assert r.out.returncode == 0, r.out.stderr[-4000:]
            assert r.release != previous and journal.json("/version") == \
                {"app": "journal", "version": version, "release": r.release, "database": "postgresql"}
            served = {json.loads(res.body)["release"] for res in r.load.results if res.status == 200}
            assert served <= {previous, r.release} and r.release in served
            steps = journal.agent_steps(r.release)
            assert steps["installed"] < 1.0  # the venv was reused
            fact(f"journal {version}: live {r.live_after_s:.1f} s after publishing ({r.command_s:.1f} s command; agent: "
                 f"{stages(steps)} s); {len(r.load.results)} requests, {len(r.failed())} failed")
            assert r.failed() == []
            timings["live"].append(r.live_after_s)
            timings["journal"].append(r.live_after_s)
            timings["command"].append(r.command_s)
            journal.ids[version] = previous = r.release
        assert journal.init_pid_now() == journal.init_pid  # no host replacement
        assert sorted(timings["journal"])[1] <= 10.0

    def test_changed_dependencies_get_a_new_venv(self, journal: AppStack) -> None:
        before = manifest(journal, journal.ids["1.3.0"])["deps_hash"]
        requirements = journal.app / "requirements.txt"
        requirements.write_text(requirements.read_text() + "six==1.17.0\n")
        r = rolled(journal, "deploy", "--stack", JOURNAL, path="/version")
        assert r.out.returncode == 0, r.out.stderr[-4000:]
        journal.ids["deps"] = r.release
        after = manifest(journal, r.release)["deps_hash"]
        assert after != before and set(journal.sh("ls /srv/journal/venvs").split()) >= {before, after}
        assert run(journal, "python", "-c", "import six, gunicorn; print(six.__version__, gunicorn.__version__)") == "1.17.0 21.2.0"
        steps = journal.agent_steps(r.release)
        install = steps["installed"]
        fact(f"journal, changed dependencies (+six==1.17.0: a new venv of 43 pins; this sandbox's PyPI proxy "
             f"sends no cache headers, so pip downloads every wheel again): live {r.live_after_s:.1f} s after publishing, "
             f"of which the agent's install stage (venv + pip) {install:.1f} s, so {r.live_after_s - install:.1f} s "
             f"beyond it ({stages(steps)} s); {len(r.load.results)} requests, {len(r.failed())} failed")
        assert r.failed() == []
        assert r.live_after_s - install <= 10.0
        assert journal.init_pid_now() == journal.init_pid

    def test_broken_releases_are_refused_with_their_output(self, journal: AppStack) -> None:
        live = journal.ids["deps"]
        broken = journal.app / "migrations" / "versions" / "f00dfa11bee5_broken_on_purpose.py"
        broken.write_text('"""broken on purpose"""\nfrom alembic import op\n\nrevision = "f00dfa11bee5"\n'
                          'down_revision = "49f47674d95b"\nbranch_labels = None\ndepends_on = None\n\n\n'
                          'def upgrade():\n    op.execute("SELECT no_such_column_broken_on_purpose FROM entry")\n\n\n'
                          'def downgrade():\n    pass\n')
        r = rolled(journal, "deploy", "--stack", JOURNAL, path="/version")
        broken.unlink()
        assert r.out.returncode == 1
        assert "was refused at stage 'release' (exit 1)" in r.out.stderr and "no_such_column_broken_on_purpose" in r.out.stderr, r.out.stderr
        journal.ids["broken-migration"] = re.findall(r"release ([0-9a-f]{12}) was refused", r.out.stderr)[0]
        assert journal.get("/version")[1]["x-launchpad-release"] == live
        assert run(journal, "flask", "--app", "journal", "db", "current").startswith("49f47674d95b")
        print(r.out.stderr)
        fact(f"journal, failing migration refused: {len(r.load.results)} requests, {len(r.failed())} failed")
        assert r.failed() == []

        journal.write({**JOURNAL_APP, "release": "exit 3"}, **{"launchpad:database": {"enabled": True}})
        try:
            r = rolled(journal, "deploy", "--stack", JOURNAL, path="/version")
        finally:
            journal.write(JOURNAL_APP, **{"launchpad:database": {"enabled": True}})
        assert r.out.returncode == 1 and "was refused at stage 'release' (exit 3)" in r.out.stderr, r.out.stderr
        journal.ids["exit-3"] = re.findall(r"release ([0-9a-f]{12}) was refused", r.out.stderr)[0]
        assert journal.get("/version")[1]["x-launchpad-release"] == live
        fact(f"journal, `app.release: exit 3` refused: {len(r.load.results)} requests, {len(r.failed())} failed")
        assert r.failed() == []

    def test_rollback_and_the_release_history(self, journal: AppStack) -> None:
        target = journal.ids["1.3.0"]
        r = rolled(journal, "rollback", "--stack", JOURNAL, path="/version")
        assert r.out.returncode == 0, r.out.stderr[-4000:]
        assert r.release == target and journal.json("/version")["release"] == target
        steps = journal.agent_steps(target)
        fact(f"journal rollback (to the venv before the dependency change): live {r.live_after_s:.1f} s after the pointer "
             f"moved ({r.command_s:.1f} s command; agent: {stages(steps)} s); {len(r.load.results)} requests, "
             f"{len(r.failed())} failed")
        assert "warm" in steps and "boot" not in steps, steps  # the parked previous slot, not a cold start
        assert r.failed() == [] and r.live_after_s <= 5.0
        journal.smoke("--expect-version", "1.3.0", "--expect-release", target)
        assert journal.init_pid_now() == journal.init_pid

        out = journal.cli("releases", "--stack", JOURNAL, "--json")
        rows = {row["id"]: row for row in json.loads(out.stdout)}
        ids = journal.ids
        assert rows[target]["live"] and rows[target]["status"] == "live"
        assert rows[ids["deps"]]["status"] == "previous" and rows[ids["1.2.0"]]["status"] == "previous"
        assert rows[ids["broken-migration"]]["status"] == rows[ids["exit-3"]]["status"] == "failed"
        table = journal.cli("releases", "--stack", JOURNAL).stdout
        assert f"* {target}" in table
        print(table)


class TestNotes:
    def test_first_release_runs_from_the_release_folder_with_state_beside_it(self, notes: AppStack) -> None:
        first = notes.ids["first"]
        result = notes.smoke("--expect-release", first)
        assert result["static"]["server"] == "nginx" and result["static"]["cache_control"] == "public, max-age=300"
        # It names no gunicorn, so the platform's pin is added (gunicorn~=27.0 -> 27.x).
        major = GUNICORN_REQUIREMENT.split("~=")[1].split(".")[0]
        versions = run(notes, "python", "-c", "from importlib.metadata import version as v; print(v('gunicorn'), v('flask'))")
        assert versions.startswith(f"{major}.") and versions.endswith(" 3.1.3"), versions
        assert run(notes, "python", "-c", "from notes import create_app; print(create_app().instance_path)") == \
            f"/srv/notes/releases/{first}/instance"
        assert notes.sh(f"readlink /srv/notes/releases/{first}/instance").strip() == "/var/lib/notes/instance"
        assert notes.sh("stat -c %U /var/lib/notes/instance/notes.sqlite").strip() == "notes"
        # Our secret, not the instance/config.py one the developer's folder holds.
        key = run(notes, "python", "-c", "import hashlib; from notes import create_app; "
                                         "print(hashlib.sha256(create_app().config['SECRET_KEY'].encode()).hexdigest())")
        assert key == hashlib.sha256(notes.secret.encode()).hexdigest()

    def test_notes_survive_releases_and_a_rollback(self, notes: AppStack, timings: dict[str, list[float]]) -> None:
        kept = [f"kept-{i}-{notes.ids['first']}" for i in range(3)]
        for text in kept:
            assert notes.get("/")[0] == 200
            assert notes.post("/", f"body={text}") == 302
        count = notes.json("/healthz")["notes"]
        for version in ("1.1.0", "1.2.0", "1.3.0"):
            set_text(notes.app / "notes" / "version.py", r'APP_VERSION = ".*"', f'APP_VERSION = "{version}"')
            r = rolled(notes, "deploy", "--stack", NOTES, path="/")
            assert r.out.returncode == 0, r.out.stderr[-4000:]
            assert notes.json("/version")["release"] == r.release
            fact(f"notes {version}: live {r.live_after_s:.1f} s after publishing ({r.command_s:.1f} s command; agent: "
                 f"{stages(notes.agent_steps(r.release))} s); {len(r.load.results)} requests, {len(r.failed())} failed")
            assert r.failed() == []
            assert all(text.encode() in notes.get("/")[2] for text in kept)
            timings["live"].append(r.live_after_s)
            timings["notes"].append(r.live_after_s)
            timings["command"].append(r.command_s)
            notes.ids[version] = r.release
        r = rolled(notes, "rollback", "--stack", NOTES, path="/")
        assert r.out.returncode == 0 and r.release == notes.ids["1.2.0"], r.out.stderr[-4000:]
        steps = notes.agent_steps(r.release)
        fact(f"notes rollback: live {r.live_after_s:.1f} s after the pointer moved (agent: {stages(steps)} s); "
             f"{len(r.load.results)} requests, {len(r.failed())} failed")
        assert "warm" in steps, steps
        assert r.failed() == [] and r.live_after_s <= 5.0
        assert all(text.encode() in notes.get("/")[2] for text in kept)
        assert notes.json("/healthz")["notes"] == count
        assert notes.init_pid_now() == notes.init_pid

    def test_the_source_folders_env_and_instance_never_reach_the_host(self, notes: AppStack) -> None:
        releases = notes.sh("ls -d /srv/notes/releases/*/").split()
        assert len(releases) >= 4
        for folder in releases:
            names = notes.sh(f"ls -A {folder}").split()
            assert ".env" not in names and "pyproject.toml" in names, (folder, names)
            assert notes.sh(f"readlink {folder}instance").strip() == "/var/lib/notes/instance"
        state = set(notes.sh("ls -A /var/lib/notes/instance").split())
        assert "config.py" not in state and state <= {"notes.sqlite", "notes.sqlite-wal", "notes.sqlite-shm"}, state
        fakes = [b"notes-dotenv-fake-do-not-ship", b"notes-instance-fake-do-not-ship", b"a developer's database"]
        assert all(found == [] for found in holding(notes.upper(), *fakes).values())
        for artifact in (local_release.store_dir(NOTES) / "artifacts").glob("*.tar.gz"):
            with tarfile.open(artifact) as tar:
                names = tar.getnames()
            assert not [n for n in names if n == ".env" or n.startswith("instance")], names

