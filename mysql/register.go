package mysql

import (
	"context"
	"database/sql"
	"time"

	"github.com/propusk/propusk"
)

// Register writes the user, their session and their api-token in one
// transaction: see propusk.Store. ECONFLICT when the login is taken.
func (s *Store) Register(ctx context.Context, r *propusk.Registration) error {
	now := s.now()
	r.User.Prepare(now)
	r.Session.Prepare(now)
	r.Token.Prepare(now)
	return s.write(ctx, "register", func(ctx context.Context, tx *sql.Tx) error {
		if err := s.insertUser(ctx, tx, r.User); err != nil {
			return err
		}
		r.Session.UserID, r.Token.TokenableID = r.User.ID, r.User.ID
		if err := insertSession(ctx, tx, r.Session); err != nil {
			return err
		}
		if err := insertToken(ctx, tx, r.Token, s.pat()); err != nil {
			return err
		}
		sealed, err := r.SealAPIToken(r.User.ID)
		if err != nil {
			return err
		}
		if _, err := s.setAPIToken(ctx, tx, r.User.ID, sealed, time.Time{}); err != nil {
			return err
		}
		r.User.APIToken = sealed
		return nil
	})
}
