"""Renderers: plain values in, host files out (cloud-config, nginx, systemd units, scripts).

Ground floor: no Pulumi, no provider SDK. The cloud stacks, the local target,
`launchpad render` and the tests all call this very code.
"""
