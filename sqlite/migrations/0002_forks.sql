-- Chains a session forked into when two clients raced to spend one refresh
-- token: each keeps working on its own (see propusk.Session).
CREATE TABLE session_forks (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    fork       TEXT NOT NULL,
    generation INTEGER NOT NULL,
    rotated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, fork)
) WITHOUT ROWID;
