-- Issue 13: the audit log of security events. It holds ids, addresses and
-- words, never a token, a password or a hash.
CREATE TABLE audit_log (
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
	KEY audit_log_at_index (at),
	KEY audit_log_user_index (user_id, id),
	KEY audit_log_actor_index (actor_id, id),
	KEY audit_log_kind_index (kind, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
