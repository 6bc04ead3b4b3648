"""Which code is live; bench/release_time.py rewrites this line for each release it times."""
VERSION = "v0"
