-- The triggers of Laravel mode, on the app's tables (a text/template:
-- .Login is the login column, .Channel the SQL of the notification
-- channel). Migrate installs them again whenever this text, once rendered,
-- changes. They keep propusk_users' lkey current for every write the app
-- makes, and record in propusk's feed, with a notification, what the app
-- changes that other processes must act on: a deleted token, a changed
-- login or password, a deleted user (whose sessions they end). propusk's
-- own connections carry propusk.origin = 'propusk' (a startup parameter):
-- their writes record their entries themselves. Statement-level triggers
-- with transition tables take the feed's lock once per statement, after
-- the statement has taken its row locks. The functions' search_path is
-- the one Migrate ran with, which is where propusk's tables are.

CREATE OR REPLACE FUNCTION propusk_append_events(p_kind text, p_refs text[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	n int := coalesce(cardinality(p_refs), 0);
	last bigint;
BEGIN
	IF n = 0 THEN
		RETURN;
	END IF;
	UPDATE propusk_event_seq SET seq = seq + n RETURNING seq INTO last;
	INSERT INTO propusk_events (seq, kind, ref, at)
	SELECT last - n + r.i, p_kind, r.ref, date_trunc('milliseconds', clock_timestamp())
	FROM unnest(p_refs) WITH ORDINALITY AS r (ref, i);
	PERFORM pg_notify({{.Channel}}, last::text);
END $$;

-- propusk_by_app reports whether the statement that fired a trigger is the
-- app's, not one of propusk's own.
CREATE OR REPLACE FUNCTION propusk_by_app() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT current_setting('propusk.origin', true) IS DISTINCT FROM 'propusk' $$;

CREATE OR REPLACE FUNCTION propusk_pat_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF propusk_by_app() THEN
		PERFORM propusk_append_events('pat', ARRAY(SELECT id::text FROM propusk_old ORDER BY id));
	END IF;
	RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS propusk_pat_deleted ON personal_access_tokens;
CREATE TRIGGER propusk_pat_deleted AFTER DELETE ON personal_access_tokens
REFERENCING OLD TABLE AS propusk_old FOR EACH STATEMENT EXECUTE FUNCTION propusk_pat_deleted();

CREATE OR REPLACE FUNCTION propusk_users_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	INSERT INTO propusk_users (user_id, lkey) SELECT id, lower("{{.Login}}") FROM propusk_new
	ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey;
	RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS propusk_users_inserted ON "users";
CREATE TRIGGER propusk_users_inserted AFTER INSERT ON "users"
REFERENCING NEW TABLE AS propusk_new FOR EACH STATEMENT EXECUTE FUNCTION propusk_users_inserted();

CREATE OR REPLACE FUNCTION propusk_users_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	INSERT INTO propusk_users (user_id, lkey)
	SELECT n.id, lower(n."{{.Login}}") FROM propusk_new n JOIN propusk_old o ON o.id = n.id
	WHERE n."{{.Login}}" IS DISTINCT FROM o."{{.Login}}"
	ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey,
		canon = CASE WHEN propusk_users.lkey IS NOT DISTINCT FROM excluded.lkey THEN propusk_users.canon END;
	IF propusk_by_app() THEN
		PERFORM propusk_append_events('user', ARRAY(
			SELECT n.id::text FROM propusk_new n JOIN propusk_old o ON o.id = n.id
			WHERE n."{{.Login}}" IS DISTINCT FROM o."{{.Login}}" OR n.password IS DISTINCT FROM o.password
			ORDER BY n.id));
	END IF;
	RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS propusk_users_updated ON "users";
CREATE TRIGGER propusk_users_updated AFTER UPDATE ON "users"
REFERENCING OLD TABLE AS propusk_old NEW TABLE AS propusk_new FOR EACH STATEMENT EXECUTE FUNCTION propusk_users_updated();

CREATE OR REPLACE FUNCTION propusk_users_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	ended text[];
BEGIN
	IF propusk_by_app() THEN
		WITH r AS (
			UPDATE propusk_sessions SET revoked_at = date_trunc('milliseconds', clock_timestamp())
			WHERE user_id IN (SELECT id FROM propusk_old) AND revoked_at IS NULL
			RETURNING id
		)
		SELECT array_agg(id ORDER BY id) INTO ended FROM r;
		PERFORM propusk_append_events('session', ended);
		PERFORM propusk_append_events('user', ARRAY(SELECT id::text FROM propusk_old ORDER BY id));
	END IF;
	DELETE FROM propusk_sessions WHERE user_id IN (SELECT id FROM propusk_old);
	DELETE FROM propusk_users WHERE user_id IN (SELECT id FROM propusk_old);
	RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS propusk_users_deleted ON "users";
CREATE TRIGGER propusk_users_deleted AFTER DELETE ON "users"
REFERENCING OLD TABLE AS propusk_old FOR EACH STATEMENT EXECUTE FUNCTION propusk_users_deleted();
