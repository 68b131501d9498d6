-- Issue 13: the audit log of security events. It holds ids, addresses and
-- words, never a token, a password or a hash.
CREATE TABLE audit_log (
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
CREATE INDEX audit_log_at_index ON audit_log (at);
CREATE INDEX audit_log_user_index ON audit_log (user_id, id);
CREATE INDEX audit_log_actor_index ON audit_log (actor_id, id);
CREATE INDEX audit_log_kind_index ON audit_log (kind, id);
