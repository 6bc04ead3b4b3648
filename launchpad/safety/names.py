"""Names an app must not take.

`app.name` becomes a Unix user, systemd units (`<name>.service`, `<name>.socket`,
`<name>@.service`), directories (`/srv/<name>`, `/etc/<name>`, `/var/lib/<name>`) and an
nginx upstream. A name that is already one of those on a Debian 12 host would take it over:
`nftables` replaced the firewall's unit with gunicorn, `ssh`/`nginx` replaced those
services, `root`/`ops`/`www-data` ran the app as that user. Sources of the list below:
Debian's base-passwd (`/usr/share/base-passwd/passwd.master`), the system users Debian 12
cloud images and the packages Launchpad installs create, the users Launchpad creates, the
units in Debian 12's systemd and in those packages, and the top-level names under /etc and
/var/lib on such a host. tests/launchpad/safety/test_reserved_names.py checks the list
against the machine the tests run on.
"""

from __future__ import annotations

# Debian base-passwd, plus users Debian 12 (cloud images, systemd, the packages Launchpad
# installs) and the providers' images create, plus Launchpad's own.
USERS = frozenset({
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data",
    "backup", "list", "irc", "gnats", "nobody", "nogroup", "_apt", "messagebus", "polkitd", "sshd", "postgres",
    "systemd-network", "systemd-resolve", "systemd-timesync", "systemd-coredump", "systemd-journal",
    "tss", "uuidd", "tcpdump", "_chrony", "chrony", "ntp", "dnsmasq", "statd", "rpc", "_rpc", "avahi",
    "admin", "debian", "ubuntu", "ec2-user", "centos", "fedora", "cloud-user", "cloudsdk",
    "ops", "launchpad", "sudo", "adm", "staff", "users", "wheel", "disk", "kmem", "tty", "shadow", "utmp",
    "operator", "ssl-cert", "netdev", "crontab", "input", "kvm", "render", "video", "audio", "plugdev",
})

# Units Launchpad writes, starts or relies on, and Debian 12's own (systemd, openssh, nginx,
# nftables, cloud-init, postgresql, certbot, unattended-upgrades, apt).
UNITS = frozenset({
    "nginx", "nftables", "ssh", "sshd", "cloud-init", "cloud-init-local", "cloud-config", "cloud-final",
    "cloud-init-hotplugd", "postgresql", "certbot", "unattended-upgrades", "apt-daily", "apt-daily-upgrade",
    "dpkg-db-backup", "cron", "anacron", "rsyslog", "dbus", "polkit", "getty", "serial-getty", "console-getty",
    "container-getty", "autovt", "networking", "ifup", "procps", "kmod", "kmod-static-nodes", "modprobe", "man-db",
    "e2scrub", "e2scrub_all", "fstrim", "logrotate", "hwclock", "keyboard-setup", "console-setup", "x11-common",
    "chrony", "ntp", "rc-local", "rescue", "emergency", "reboot", "halt", "poweroff", "kexec", "shutdown", "default",
    "basic", "sysinit", "multi-user", "graphical", "network", "network-online", "network-pre", "nss-lookup",
    "nss-user-lookup", "time-sync", "time-set", "local-fs", "local-fs-pre", "remote-fs", "remote-fs-pre",
    "sockets", "timers", "paths", "slices", "swap", "umount", "final", "exit", "sleep", "suspend", "hibernate",
    "user", "user-runtime-dir", "init", "syslog", "initrd", "machine", "machines", "rpcbind", "packagekit",
    "qemu-guest-agent", "droplet-agent", "do-agent", "amazon-ssm-agent", "ec2-instance-connect", "snapd",
    "launchpad", "launchpad-agent", "launchpad-certificate", "launchpad-deploy",
    "launchpad-postgres", "pg_basebackup", "pg_dump", "pg_receivewal", "pg_compresswal", "quotaon", "printer",
    "smartcard", "sound", "bluetooth", "factory-reset", "debug-shell", "ctrl-alt-del", "sigpwr",
})

# Top-level names under /etc and /var/lib (and /srv, /run) the app's directories would land in.
DIRECTORIES = frozenset({
    "alternatives", "apparmor", "apt", "cloud", "cron", "dbus", "default", "dhcp", "dpkg", "init", "kernel",
    "letsencrypt", "logrotate", "misc", "modprobe", "network", "nginx", "opt", "pam", "polkit", "portables",
    "postgresql", "postgresql-common", "private", "profile", "python", "python3", "security", "selinux",
    "skel", "ssh", "ssl", "sudo", "systemd", "ucf", "ufw", "update-motd", "xdg", "cache", "lib", "log",
    "tmp", "run", "lock", "spool", "mail", "www", "backups", "local", "machines", "sysctl", "tmpfiles",
    "environment", "environment-d", "resolvconf", "udev", "iproute2", "X11", "fonts", "terminfo", "vim",
})

# Prefixes of whole families: systemd's own units and users, cloud-init's, Launchpad's, ...
PREFIXES = ("systemd-", "cloud-", "launchpad", "apt-", "dpkg", "getty", "serial-getty", "user-", "dbus-",
            "nginx", "postgres", "pg-", "ssh", "nft", "initrd-", "sys-", "dev-", "proc-", "run-", "var-", "tmp-")

RESERVED = USERS | UNITS | DIRECTORIES


def reserved(name: str) -> str | None:
    """Why `name` cannot be an app's name, or None if it can."""
    if name in USERS:
        return "an existing system user (the app would run as it)"
    if name in UNITS:
        return "a unit Debian or Launchpad already runs (the app's unit would replace it)"
    if name in DIRECTORIES:
        return "a directory Debian or Launchpad already uses under /etc, /var/lib or /srv"
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return f"a name in the '{prefix}*' family that systemd, Debian or Launchpad uses"
    return None
