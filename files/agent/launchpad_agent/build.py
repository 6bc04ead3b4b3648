"""A release's venv, built without root: pip (and every package's setup code it runs) works
as the unprivileged `launchpad-build` user in a sandboxed transient unit that may write only
its own build folder and the pip cache; root then checks what it left, takes ownership
(root:<app>, nothing writable by the app or the builder) and moves it into place.

Why: building runs arbitrary code (setup.py, build backends) from every dependency. As root
that code could rewrite the host; as the builder, in this sandbox, it reaches the folder it
builds and the pip cache, and no process of it outlives the build (the unit's cgroup is
killed when pip exits, before root touches the folder).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

from launchpad_agent.rules import (
    BUILD_USER, LOCAL_REQ_RE, PIP_CACHE, Failure, build_command, gunicorn_requirement, log, needs_gunicorn,
    pyproject_dependencies, requirement_lines, requirement_name, tail,
)

BUILD_TIMEOUT_S = 3600
CONSTRAINT_RE = re.compile(r"^\s*(?:-c|--constraint)(?:\s+|=)(\S+)\s*$")


def venv(cfg: dict, root: Path, gid: int, manifest: dict, rel: Path) -> Path:
    """/srv/<app>/venvs/<deps_hash>, built once per dependency hash (reused when it exists)."""
    path = root / "venvs" / manifest["deps_hash"]
    if (path / "bin" / "python").exists():
        return path
    uid, bgid = builder()
    path.parent.mkdir(parents=True, exist_ok=True)
    # o+x: the builder reaches its own folder in here; it lists nothing and reads no other venv (0750).
    os.chmod(path.parent, 0o751)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o700)
    args, names = requirements(manifest["deps"], rel, tmp)
    if needs_gunicorn(names):
        try:
            args.append(gunicorn_requirement(cfg))
        except ValueError as err:
            raise Failure("install", str(err)) from None
    for p in (tmp, *tmp.iterdir()):
        os.chown(p, uid, bgid)
    cache = Path(PIP_CACHE)
    cache.mkdir(parents=True, exist_ok=True)
    own_tree(cache, uid, bgid)
    wheels = sorted(Path("/usr/share/python-wheels").glob("pip-*.whl"))
    # No ensurepip: pip runs from Debian's wheel inside the venv's interpreter (seconds saved).
    run_as_builder(["python3", "-m", "venv", *(["--without-pip"] if wheels else []), str(tmp)], tmp)
    pip = [str(tmp / "bin/python"), f"{wheels[-1]}/pip"] if wheels else [str(tmp / "bin/pip")]
    run_as_builder([*pip, "install", *args], tmp)
    # The builder's unit has ended (its cgroup is gone): from here only root touches the folder.
    problem = odd_member(tmp)
    if problem:
        shutil.rmtree(tmp, ignore_errors=True)
        raise Failure("install", f"the venv build left {problem}; refused")
    for p in [tmp, *tmp.rglob("*")]:
        os.lchown(p, 0, gid)
        if not p.is_symlink():
            os.chmod(p, p.stat().st_mode & 0o750 | (0o050 if p.is_dir() else 0o040))
    version = gunicorn_version(tmp)
    if version is None or version < (20, 1):
        raise Failure("install", f"gunicorn {'.'.join(map(str, version or ())) or 'missing'} in the venv: "
                      "Launchpad needs gunicorn >= 20.1 (systemd notify, factory syntax); raise the pin")
    relocate(tmp, path)
    tmp.rename(path)
    return path


def builder() -> tuple[int, int]:
    try:
        user = pwd.getpwnam(BUILD_USER)
    except KeyError:
        raise Failure("install", f"no user {BUILD_USER!r} on this host: its bootstrap predates unprivileged "
                      "builds; replace the host") from None
    return user.pw_uid, user.pw_gid


def run_as_builder(argv: list[str], work: Path) -> None:
    proc = subprocess.run(build_command(argv, str(work), BUILD_TIMEOUT_S), capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S + 60)
    if proc.returncode != 0:
        raise Failure("install", f"{Path(argv[0]).name} {' '.join(argv[1:3])}... exited {proc.returncode} "
                      f"(as {BUILD_USER})", proc.returncode, tail(proc.stdout + proc.stderr))


def own_tree(top: Path, uid: int, gid: int) -> None:
    """The pip cache belongs to the builder (a cache filled by root before, or by another
    machine sharing it on the local target, is taken over; what it already owns is skipped)."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [".", *dirnames, *filenames]:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if (st.st_uid, st.st_gid) != (uid, gid):
                os.lchown(p, uid, gid)
    os.chmod(top, 0o700)


def odd_member(top: Path) -> str | None:
    """What no venv holds and root must not act on: special files (fifos, sockets, devices) and
    hard links (a second name for a file elsewhere would hand that file's ownership over)."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [*dirnames, *filenames]:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                return f"a special file {os.path.relpath(p, top)!r}"
            if st.st_nlink > 1:
                return f"a hard link {os.path.relpath(p, top)!r}"
    return None


def requirements(deps: str, rel: Path, work: Path) -> tuple[list[str], list[str | None]]:
    """pip arguments and the names they install. Lines installing the app itself (`-e .`,
    `.`) are skipped: the code runs from the release folder, so Flask's instance folder
    stays beside it (installed, it would land inside the venv). Root reads the release's
    files here; the builder never reads the release."""
    if deps == "requirements.txt":
        lines = requirement_lines(rel / "requirements.txt", rel)
        kept = [ln for ln in lines if not LOCAL_REQ_RE.match(ln)]
        if len(kept) != len(lines):
            log("install: skipping requirement lines that install the app itself (it runs from the release folder)")
        kept = [inline_constraints(ln, rel, work, i) for i, ln in enumerate(kept)]
        flat = work / "launchpad-requirements.txt"
        flat.write_text("\n".join(kept) + "\n")
        return ["-r", str(flat)], [requirement_name(ln) for ln in kept]
    if deps == "pyproject.toml":
        try:
            reqs = pyproject_dependencies((rel / "pyproject.toml").read_text())
        except (ValueError, tomllib.TOMLDecodeError) as err:
            raise Failure("install", f"pyproject.toml: {err}") from None
        return list(reqs), [requirement_name(r) for r in reqs]
    return [], []


def inline_constraints(line: str, rel: Path, work: Path, n: int) -> str:
    """`-c constraints.txt` names a file of the release, which the builder cannot read: root copies
    it (its own `-r` includes inlined) into the build folder and the line names the copy."""
    match = CONSTRAINT_RE.match(line)
    if not match:
        return line
    source = (rel / match.group(1)).resolve()
    if not source.is_relative_to(rel.resolve()) or not source.is_file():
        raise Failure("install", f"requirements.txt: {line.strip()!r}: no such file in the app")
    copy = work / f"launchpad-constraints-{n}.txt"
    copy.write_text("\n".join(requirement_lines(source, rel)) + "\n")
    return f"-c {copy}"


def relocate(tmp: Path, final: Path) -> None:
    """The venv was built at <hash>.tmp: rewrite that path in bin/ (script shebangs,
    activate) to the final one, so the rename leaves every script working."""
    old, new = str(tmp).encode(), str(final).encode()
    for script in (tmp / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if old in data:
                script.write_bytes(data.replace(old, new))


def gunicorn_version(venv_dir: Path) -> tuple[int, ...] | None:
    for info in venv_dir.glob("lib/python3*/site-packages/gunicorn-*.dist-info"):
        return tuple(int(x) for x in re.findall(r"\d+", info.name.split("-")[1])[:2])
    return None
