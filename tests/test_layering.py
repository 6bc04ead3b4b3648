"""The layering, enforced: a pytest over the repository's import graph (read from the AST), plus two
runtime checks of what actually gets loaded.

    ground floor   launchpad/settings, render, providers.py, release, safety, wait.py, database_url.py,
                   local_plan.py, ops/{access,remote,targets,heroku_api,host_key}.py: no Pulumi, no provider SDK, nothing from components/stacks/cli/local
    components/    Pulumi resources only: never stacks, the CLI or the local runtime
    the program    __main__.py and stacks/: never the CLI or the local runtime (`pulumi up` boots no nspawn code)
    top floor      launchpad/cli, launchpad/local, launchpad/ops/{connect,execute,heroku}.py: import down only, no provider SDK, no components/stacks
    everywhere     nothing imports a __main__

Every import counts, also one inside a function: a lazy import is still an arrow. The few that are
deliberate are listed in ALLOWED with the reason.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("__main__.py", "launchpad", "components", "stacks", "policy", "bench")

GROUND = ("launchpad.settings", "launchpad.render", "launchpad.providers", "launchpad.release", "launchpad.safety",
          "launchpad.wait", "launchpad.database_url", "launchpad.local_plan",
          # The day-2 vocabulary the components also use: the access record and the remote commands.
          "launchpad.ops.access", "launchpad.ops.remote", "launchpad.ops.targets", "launchpad.ops.heroku_api",
          "launchpad.ops.host_key")
# launchpad.ops.connect reaches local machines (nsenter), so it and what builds on it are top floor.
TOP = ("launchpad.cli", "launchpad.local", "launchpad.ops.connect", "launchpad.ops.execute", "launchpad.ops.heroku")
PROVIDER_SDKS = ("pulumi_aws", "pulumi_digitalocean", "pulumi_heroku", "pulumiverse_heroku", "boto3", "botocore",
                 "pydo", "heroku3")
PULUMI = "pulumi*"
"""Any top-level module whose name starts with `pulumi`: the engine SDK and every provider."""


@dataclass(frozen=True)
class Rule:
    why: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]


RULES = (
    Rule("the ground floor imports no Pulumi, no provider SDK, nothing above it",
         GROUND, (PULUMI, *PROVIDER_SDKS, "components", "stacks", *TOP)),
    Rule("components are Pulumi resources only: never stacks, the CLI or the local runtime",
         ("components",), ("stacks", *TOP)),
    Rule("the Pulumi program (__main__.py, stacks/) never loads the CLI or the local runtime",
         ("__main__", "stacks"), TOP),
    Rule("the CLI and the local runtime import down: no provider SDK, no components or stacks",
         TOP, (*PROVIDER_SDKS, "components", "stacks")),
)

ALLOWED = {
    ("launchpad.settings.load", "pulumi"):
        "load_from_pulumi reads the running program's config; imported inside that function only, so the "
        "ground floor still imports without Pulumi (test_the_ground_floor_loads_without_pulumi)",
}
"""(importer, imported module or package) -> why that arrow is deliberate."""


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int


@dataclass(frozen=True)
class Violation:
    rule: str
    imp: Import

    def __str__(self) -> str:
        return f"{self.imp.path}:{self.imp.line}: {self.imp.importer} imports {self.imp.imported} ({self.rule})"


def module_name(path: Path, root: Path) -> str:
    """launchpad/settings/__init__.py -> launchpad.settings; policy/ holds top-level modules (the pack's path)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[0] == "policy" and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def python_files(root: Path, sources: tuple[str, ...] = SOURCES) -> Iterator[Path]:
    for source in sources:
        path = root / source
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every module an import in `path` names, at any depth; `from a import b` names both a and a.b."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, path, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "__future__":
                continue
            found.append(Import(module, base, path, node.lineno))
            found += [Import(module, f"{base}.{alias.name}", path, node.lineno) for alias in node.names if alias.name != "*"]
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    for prefix in prefixes:
        if prefix == PULUMI:
            if name.split(".")[0].startswith("pulumi"):
                return True
        elif name == prefix or name.startswith(prefix + "."):
            return True
    return False


def _allowed(imp: Import, allowed: dict[tuple[str, str], str]) -> bool:
    return any(imp.importer == importer and _within(imp.imported, (imported,)) for importer, imported in allowed)


def violations(root: Path, rules: tuple[Rule, ...] = RULES, allowed: dict[tuple[str, str], str] | None = None,
               sources: tuple[str, ...] = SOURCES) -> list[Violation]:
    allowed = ALLOWED if allowed is None else allowed
    out: list[Violation] = []
    for path in python_files(root, sources):
        for imp in imports_of(path, root):
            if _allowed(imp, allowed):
                continue
            if imp.imported == "__main__" or imp.imported.endswith(".__main__"):
                out.append(Violation("nothing imports __main__", imp))
            for rule in rules:
                if _within(imp.importer, rule.importers) and _within(imp.imported, rule.forbidden):
                    out.append(Violation(rule.why, imp))
    return out


def test_the_repository_keeps_its_layers() -> None:
    found = violations(ROOT)
    assert not found, "layering broken:\n" + "\n".join(map(str, found))


def test_the_allowed_exceptions_are_still_needed() -> None:
    """An exception nobody uses any more is a hole waiting for a violation."""
    imports = [i for p in python_files(ROOT) for i in imports_of(p, ROOT)]
    for key in ALLOWED:
        assert any(_allowed(i, {key: ""}) for i in imports), f"ALLOWED{key} matches no import any more: remove it"


def _plant(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_the_checker_catches_planted_violations(tmp_path: Path) -> None:
    _plant(tmp_path, {
        "launchpad/__init__.py": "",
        "launchpad/render/__init__.py": "",
        "launchpad/render/bad.py": "import pulumi_aws\n",
        "launchpad/settings/__init__.py": "",
        "launchpad/settings/lazy.py": "def f():\n    from ..local import machine\n",
        "launchpad/wait.py": "from pulumi import Output\n",
        "launchpad/cli/__init__.py": "from components.aws import network\n",
        "launchpad/local/stack.py": "import boto3.session\n",
        "components/__init__.py": "",
        "components/aws/host.py": "from launchpad import cli\nfrom stacks import common\n",
        "stacks/aws.py": "import bench.__main__\n",
    })
    found = {(v.imp.path.relative_to(tmp_path).as_posix(), v.imp.imported) for v in violations(tmp_path, allowed={})}
    assert found >= {
        ("launchpad/render/bad.py", "pulumi_aws"),
        ("launchpad/settings/lazy.py", "launchpad.local.machine"),
        ("launchpad/wait.py", "pulumi"),
        ("launchpad/cli/__init__.py", "components.aws"),
        ("launchpad/local/stack.py", "boto3.session"),
        ("components/aws/host.py", "launchpad.cli"),
        ("components/aws/host.py", "stacks"),
        ("stacks/aws.py", "bench.__main__"),
    }


def test_the_checker_passes_a_clean_tree(tmp_path: Path) -> None:
    _plant(tmp_path, {
        "launchpad/render/ok.py": "import jinja2\nfrom launchpad.settings import Settings\nfrom . import templates\n",
        "components/aws/ok.py": "import pulumi_aws\nfrom launchpad.render import bootstrap\n",
        "launchpad/cli/ok.py": "import typer\nfrom launchpad.local import machine\n",
        "stacks/aws.py": "from components.aws import ok\n",
    })
    assert violations(tmp_path, allowed={}) == []


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": f"{ROOT}{':' + str(ROOT / 'tests')}", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_ground_floor_loads_without_pulumi() -> None:
    """Importing every ground-floor module loads no Pulumi, no provider SDK, nothing above it."""
    loaded = _run(f"""
        import importlib, pkgutil, sys
        for name in {GROUND!r}:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name == name:
                    continue  # a package another change has not created yet
                raise
            for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
                importlib.import_module(info.name)
        bad = ("pulumi", *{PROVIDER_SDKS!r}, "components", "stacks", "launchpad.cli", "launchpad.local")
        print(sorted(m for m in sys.modules if m.split(".")[0].startswith("pulumi")
                     or any(m == b or m.startswith(b + ".") for b in bad)))
    """)
    assert loaded == "[]"


@pytest.mark.parametrize("provider, other", [("aws", "pulumi_digitalocean"), ("digitalocean", "pulumi_aws")])
def test_a_cloud_program_does_not_load_the_local_runtime(provider: str, other: str) -> None:
    """`pulumi up` for a cloud (the program under mocks, as tests/test_program.py runs it)
    loads neither the local runtime nor the other cloud's SDK."""
    ssh = {"launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 x"]}
    loaded = _run(f"""
        import runpy, sys
        from pulumi_mocks import run_program
        config = {{"launchpad:provider": {provider!r}, "launchpad:database": {{"enabled": True}}, **{ssh!r}}}
        program = run_program(lambda: runpy.run_path("__main__.py", run_name="__main__"), stack="test", config=config)
        assert "url" in program.outputs, program.outputs
        bad = ("launchpad.local", "launchpad.cli", {other!r})
        print(sorted(m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in bad)))
    """)
    assert loaded == "[]"


def test_a_heroku_program_loads_only_the_heroku_sdk() -> None:
    """provider heroku (the program under mocks, with the outputs Heroku's provider computes):
    pulumiverse_heroku is loaded, no other cloud's SDK, nor the local runtime or the CLI."""
    loaded = _run("""
        import runpy, sys
        import heroku_mocks, pulumi_mocks
        from pulumi_mocks import run_program
        original = pulumi_mocks._computed
        pulumi_mocks._computed = lambda t, n, i: heroku_mocks._heroku(t, n, i) or original(t, n, i)
        config = {"launchpad:provider": "heroku", "launchpad:database": {"enabled": True}}
        program = run_program(lambda: runpy.run_path("__main__.py", run_name="__main__"), stack="test", config=config)
        assert {"url", "app_name"} <= set(program.outputs), program.outputs
        assert "pulumiverse_heroku" in sys.modules
        bad = ("launchpad.local", "launchpad.cli", "pulumi_aws", "pulumi_digitalocean", "boto3", "botocore")
        print(sorted(m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in bad)))
    """)
    assert loaded == "[]"
