"""Puts policy/ on sys.path, as the Pulumi policy runner does when it runs policy/__main__.py."""

import sys
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))
