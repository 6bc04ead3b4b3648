"""An app update the way a user ships one: the sample app with one line changed, rolled out by
`launchpad deploy --stack <stack> --settings -` (the settings JSON `pulumi up` hands over, so the
test stacks need no stack file). The release goes blue/green through the host's agent: no
host replacement, no reboot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from launchpad.release.publish import settings_json
from launchpad.settings import PROJECT_ROOT, Settings, validate

SAMPLE_APP = PROJECT_ROOT / "files" / "app"
HELLO = 'return "Hello World!"'


def changed_app(dest: Path, marker: str) -> Path:
    """A copy of the sample app whose `/` answers `Hello World! <marker>`."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(SAMPLE_APP, dest, ignore=shutil.ignore_patterns("__pycache__"))
    code = dest / "rocket.py"
    text = code.read_text()
    assert HELLO in text, "the sample app's Hello World line moved"
    code.write_text(text.replace(HELLO, f'return "Hello World! {marker}"'))
    return dest


def with_app(config: dict[str, Any], stack: str, app: Path) -> Settings:
    return validate({**config, "launchpad:app": {**config.get("launchpad:app", {}), "path": str(app)}}, stack)


def deploy(settings: Settings, timeout: float = 600) -> str:
    """`launchpad deploy` of `settings`; the release id it made live."""
    out = subprocess.run([sys.executable, "-m", "launchpad.cli", "deploy", "--stack", settings.stack, "--settings", "-"],
                         input=settings_json(settings), capture_output=True, text=True, cwd=PROJECT_ROOT,
                         timeout=timeout, env={**os.environ})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    match = re.search(r"release ([0-9a-f]{12}) live", out.stdout)
    assert match, out.stdout
    return match.group(1)
