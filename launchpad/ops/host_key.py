"""The droplet's SSH host key, recorded at boot and checked with the stack's enrollment value.

DigitalOcean has no instance identity and user-data is no place for a private key. So the
droplet keeps the host key sshd made at first boot, and its release agent announces the
public half in its enrollment document (files/agent/launchpad_agent/enroll.py), in the
stack's enrollment bucket, under a MAC keyed by the stack's enrollment value that also binds
the droplet id and its sealing key. `pulumi up` runs this module (components/digitalocean/access.py),
so the `access` output carries a key no one without the stack's user-data could have swapped;
`launchpad ssh/run/logs` then trust only it. No connection into the droplet: the document is
read from the bucket (launchpad/release/enroll.py).

    LAUNCHPAD_ENROLL=<hex> LAUNCHPAD_ENROLL_ACCESS_KEY_ID=... LAUNCHPAD_ENROLL_SECRET_ACCESS_KEY=... \\
        python -m launchpad.ops.host_key s3://<bucket>-enroll/<stack>/enroll <droplet id> \\
        --endpoint https://nyc3.digitaloceanspaces.com --region nyc3
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from launchpad.release.enroll import command


def main(argv: Sequence[str] | None = None) -> int:
    return command(argv, prog="python -m launchpad.ops.host_key", doc=__doc__ or "", label="host key",
                   need_ssh=True, out=lambda found: str(found.ssh_host_key))


if __name__ == "__main__":
    sys.exit(main())
