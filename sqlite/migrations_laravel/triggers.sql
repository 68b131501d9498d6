-- The triggers of Laravel mode, on the app's tables (a text/template:
-- .Login is the login column, .Now the time in unix milliseconds).
-- Migrate installs them again whenever this text, once rendered, changes.
-- They keep propusk_users' lkey current for every write the app makes, and
-- record in propusk's feed what the app changes that other processes must
-- act on: a deleted token, a changed login or password, a deleted user
-- (whose sessions they end). propusk's own writes record their entries
-- themselves (see propusk_origin). A trigger never fails the app's write:
-- it writes only propusk's tables, with no constraint the app can break.

DROP TRIGGER IF EXISTS propusk_pat_deleted;
CREATE TRIGGER propusk_pat_deleted AFTER DELETE ON personal_access_tokens
WHEN NOT EXISTS (SELECT 1 FROM propusk_origin WHERE active = 1)
BEGIN
	INSERT INTO propusk_events (kind, ref, at) VALUES ('pat', OLD.id, {{.Now}});
END;

DROP TRIGGER IF EXISTS propusk_users_inserted;
CREATE TRIGGER propusk_users_inserted AFTER INSERT ON "users"
BEGIN
	INSERT INTO propusk_users (user_id, lkey) VALUES (NEW.id, lower(NEW."{{.Login}}"))
	ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey;
END;

DROP TRIGGER IF EXISTS propusk_users_updated;
CREATE TRIGGER propusk_users_updated AFTER UPDATE ON "users"
WHEN NEW."{{.Login}}" IS NOT OLD."{{.Login}}" OR NEW.password IS NOT OLD.password
BEGIN
	INSERT INTO propusk_users (user_id, lkey) VALUES (NEW.id, lower(NEW."{{.Login}}"))
	ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey,
		canon = CASE WHEN propusk_users.lkey IS excluded.lkey THEN propusk_users.canon END;
	INSERT INTO propusk_events (kind, ref, at)
	SELECT 'user', NEW.id, {{.Now}} WHERE NOT EXISTS (SELECT 1 FROM propusk_origin WHERE active = 1);
END;

DROP TRIGGER IF EXISTS propusk_users_deleted;
CREATE TRIGGER propusk_users_deleted AFTER DELETE ON "users"
BEGIN
	INSERT INTO propusk_events (kind, ref, at)
	SELECT 'session', id, {{.Now}} FROM propusk_sessions
	WHERE user_id = OLD.id AND revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM propusk_origin WHERE active = 1)
	ORDER BY id;
	DELETE FROM propusk_session_forks WHERE session_id IN (SELECT id FROM propusk_sessions WHERE user_id = OLD.id);
	DELETE FROM propusk_sessions WHERE user_id = OLD.id;
	DELETE FROM propusk_users WHERE user_id = OLD.id;
	INSERT INTO propusk_events (kind, ref, at)
	SELECT 'user', OLD.id, {{.Now}} WHERE NOT EXISTS (SELECT 1 FROM propusk_origin WHERE active = 1);
END;
