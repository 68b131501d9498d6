package propusk

import "time"

// Stores keep propusk's own times to the millisecond and Sanctum's table to
// the second, as Laravel writes it. The Prepare methods below set a new
// row's defaults and round its times to what the store will read back, so a
// value a store returns compares Equal to the one it was given. Every store
// calls them before an insert.

// TruncMillis rounds t down to the millisecond, in UTC; zero stays zero.
func TruncMillis(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Millisecond).UTC()
}

// TruncSeconds rounds t down to the second, in UTC; zero stays zero.
func TruncSeconds(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Second).UTC()
}

// Prepare sets a new user's defaults (created now, level LevelUser, every
// board) and rounds its times.
func (u *User) Prepare(now time.Time) {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.CreatedAt = TruncMillis(u.CreatedAt)
	u.UpdatedAt = u.CreatedAt
	if u.Level == 0 {
		u.Level = LevelUser
	}
	if u.Boards == nil {
		u.Boards = []string{AllBoards}
	}
}

// Prepare sets a new session's defaults (created, rotated and renewed now)
// and rounds its times.
func (s *Session) Prepare(now time.Time) {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.CreatedAt = TruncMillis(s.CreatedAt)
	if s.RotatedAt.IsZero() {
		s.RotatedAt = s.CreatedAt
	}
	if s.RenewedAt.IsZero() {
		s.RenewedAt = s.CreatedAt
	}
	s.RotatedAt = TruncMillis(s.RotatedAt)
	s.RenewedAt = TruncMillis(s.RenewedAt)
	s.ExpiresAt = TruncMillis(s.ExpiresAt)
	s.RevokedAt = TruncMillis(s.RevokedAt)
}

// Prepare sets a new token's defaults (created and updated now, abilities
// ["*"]) and rounds its times to the second.
func (t *PersonalAccessToken) Prepare(now time.Time) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	if t.Abilities == nil {
		t.Abilities = []string{AllAbilities}
	}
	t.CreatedAt = TruncSeconds(t.CreatedAt)
	t.UpdatedAt = TruncSeconds(t.UpdatedAt)
	t.LastUsedAt = TruncSeconds(t.LastUsedAt)
	t.ExpiresAt = TruncSeconds(t.ExpiresAt)
}
