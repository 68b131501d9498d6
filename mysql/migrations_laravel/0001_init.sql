-- propusk's own tables in the database of a Laravel application (Laravel
-- mode). Every name starts with propusk_, so none collides with the app's;
-- the app's users and personal_access_tokens are never altered. The tables
-- are those of ../migrations as they stand after its last file, without
-- users and personal_access_tokens, and without foreign keys to the app's
-- tables (they would stop the app from dropping or altering its own): the
-- triggers of triggers.sql clean up instead. A migration of ../migrations
-- that changes one of these tables needs its twin here. As there, each
-- statement is safe to run again after a run that failed part way.

CREATE TABLE IF NOT EXISTS propusk_sessions (
	id         VARCHAR(255) NOT NULL PRIMARY KEY,
	user_id    BIGINT UNSIGNED NOT NULL,
	generation BIGINT NOT NULL DEFAULT 0,
	forks      INT NOT NULL DEFAULT 0,
	rotated_at DATETIME(3) NOT NULL,
	created_at DATETIME(3) NOT NULL,
	renewed_at DATETIME(3) NOT NULL,
	expires_at DATETIME(3) NOT NULL,
	revoked_at DATETIME(3) NULL,
	user_agent TEXT NOT NULL,
	ip         VARCHAR(255) NOT NULL DEFAULT '',
	KEY propusk_sessions_user_id_index (user_id),
	KEY propusk_sessions_revoked_at_index (revoked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS propusk_session_forks (
	session_id VARCHAR(255) NOT NULL,
	fork       VARCHAR(255) NOT NULL,
	generation BIGINT NOT NULL,
	rotated_at DATETIME(3) NOT NULL,
	PRIMARY KEY (session_id, fork),
	CONSTRAINT propusk_session_forks_session_id_foreign FOREIGN KEY (session_id) REFERENCES propusk_sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS propusk_signing_keys (
	kid        VARCHAR(255) NOT NULL PRIMARY KEY,
	`use`      VARCHAR(32) NOT NULL,
	sealed     BLOB NOT NULL,
	public     BLOB NULL,
	created_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The feed's seq comes from the one row of propusk_event_seq, whose lock
-- orders the entries by commit (see ../migrations/0001_12_init.sql).
CREATE TABLE IF NOT EXISTS propusk_event_seq (
	one TINYINT NOT NULL PRIMARY KEY,
	seq BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO propusk_event_seq (one, seq) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS propusk_events (
	seq  BIGINT NOT NULL PRIMARY KEY,
	kind VARCHAR(32) NOT NULL,
	ref  VARCHAR(255) NOT NULL DEFAULT '',
	at   DATETIME(3) NOT NULL,
	KEY propusk_events_at_index (at),
	KEY propusk_events_kind_at_index (kind, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS propusk_meta (
	name  VARCHAR(255) NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS propusk_store_locks (
	name VARCHAR(64) NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
INSERT IGNORE INTO propusk_store_locks (name) VALUES ('keys'), ('admins');

CREATE TABLE IF NOT EXISTS propusk_budgets (
	`key`   VARCHAR(255) NOT NULL PRIMARY KEY,
	n       INT NOT NULL,
	ends_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS propusk_audit_log (
	id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	at         DATETIME(3) NOT NULL,
	kind       VARCHAR(64) NOT NULL,
	actor_id   BIGINT NOT NULL DEFAULT 0,
	actor_pat  BIGINT NOT NULL DEFAULT 0,
	actor_auth VARCHAR(16) NOT NULL DEFAULT '',
	user_id    BIGINT NOT NULL DEFAULT 0,
	session_id VARCHAR(255) NOT NULL DEFAULT '',
	token_id   BIGINT NOT NULL DEFAULT 0,
	ip         VARCHAR(255) NOT NULL DEFAULT '',
	user_agent VARCHAR(512) NOT NULL DEFAULT '',
	outcome    VARCHAR(64) NOT NULL DEFAULT '',
	detail     VARCHAR(255) NOT NULL DEFAULT '',
	KEY propusk_audit_log_at_index (at),
	KEY propusk_audit_log_user_index (user_id, id),
	KEY propusk_audit_log_actor_index (actor_id, id),
	KEY propusk_audit_log_kind_index (kind, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What propusk keeps of a user that the app's users table has no column
-- for. A user without a row here has the defaults. lkey is the login in
-- lower case as LOWER() makes it, kept by the triggers for every row of
-- the app's table, so a login in any letter case is found through an
-- index; canon is the canonical key (package logins) of the logins propusk
-- itself wrote, unique as in propusk's own schema. Both are VARBINARY, so
-- they compare byte for byte, without the trailing-space padding of the
-- server's collations. users_admin_index leads with disabled_at, as in
-- ../migrations/0002_13_disabled.sql.
CREATE TABLE IF NOT EXISTS propusk_users (
	user_id     BIGINT UNSIGNED NOT NULL PRIMARY KEY,
	lkey        VARBINARY(1024) NULL,
	canon       VARBINARY(1024) NULL,
	level       INT NOT NULL DEFAULT 10,
	boards      VARCHAR(2048) NOT NULL DEFAULT '["*"]',
	api_token   TEXT NULL,
	disabled_at DATETIME(3) NULL,
	KEY propusk_users_lkey_index (lkey),
	UNIQUE KEY propusk_users_canon_unique (canon),
	KEY propusk_users_admin_index (disabled_at, level)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
