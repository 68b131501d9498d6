-- Attempt budgets (failed logins, registrations) shared by every process on
-- the database: key, attempts counted in its window, and when the window
-- ends.
--
-- UNLOGGED: the counts are short-lived and every login writes them, so they
-- are not worth a WAL write and an fsync per login. A transaction that
-- writes only unlogged tables commits without waiting for the disk. The cost:
-- after a crash of PostgreSQL (not of propusk) or a failover to a standby,
-- the counts start again from zero.
--
-- As for sessions (0002), no index but the key's and room in each page keep
-- the updates HOT; the hourly prune of ended windows scans the table.
CREATE UNLOGGED TABLE budgets (
    key     TEXT PRIMARY KEY,
    n       INTEGER NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL
) WITH (fillfactor = 70);
