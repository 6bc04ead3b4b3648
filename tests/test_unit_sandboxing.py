"""Every systemd unit Launchpad writes is sandboxed: the app's units to `systemd-analyze security`
exposure <= 2.0, the root helpers (certificate, release agent) to <= 5.0 (issue 13, #7)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from facts import fact
from launchpad.render.templates import FILES, render_template

VALUES = {"app": "rocket", "graceful_timeout": 30, "env": [], "module": "rocket:app", "trusted_proxies": 1}
LIMITS = {
    "app@.service.j2": 2.0,
    "certificate.service.j2": 5.0,
    "launchpad-agent.service.j2": 5.0,
}


def exposure(tmp_path: Path, template: str) -> float:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    path = tmp_path / template.removesuffix(".j2").replace("@", "-at")
    path.write_text(render_template(template, **VALUES))
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(path)],
                         capture_output=True, text=True)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out.stdout + out.stderr)
    assert match, out.stdout + out.stderr
    return float(match.group(1))


@pytest.mark.parametrize("template", sorted(LIMITS))
def test_unit_exposure_is_within_its_limit(template: str, tmp_path: Path) -> None:
    if not (FILES / template).is_file():
        pytest.skip(f"files/{template} does not exist")
    score = exposure(tmp_path, template)
    fact(f"systemd-analyze security {template.removesuffix('.j2')}: {score} (limit {LIMITS[template]})")
    assert score <= LIMITS[template]


def test_every_service_template_has_a_limit() -> None:
    services = {p.name for p in FILES.glob("*.service.j2") if p.name != "nginx-reload.conf.j2"}
    assert services <= set(LIMITS), f"unsandboxed unit templates: {sorted(services - set(LIMITS))}"
