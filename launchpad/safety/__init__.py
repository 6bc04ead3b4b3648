"""Input safety: what stands between a stack's config values and the files rendered for the host.

    escape.py   one escaping function per target language (shell, systemd, env file, nginx,
                nftables, YAML, Python), and the Jinja2 filters that apply them in files/*.j2
    cidr.py     how much of the address space a set of CIDRs opens (SSH guard, policy pack)
    secrets.py  does a name or a value look like a credential
    names.py    names an app must not take (system users, units, directories Launchpad touches)
    config_keys.py  typo'd namespaces, provider credentials, reserved environment names, strict scalars

Ground floor: no Pulumi, no provider SDK. The settings checks, the renderer and the
policy pack all import from here, so each rule exists once.
"""

from launchpad.safety.escape import FILTERS, Unrepresentable, register

__all__ = ["FILTERS", "Unrepresentable", "register"]
