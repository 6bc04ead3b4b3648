"""The local provider's resources: the stack's machines on this Linux machine (systemd-nspawn).

    host.py   LocalHost: runs `launchpad local up` / `down` through pulumi-command

stacks/local.py composes it with the shared Readiness (components/readiness.py).
"""
