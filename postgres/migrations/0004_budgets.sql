-- Attempt budgets (failed logins, registrations) shared by every process on
-- the database: key, attempts counted in its window, and when the window
-- ends. Every login writes its rows, so, as for sessions (0002), no index
-- but the key's and room in each page keep those updates HOT; the hourly
-- prune of ended windows scans the table.
CREATE TABLE budgets (
    key     TEXT PRIMARY KEY,
    n       INTEGER NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL
) WITH (fillfactor = 70);
