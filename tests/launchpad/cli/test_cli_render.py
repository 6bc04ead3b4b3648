"""launchpad/cli/: the command tree, `render`, and what the CLI imports."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from typer.testing import CliRunner

from launchpad.cli import app

ROOT = Path(__file__).resolve().parents[3]


def test_console_script_is_the_typer_app() -> None:
    [script] = [e for e in entry_points(group="console_scripts") if e.name == "launchpad"]
    assert script.value == "launchpad.cli:app" and script.load() is app


def test_render_writes_the_host_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", "--stack", "dev", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dev/user-data").read_text().startswith("#cloud-config")
    assert (tmp_path / "dev/host/etc/nginx/nginx.conf").is_file()
    assert list((tmp_path / "dev/host").rglob("*.manifest"))


def test_a_bad_stack_exits_2_naming_the_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", "--stack", "nosuch", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Pulumi.nosuch.yaml" in result.stderr


def test_runs_as_a_module() -> None:
    out = subprocess.run([sys.executable, "-m", "launchpad.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "config-reference" in out.stdout and "local" in out.stdout


def test_the_cli_imports_down_only() -> None:
    """Top floor: settings, renderers, the local runtime; never Pulumi, components/ or stacks/."""
    code = ("import sys, launchpad.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pulumi', 'components', 'stacks', 'pulumi_command'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
