-- propusk's own tables in the database of a Laravel application (Laravel
-- mode). Every name starts with propusk_, so none collides with the app's;
-- the app's users and personal_access_tokens are never altered. The tables
-- are those of ../migrations as they stand after its last file, without
-- users and personal_access_tokens, and without foreign keys to the app's
-- tables (they would stop the app from dropping or rebuilding its own):
-- the triggers of triggers.sql clean up instead. A migration of ../migrations
-- that changes one of these tables needs its twin here.
--
-- Times are INTEGER unix milliseconds, as in propusk's own schema. The
-- app's tables keep Laravel's formats.

CREATE TABLE propusk_sessions (
	id         TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL,
	generation INTEGER NOT NULL DEFAULT 0,
	rotated_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	renewed_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER,
	user_agent TEXT    NOT NULL DEFAULT '',
	ip         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX propusk_sessions_user_id_index ON propusk_sessions (user_id);
CREATE INDEX propusk_sessions_expires_at_index ON propusk_sessions (expires_at);
CREATE INDEX propusk_sessions_revoked_at_index ON propusk_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE propusk_session_forks (
	session_id TEXT NOT NULL REFERENCES propusk_sessions (id) ON DELETE CASCADE,
	fork       TEXT NOT NULL,
	generation INTEGER NOT NULL,
	rotated_at INTEGER NOT NULL,
	PRIMARY KEY (session_id, fork)
) WITHOUT ROWID;

CREATE TABLE propusk_signing_keys (
	kid        TEXT    PRIMARY KEY,
	use        TEXT    NOT NULL,
	sealed     BLOB    NOT NULL,
	public     BLOB,
	created_at INTEGER NOT NULL
);

-- AUTOINCREMENT: a seq is never handed out twice, even after a prune
-- empties the table.
CREATE TABLE propusk_events (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT    NOT NULL,
	ref  TEXT    NOT NULL DEFAULT '',
	at   INTEGER NOT NULL
);
CREATE INDEX propusk_events_at_index ON propusk_events (at);
CREATE INDEX propusk_events_kind_at_index ON propusk_events (kind, at);

CREATE TABLE propusk_meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE propusk_budgets (
	key     TEXT PRIMARY KEY,
	n       INTEGER NOT NULL,
	ends_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE propusk_audit_log (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,
	kind       TEXT NOT NULL,
	actor_id   INTEGER NOT NULL DEFAULT 0,
	actor_pat  INTEGER NOT NULL DEFAULT 0,
	actor_auth TEXT NOT NULL DEFAULT '',
	user_id    INTEGER NOT NULL DEFAULT 0,
	session_id TEXT NOT NULL DEFAULT '',
	token_id   INTEGER NOT NULL DEFAULT 0,
	ip         TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	outcome    TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX propusk_audit_log_at_index ON propusk_audit_log (at);
CREATE INDEX propusk_audit_log_user_index ON propusk_audit_log (user_id, id);
CREATE INDEX propusk_audit_log_actor_index ON propusk_audit_log (actor_id, id);
CREATE INDEX propusk_audit_log_kind_index ON propusk_audit_log (kind, id);

-- What propusk keeps of a user that the app's users table has no column
-- for. A user without a row here has the defaults. lkey is the login in
-- lower case as SQL's lower() makes it, kept by the triggers for every
-- row of the app's table, so a login in any letter case is found through
-- an index; canon is the canonical key (package logins) of the logins
-- propusk itself wrote, unique as in propusk's own schema.
CREATE TABLE propusk_users (
	user_id     INTEGER PRIMARY KEY,
	lkey        TEXT,
	canon       TEXT UNIQUE,
	level       INTEGER NOT NULL DEFAULT 10,
	boards      TEXT    NOT NULL DEFAULT '["*"]',
	api_token   TEXT,
	disabled_at INTEGER
);
CREATE INDEX propusk_users_lkey_index ON propusk_users (lkey);
CREATE INDEX propusk_users_admin_index ON propusk_users (level) WHERE level >= 30 AND disabled_at IS NULL;

-- Set (active = 1) by propusk inside each of its write transactions and
-- cleared before it commits. SQLite lets one writer in at a time, so while
-- it is set, the trigger that fires is firing for propusk's own write,
-- which records its feed entries itself: the triggers append entries only
-- for the app's writes.
CREATE TABLE propusk_origin (
	one    INTEGER PRIMARY KEY CHECK (one = 1),
	active INTEGER NOT NULL DEFAULT 0
);
INSERT INTO propusk_origin (one, active) VALUES (1, 0);
