"""DigitalOcean components: network, SSH keys, droplet host, Managed PostgreSQL, reserved IP, and the
over-SSH env delivery (one ComponentResource per module)."""
