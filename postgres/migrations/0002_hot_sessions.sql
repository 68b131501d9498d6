-- A renewal updates its session row on every request. With no index on a
-- column it changes, and free room on the row's page, PostgreSQL updates it
-- in place (a HOT update): no new index entries, less WAL, and the dead
-- versions are cleaned up page by page without waiting for vacuum.
-- expires_at changes on every renewal, so it loses its index: only the
-- hourly prune reads it, and a sequential scan once an hour costs less than
-- an index write on every renewal.
DROP INDEX IF EXISTS sessions_expires_at_index;
ALTER TABLE sessions SET (fillfactor = 70);
