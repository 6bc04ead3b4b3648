"""AWS components: network, host role, EC2 host, RDS database, Elastic IP (one ComponentResource per module)."""
