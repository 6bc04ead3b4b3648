"""Day-2 operations on a running stack, the same for every provider (issue 11).

Ground floor (no Pulumi, no provider SDK): the CLI (launchpad/cli/ops.py) builds a
Remote (what the host runs: remote.py), gets the stack's Target (how to get there:
connect.py, targets.py; the `access` output's shape: access.py) and runs it
(execute.py).
"""

from launchpad.ops.remote import OpsError, Remote

__all__ = ["OpsError", "Remote"]
