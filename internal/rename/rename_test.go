package rename

import "testing"

func TestSQL(t *testing.T) {
	r := New(map[string]string{"sessions": "propusk_sessions", "events": "propusk_events", "event_seq": "propusk_event_seq"},
		map[string]string{"users": "SELECT id, email AS login FROM \"users\""})
	cases := []struct{ name, in, want string }{
		{"ok/table", `SELECT id FROM sessions WHERE id = ?`, `SELECT id FROM propusk_sessions WHERE id = ?`},
		{"ok/case", `DELETE FROM Sessions`, `DELETE FROM propusk_sessions`},
		{"ok/columns-stay", `SELECT s.id, s.user_id FROM sessions s`, `SELECT s.id, s.user_id FROM propusk_sessions s`},
		{"ok/qualifier", `UPDATE sessions SET x = 1 WHERE sessions.id = $1`, `UPDATE propusk_sessions SET x = 1 WHERE propusk_sessions.id = $1`},
		{"ok/longer-word", `SELECT * FROM session_forks, event_seq`, `SELECT * FROM session_forks, propusk_event_seq`},
		{"ok/literal", `SELECT 'sessions', "sessions", ` + "`sessions`" + ` FROM events`, `SELECT 'sessions', "sessions", ` + "`sessions`" + ` FROM propusk_events`},
		{"ok/escaped-literal", `SELECT 'it''s events', 'a\'events' FROM events`, `SELECT 'it''s events', 'a\'events' FROM propusk_events`},
		{"ok/comment", "SELECT 1 -- events\nFROM events /* sessions */", "SELECT 1 -- events\nFROM propusk_events /* sessions */"},
		{"ok/placeholder", `SELECT $1 FROM events WHERE seq > $2`, `SELECT $1 FROM propusk_events WHERE seq > $2`},
		{"ok/in-word", `SELECT 'propusk_events_' || x, events_at FROM events`, `SELECT 'propusk_events_' || x, events_at FROM propusk_events`},
		{"ok/view-alias", `SELECT u.id FROM users u WHERE u.id = 1`, `SELECT u.id FROM (SELECT id, email AS login FROM "users") u WHERE u.id = 1`},
		{"ok/view-no-alias", `SELECT id FROM users WHERE id = 1`, `SELECT id FROM (SELECT id, email AS login FROM "users") AS users WHERE id = 1`},
		{"ok/view-at-end", `SELECT count(*) FROM users`, `SELECT count(*) FROM (SELECT id, email AS login FROM "users") AS users`},
		{"ok/view-join", `FROM sessions s JOIN users u ON u.id = s.user_id`, `FROM propusk_sessions s JOIN (SELECT id, email AS login FROM "users") u ON u.id = s.user_id`},
		{"ok/quoted-users-stay", `UPDATE "users" SET password = ?`, `UPDATE "users" SET password = ?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // the second from the cache
				if got := r.SQL(c.in); got != c.want {
					t.Fatalf("SQL(%q)\n = %q\nwant %q", c.in, got, c.want)
				}
			}
		})
	}
	var none *Renamer
	if got := none.SQL("SELECT 1 FROM events"); got != "SELECT 1 FROM events" {
		t.Fatalf("nil Renamer changed the statement: %q", got)
	}
}
