-- propusk on MySQL 8 and MariaDB 10.11. Every table is InnoDB, utf8mb4 with
-- the binary collation: strings compare byte for byte, as on PostgreSQL and
-- SQLite, never by the server's case- and accent-folding collations. Logins
-- that look alike are told apart by login_key (package logins), computed in
-- Go, never by a collation.
--
-- Our own times are DATETIME(3) in UTC (the store sets time_zone to +00:00).
-- personal_access_tokens keeps the types Laravel 11 and Sanctum 4 give it on
-- MySQL (TIMESTAMP NULL, to the second), so a Laravel app can share it.

CREATE TABLE users (
	id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	login         VARCHAR(255) NOT NULL,
	login_key     VARCHAR(255) NULL,
	password_hash VARCHAR(255) NOT NULL DEFAULT '',
	level         INT NOT NULL DEFAULT 10,
	boards        VARCHAR(2048) NOT NULL DEFAULT '["*"]',
	api_token     TEXT NULL,
	created_at    DATETIME(3) NOT NULL,
	updated_at    DATETIME(3) NOT NULL,
	UNIQUE KEY users_login_unique (login),
	UNIQUE KEY users_login_key_unique (login_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- forks counts session_forks rows, so that the fork cap is checked by the
-- UPDATE that takes the session row's lock (see session.go).
CREATE TABLE sessions (
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
	KEY sessions_user_id_index (user_id),
	KEY sessions_revoked_at_index (revoked_at),
	CONSTRAINT sessions_user_id_foreign FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE session_forks (
	session_id VARCHAR(255) NOT NULL,
	fork       VARCHAR(255) NOT NULL,
	generation BIGINT NOT NULL,
	rotated_at DATETIME(3) NOT NULL,
	PRIMARY KEY (session_id, fork),
	CONSTRAINT session_forks_session_id_foreign FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- As Laravel 11 and Sanctum 4 create it on MySQL.
CREATE TABLE personal_access_tokens (
	id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	tokenable_type VARCHAR(255) NOT NULL,
	tokenable_id   BIGINT UNSIGNED NOT NULL,
	name           TEXT NOT NULL,
	token          VARCHAR(64) NOT NULL,
	abilities      TEXT NULL,
	last_used_at   TIMESTAMP NULL,
	expires_at     TIMESTAMP NULL,
	created_at     TIMESTAMP NULL,
	updated_at     TIMESTAMP NULL,
	UNIQUE KEY personal_access_tokens_token_unique (token),
	KEY personal_access_tokens_tokenable_type_tokenable_id_index (tokenable_type, tokenable_id),
	KEY personal_access_tokens_expires_at_index (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE signing_keys (
	kid        VARCHAR(255) NOT NULL PRIMARY KEY,
	`use`      VARCHAR(32) NOT NULL,
	sealed     BLOB NOT NULL,
	public     BLOB NULL,
	created_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The feed's seq comes from the one row of event_seq, not AUTO_INCREMENT:
-- an auto-increment value is taken at insert time, so seq 12 could commit
-- while seq 11 is still uncommitted, and a poller that resumes after 12
-- would never see 11. Taking the number by updating one row holds its lock
-- until commit, so entries become visible in seq order.
CREATE TABLE event_seq (
	one TINYINT NOT NULL PRIMARY KEY,
	seq BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO event_seq (one, seq) VALUES (1, 0);

-- Every process polls this table by its primary key (seq > ?).
CREATE TABLE events (
	seq  BIGINT NOT NULL PRIMARY KEY,
	kind VARCHAR(32) NOT NULL,
	ref  VARCHAR(255) NOT NULL DEFAULT '',
	at   DATETIME(3) NOT NULL,
	KEY events_at_index (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE meta (
	name  VARCHAR(255) NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Rows whose lock serializes one kind of work across processes
-- (AddMissingKeys locks 'keys').
CREATE TABLE store_locks (
	name VARCHAR(64) NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
INSERT INTO store_locks (name) VALUES ('keys');

-- Attempt budgets (failed logins, registrations) shared by every process.
CREATE TABLE budgets (
	`key`   VARCHAR(255) NOT NULL PRIMARY KEY,
	n       INT NOT NULL,
	ends_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
