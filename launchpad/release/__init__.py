"""Releases, deployer side (issue 10): what ships the app to a running host, apart from its bootstrap.

- `artifact`: the app folder as a deterministic, content-addressed tar.gz (streamed to disk).
- `ignore`: what never ships (secrets, caches, VCS) plus the app's `.launchpadignore`.
- `manifest`: the release manifest, its id, the secrets version and the desired-release pointer.
- `store`: where releases are published (`Store` protocol; `DirStore` for the local target).

The host side is the agent in files/agent/; both follow the contract in /work/plan.md
(store layout, manifest fields, pointer, status file).
"""
