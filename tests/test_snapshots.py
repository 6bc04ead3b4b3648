"""Every committed stack's rendered host files are held as snapshots, so any change to what runs on a
host (user-data, Nginx, systemd units, scripts) shows up as a readable diff in review.

To accept a change: for s in dev staging prod; do .venv/bin/launchpad render --stack $s --out tests/snapshots; done
"""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from committed import stack_files

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "snapshots"
STACKS = sorted(p.name.split(".")[1] for p in stack_files(ROOT))


def tree(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def render(stack: str, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "launchpad.cli", "render", "--stack", stack, "--out", str(out)],
                   check=True, capture_output=True, cwd=ROOT)
    return out / stack


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_files_match_the_snapshot(stack: str, tmp_path: Path) -> None:
    fresh, held = tree(render(stack, tmp_path)), tree(SNAPSHOTS / stack)
    fix = f"if intended: .venv/bin/launchpad render --stack {stack} --out tests/snapshots"
    assert sorted(fresh) == sorted(held), f"files differ for stack {stack}; {fix}"
    changed = [name for name in fresh if not filecmp.cmp(fresh[name], held[name], shallow=False)]
    assert changed == [], f"stack {stack}: {changed} changed; {fix}"


def test_every_committed_stack_has_a_snapshot() -> None:
    assert sorted(p.name for p in SNAPSHOTS.iterdir() if p.is_dir()) == STACKS


def test_a_template_change_shows_in_the_snapshot(tmp_path: Path) -> None:
    """The comparison can fail: a one-character change to a held file is caught."""
    out = render("dev", tmp_path)
    site = out / "host/etc/nginx/sites-available/rocket"
    site.write_text(site.read_text().replace("proxy_buffering on;", "proxy_buffering off;"))
    held = tree(SNAPSHOTS / "dev")
    assert not filecmp.cmp(site, held["host/etc/nginx/sites-available/rocket"], shallow=False)
