-- The canonical key of each login (package logins): logins that look alike
-- share it, so the unique index keeps them to one user. Computed in Go
-- (fillLoginKeys runs after this file, in its transaction). NULL in rows
-- another app wrote; NULLs do not collide.
ALTER TABLE users ADD COLUMN login_key text;
CREATE UNIQUE INDEX users_login_key_unique ON users (login_key);
