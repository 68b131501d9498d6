-- The triggers of Laravel mode, on the app's tables (a text/template:
-- .Login is the login column). Migrate installs them again whenever this
-- text, once rendered, changes; each statement ends at a line "//". They
-- keep propusk_users' lkey current for every write the app makes, and
-- record in propusk's feed what the app changes that other processes must
-- act on: a deleted token, a changed login or password, a deleted user
-- (whose sessions they end). propusk's own connections set the session
-- variable @propusk_origin: their writes record their entries themselves.
-- Feed times are UTC_TIMESTAMP, whatever the app's session time zone. Each
-- entry takes its seq under propusk_event_seq's row lock, as propusk does.

DROP TRIGGER IF EXISTS propusk_pat_deleted
//
CREATE TRIGGER propusk_pat_deleted AFTER DELETE ON personal_access_tokens FOR EACH ROW
BEGIN
	IF @propusk_origin IS NULL THEN
		UPDATE propusk_event_seq SET seq = seq + 1 WHERE one = 1;
		INSERT INTO propusk_events (seq, kind, ref, at)
		SELECT seq, 'pat', OLD.id, UTC_TIMESTAMP(3) FROM propusk_event_seq WHERE one = 1;
	END IF;
END
//
DROP TRIGGER IF EXISTS propusk_users_inserted
//
CREATE TRIGGER propusk_users_inserted AFTER INSERT ON `users` FOR EACH ROW
	INSERT INTO propusk_users (user_id, lkey) VALUES (NEW.id, LOWER(NEW.`{{.Login}}`))
	ON DUPLICATE KEY UPDATE lkey = VALUES(lkey)
//
DROP TRIGGER IF EXISTS propusk_users_updated
//
CREATE TRIGGER propusk_users_updated AFTER UPDATE ON `users` FOR EACH ROW
BEGIN
	IF NOT (BINARY NEW.`{{.Login}}` <=> BINARY OLD.`{{.Login}}`) THEN
		INSERT INTO propusk_users (user_id, lkey) VALUES (NEW.id, LOWER(NEW.`{{.Login}}`))
		ON DUPLICATE KEY UPDATE canon = IF(lkey <=> VALUES(lkey), canon, NULL), lkey = VALUES(lkey);
	END IF;
	IF @propusk_origin IS NULL AND (NOT (BINARY NEW.`{{.Login}}` <=> BINARY OLD.`{{.Login}}`)
			OR NOT (BINARY NEW.password <=> BINARY OLD.password)) THEN
		UPDATE propusk_event_seq SET seq = seq + 1 WHERE one = 1;
		INSERT INTO propusk_events (seq, kind, ref, at)
		SELECT seq, 'user', NEW.id, UTC_TIMESTAMP(3) FROM propusk_event_seq WHERE one = 1;
	END IF;
END
//
DROP TRIGGER IF EXISTS propusk_users_deleted
//
CREATE TRIGGER propusk_users_deleted AFTER DELETE ON `users` FOR EACH ROW
BEGIN
	DECLARE n INT DEFAULT 0;
	IF @propusk_origin IS NULL THEN
		SELECT COUNT(*) INTO n FROM propusk_sessions WHERE user_id = OLD.id AND revoked_at IS NULL FOR UPDATE;
		IF n > 0 THEN
			UPDATE propusk_event_seq SET seq = seq + n WHERE one = 1;
			INSERT INTO propusk_events (seq, kind, ref, at)
			SELECT q.seq - n + ROW_NUMBER() OVER (ORDER BY s.id), 'session', s.id, UTC_TIMESTAMP(3)
			FROM propusk_sessions s JOIN propusk_event_seq q ON q.one = 1
			WHERE s.user_id = OLD.id AND s.revoked_at IS NULL;
		END IF;
		UPDATE propusk_event_seq SET seq = seq + 1 WHERE one = 1;
		INSERT INTO propusk_events (seq, kind, ref, at)
		SELECT seq, 'user', OLD.id, UTC_TIMESTAMP(3) FROM propusk_event_seq WHERE one = 1;
	END IF;
	DELETE FROM propusk_sessions WHERE user_id = OLD.id;
	DELETE FROM propusk_users WHERE user_id = OLD.id;
END
//
