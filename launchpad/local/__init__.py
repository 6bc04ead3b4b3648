"""The local target: Debian 12 machines under systemd-nspawn, provisioned by cloud-init.

- base.py: the cached debootstrapped root filesystem (and optional pre-baked layers)
- machine.py: the machine API (up, down, status, run, reboot, logs, wait_*, allow/deny)
- net.py: namespaces, veth pairs, addresses, the `table ip launchpad` nftables rules
- supervisor.py: the detached process that restarts nspawn when a machine reboots
"""
