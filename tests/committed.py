"""The committed stack files: what the repository holds, not what a running e2e test may have written
beside them (the CLI reads stack files from the project root, so e2e stacks live there while they run)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def stack_files(root: Path) -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "Pulumi.*.yaml"], cwd=root, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(root.glob("Pulumi.*.yaml"))  # not a git checkout: every stack file there
    return sorted(root / name for name in listed.split())
