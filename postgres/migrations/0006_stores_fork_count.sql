-- The number of forks of a session, kept on its row so that the fork cap
-- is checked by the statement that forks: an UPDATE ... WHERE forks < cap
-- re-reads the row after waiting for its lock, where a count(*) of
-- session_forks would read a snapshot taken before concurrent forks committed.
ALTER TABLE sessions ADD COLUMN forks INTEGER NOT NULL DEFAULT 0;
UPDATE sessions s SET forks = f.n
FROM (SELECT session_id, count(*) AS n FROM session_forks GROUP BY session_id) f
WHERE f.session_id = s.id;
