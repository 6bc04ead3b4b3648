"""Release command: the table `/page` reads, with its rows (idempotent)."""

import datetime
import os

import psycopg

AUTHORS = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"]

with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS bench_items (id serial PRIMARY KEY, title text NOT NULL, "
                 "author text NOT NULL, score integer NOT NULL, created timestamptz NOT NULL)")
    (count,) = conn.execute("SELECT count(*) FROM bench_items").fetchone()
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for i in range(count, 200):
        conn.execute("INSERT INTO bench_items (title, author, score, created) VALUES (%s, %s, %s, %s)",
                     (f"Entry {i}: notes on serving Python behind a proxy", AUTHORS[i % len(AUTHORS)],
                      (i * 37) % 101, start + datetime.timedelta(hours=7 * i)))
