"""The local target: Debian 12 machines under systemd-nspawn, provisioned by cloud-init.

- machine.py: the machine API (up, down, status, reboot; run, logs, wait_cloud_init,
  allow/deny re-exported from the modules below)
- records.py: state.json / runtime.json, their one reader and writer (also the supervisor's)
- proc.py: what /proc says about a machine's processes and mounts; stopping them
- rootfs.py: the overlay root filesystem and what is seeded into it before each boot
- inside.py: nsenter into a running machine; waits for systemd and cloud-init; logs
- ingress.py: which machines may connect to which; the host's nft table and ip_forward
- net.py: namespaces, veth pairs, addresses, the `table ip launchpad` nftables rules
- base.py: the cached debootstrapped root filesystem (and optional pre-baked layers)
- supervisor.py: the detached process that restarts nspawn when a machine reboots
- stack.py: one stack's machines (web, database), as `launchpad local` and `pulumi up` boot them
"""
