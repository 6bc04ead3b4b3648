"""One file the host's cloud-config writes: path, content, mode (b64 for binary content).

Its own module so that every renderer (bootstrap, release_host, postgres) can return
these without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostFile:
    path: str
    content: str
    mode: str = "0644"
    b64: bool = False
    defer: bool = False
    """Written in cloud-init's final stage, after packages: for files the packages' own start
    scripts must not see yet (nginx's postinst tests its config)."""
