-- Issue 13: the audit log of security events. It holds ids, addresses and
-- words, never a token, a password or a hash.
CREATE TABLE audit_log (
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
CREATE INDEX audit_log_at_index ON audit_log (at);
CREATE INDEX audit_log_user_index ON audit_log (user_id, id);
CREATE INDEX audit_log_actor_index ON audit_log (actor_id, id);
CREATE INDEX audit_log_kind_index ON audit_log (kind, id);
