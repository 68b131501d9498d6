-- Our own tables keep times as INTEGER unix milliseconds: exact, compact and
-- ordered. personal_access_tokens keeps Laravel's types and formats instead
-- (TEXT 'YYYY-MM-DD HH:MM:SS' in UTC) so a Laravel Sanctum app can share it.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	login         TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL DEFAULT '',
	level         INTEGER NOT NULL DEFAULT 10,
	boards        TEXT    NOT NULL DEFAULT '["*"]',
	api_token     TEXT,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
	id         TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	generation INTEGER NOT NULL DEFAULT 0,
	rotated_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	renewed_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER,
	user_agent TEXT    NOT NULL DEFAULT '',
	ip         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id_index ON sessions (user_id);
CREATE INDEX sessions_expires_at_index ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_index ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- As Laravel 11 and Sanctum 4 create it on SQLite.
CREATE TABLE personal_access_tokens (
	id             INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
	tokenable_type VARCHAR NOT NULL,
	tokenable_id   INTEGER NOT NULL,
	name           TEXT    NOT NULL,
	token          VARCHAR NOT NULL,
	abilities      TEXT,
	last_used_at   DATETIME,
	expires_at     DATETIME,
	created_at     DATETIME,
	updated_at     DATETIME
);
CREATE INDEX personal_access_tokens_tokenable_type_tokenable_id_index
	ON personal_access_tokens (tokenable_type, tokenable_id);
CREATE UNIQUE INDEX personal_access_tokens_token_unique ON personal_access_tokens (token);
CREATE INDEX personal_access_tokens_expires_at_index ON personal_access_tokens (expires_at);

CREATE TABLE signing_keys (
	kid        TEXT    PRIMARY KEY,
	use        TEXT    NOT NULL,
	sealed     BLOB    NOT NULL,
	public     BLOB,
	created_at INTEGER NOT NULL
);

-- AUTOINCREMENT so that a seq is never handed out twice, even after Prune
-- empties the table: processes resume the feed after the last seq they saw.
CREATE TABLE events (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT    NOT NULL,
	ref  TEXT    NOT NULL DEFAULT '',
	at   INTEGER NOT NULL
);
CREATE INDEX events_at_index ON events (at);

CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
