"""launchpad_agent: pulls the app's releases from the stack's store and rolls them in place.

Installed by the host bootstrap at /usr/local/sbin/launchpad-agent and run as root
by launchpad-agent.service (a oneshot, fired every 2 s by launchpad-agent.timer).
Python 3.11 standard library only, no boto3 (S3, Spaces and Secrets Manager are
signed GETs/POSTs, aws.py). The release contract (store layout, manifest, status
file) is the one in the repository's plan and README.

Modules: cli (commands; the idle pass loads only cli, state, store, rules), release
(the flow), host (each step on the host), store (stores, secrets, safe unpacking),
aws (SigV4), state (status.json, lock), rules (pure: checks, quoting, bookkeeping).

One release, step by step (each a `stage` in status.json on failure):
  fetch    manifest + artifact (sha256 verified while streaming), safe extraction
           into /srv/<app>/releases/<id>/, env file with secrets
  install  venv keyed by the deps hash (/srv/<app>/venvs/<hash>/), reused when present
  release  the release command, once, as the app user in the app's sandbox
  boot     the idle blue/green slot <app>@<slot> started on the release
  health   the slot answers on its own socket
  switch   nginx upstream + static locations rewritten and reloaded, checked through nginx
A failure at any stage leaves the live release serving; the old slot is stopped only
after the new one serves. `sync` does not retry a refused release until the desired
pointer is rewritten.
"""
