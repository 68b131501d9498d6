-- propusk's own tables in the database of a Laravel application (Laravel
-- mode). Every name starts with propusk_, so none collides with the app's;
-- the app's users and personal_access_tokens are never altered. The tables
-- are those of ../migrations as they stand after its last file, without
-- users and personal_access_tokens, and without foreign keys to the app's
-- tables (they would stop the app from dropping or altering its own): the
-- triggers of triggers.sql clean up instead. A migration of ../migrations
-- that changes one of these tables needs its twin here.

CREATE TABLE propusk_sessions (
	id         text        PRIMARY KEY,
	user_id    bigint      NOT NULL,
	generation bigint      NOT NULL DEFAULT 0,
	forks      integer     NOT NULL DEFAULT 0,
	rotated_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL,
	renewed_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz,
	user_agent text        NOT NULL DEFAULT '',
	ip         text        NOT NULL DEFAULT ''
) WITH (fillfactor = 70);
CREATE INDEX propusk_sessions_user_id_index ON propusk_sessions (user_id);
CREATE INDEX propusk_sessions_revoked_at_index ON propusk_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE propusk_session_forks (
	session_id text        NOT NULL REFERENCES propusk_sessions (id) ON DELETE CASCADE,
	fork       text        NOT NULL,
	generation bigint      NOT NULL,
	rotated_at timestamptz NOT NULL,
	PRIMARY KEY (session_id, fork)
);

CREATE TABLE propusk_signing_keys (
	kid        text        PRIMARY KEY,
	use        text        NOT NULL,
	sealed     bytea       NOT NULL,
	public     bytea,
	created_at timestamptz NOT NULL
);

-- The feed's seq comes from the one row of propusk_event_seq, whose lock
-- orders the entries by commit (see ../migrations/0001_init.sql).
CREATE TABLE propusk_event_seq (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq bigint  NOT NULL
);
INSERT INTO propusk_event_seq (seq) VALUES (0);

CREATE TABLE propusk_events (
	seq  bigint      PRIMARY KEY,
	kind text        NOT NULL,
	ref  text        NOT NULL DEFAULT '',
	at   timestamptz NOT NULL
);
CREATE INDEX propusk_events_at_index ON propusk_events (at);
CREATE INDEX propusk_events_kind_at_index ON propusk_events (kind, at);

CREATE TABLE propusk_meta (
	name  text PRIMARY KEY,
	value text NOT NULL
);

CREATE UNLOGGED TABLE propusk_budgets (
	key     text        PRIMARY KEY,
	n       integer     NOT NULL,
	ends_at timestamptz NOT NULL
) WITH (fillfactor = 70);

CREATE TABLE propusk_audit_log (
	id         bigserial PRIMARY KEY,
	at         timestamptz NOT NULL,
	kind       text NOT NULL,
	actor_id   bigint NOT NULL DEFAULT 0,
	actor_pat  bigint NOT NULL DEFAULT 0,
	actor_auth text NOT NULL DEFAULT '',
	user_id    bigint NOT NULL DEFAULT 0,
	session_id text NOT NULL DEFAULT '',
	token_id   bigint NOT NULL DEFAULT 0,
	ip         text NOT NULL DEFAULT '',
	user_agent text NOT NULL DEFAULT '',
	outcome    text NOT NULL DEFAULT '',
	detail     text NOT NULL DEFAULT ''
);
CREATE INDEX propusk_audit_log_at_index ON propusk_audit_log (at);
CREATE INDEX propusk_audit_log_user_index ON propusk_audit_log (user_id, id);
CREATE INDEX propusk_audit_log_actor_index ON propusk_audit_log (actor_id, id);
CREATE INDEX propusk_audit_log_kind_index ON propusk_audit_log (kind, id);

-- What propusk keeps of a user that the app's users table has no column
-- for. A user without a row here has the defaults. lkey is the login in
-- lower case as lower() makes it, kept by the triggers for every row of the
-- app's table, so a login in any letter case is found through an index;
-- canon is the canonical key (package logins) of the logins propusk itself
-- wrote, unique as in propusk's own schema.
CREATE TABLE propusk_users (
	user_id     bigint  PRIMARY KEY,
	lkey        text,
	canon       text    UNIQUE,
	level       integer NOT NULL DEFAULT 10,
	boards      text[]  NOT NULL DEFAULT '{*}',
	api_token   text,
	disabled_at timestamptz
);
CREATE INDEX propusk_users_lkey_index ON propusk_users (lkey);
CREATE INDEX propusk_users_admin_index ON propusk_users (level) WHERE level >= 30 AND disabled_at IS NULL;
