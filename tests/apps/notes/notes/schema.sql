-- Created by `flask --app notes init-db`; every statement is safe to run again.
CREATE TABLE IF NOT EXISTS note (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS note_created ON note (created);
