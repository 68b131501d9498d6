-- Attempt budgets (failed logins, registrations) shared by every process on
-- the database: key, attempts counted in its window, and when the window
-- ends (unix milliseconds). The hourly prune deletes ended windows.
CREATE TABLE budgets (
    key     TEXT PRIMARY KEY,
    n       INTEGER NOT NULL,
    ends_at INTEGER NOT NULL
) WITHOUT ROWID;
