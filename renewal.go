package propusk

import "time"

// MaxForks bounds the chains a session may fork into. Racing tabs need a
// few; past the bound a race loser shares the chain it raced on.
const MaxForks = 16

// Spend names the refresh token a renewal spends.
type Spend struct {
	Session    string // the "sid" claim
	Fork       string // the "fork" claim; "" for the session's first chain
	Generation int64  // the "gen" claim
	// NewFork is a fresh random chain id the store uses if the spend is a
	// race loser's and the session may fork.
	NewFork string
}

// Renewal is what spending a refresh token did, and what the new refresh
// token must carry.
type Renewal struct {
	Outcome    RenewOutcome
	Session    *Session // as it is afterwards; nil for RenewInvalid
	User       *User    // for RenewRotated and RenewGrace
	Fork       string   // the chain of the new refresh token
	Generation int64    // its generation
}

// RenewOutcome says what spending a refresh token did.
type RenewOutcome int

const (
	// RenewRotated: the token was the current one; the session moved on a generation.
	RenewRotated RenewOutcome = iota + 1
	// RenewGrace: the token was the previous generation of its chain, spent
	// within the grace period (two tabs racing): the caller gets a new chain
	// of the same session (or, past MaxForks, the current generation of the
	// raced chain), and the racer that won keeps its own.
	RenewGrace
	// RenewReused: the token was spent before, outside the grace period. The
	// store has revoked the session and recorded the revocation.
	RenewReused
	// RenewInvalid: the session does not exist, is revoked or has expired.
	RenewInvalid
)

// Chain is what a store knows of the chain a spend names when it asks
// Judge for the verdict.
type Chain struct {
	// Swapped: the store's compare-and-swap moved the chain on from the
	// spent generation, so the spend was the current token of a live
	// session. Nothing else is read: that is the one-statement fast path.
	Swapped bool
	// Session is the session as read after a swap that matched nothing;
	// nil when there is no such session.
	Session *Session
	// Fork is the forked chain the spend named, as read; nil for the
	// session's first chain (Spend.Fork == "") or a fork that does not exist.
	Fork *ForkChain
	// Forks is how many forks the session has. It only spares a full
	// session the write: the fork cap itself is checked by the write.
	Forks int
}

// ForkChain is a forked chain's counter: the generation it may spend and
// when it last moved.
type ForkChain struct {
	Generation int64
	RotatedAt  time.Time
}

// Act is what a store must do to carry out a Verdict.
type Act int

const (
	// ActRotate: the compare-and-swap has rotated the chain; nothing more to write.
	ActRotate Act = iota + 1
	// ActFork: start chain Verdict.Fork at Verdict.Generation, in a write
	// that checks the session still has fewer than MaxForks forks; when it
	// has not (concurrent losers took the last ones), carry out
	// Verdict.Shared() instead.
	ActFork
	// ActShare: nothing to write; the racer shares the raced chain.
	ActShare
	// ActRevoke: revoke the session and append an EventSession, in one transaction.
	ActRevoke
	// ActRefuse: nothing to write; the spend renews nothing.
	ActRefuse
)

// Verdict is the whole decision on a spend: what the store must do, and
// what the new refresh token carries.
type Verdict struct {
	Act        Act
	Fork       string // the chain of the new refresh token (ActRotate, ActFork, ActShare)
	Generation int64  // its generation
	// ShareFork and ShareGeneration are, for ActFork, the raced chain and
	// its current generation: what Shared returns.
	ShareFork       string
	ShareGeneration int64
}

// Outcome is what the verdict tells the caller of Store.RenewSession.
func (v Verdict) Outcome() RenewOutcome {
	switch v.Act {
	case ActRotate:
		return RenewRotated
	case ActFork, ActShare:
		return RenewGrace
	case ActRevoke:
		return RenewReused
	default:
		return RenewInvalid
	}
}

// Shared is the verdict a store carries out when an ActFork verdict cannot
// fork because the session reached MaxForks meanwhile.
func (v Verdict) Shared() Verdict {
	return Verdict{Act: ActShare, Fork: v.ShareFork, Generation: v.ShareGeneration}
}

// Renewal is what a store returns once it has carried out v: sess is the
// session as it read it (or as the swap left it) and u its user. A refused
// spend carries neither, a revoked one no user, and a revoked session
// shows it was revoked at now.
func (v Verdict) Renewal(sess *Session, u *User, now time.Time) *Renewal {
	r := &Renewal{Outcome: v.Outcome()}
	switch v.Act {
	case ActRotate, ActFork, ActShare:
		r.Session, r.User, r.Fork, r.Generation = sess, u, v.Fork, v.Generation
	case ActRevoke:
		revoked := *sess
		revoked.RevokedAt = now
		r.Session = &revoked
	}
	return r
}

// Judge decides what spending the refresh token sp names at now is, given
// what the store knows of its chain. It is the whole renewal rule, and
// every store carries out its verdict as it is:
//
//   - the current generation of a live session's chain rotates (the store
//     learns that by its compare-and-swap: c.Swapped);
//   - the previous generation, within grace of the chain's last rotation,
//     is two tabs racing: the loser forks a chain of its own at the next
//     generation (sp.NewFork), or shares the raced chain once the session
//     has MaxForks forks (or when no fork id was given);
//   - any older generation is a replay: the session is revoked;
//   - a session that is missing, revoked or expired, a fork that does not
//     exist, or a generation never issued renews nothing.
func Judge(sp Spend, c Chain, now time.Time, grace time.Duration) Verdict {
	if c.Swapped {
		return Verdict{Act: ActRotate, Fork: sp.Fork, Generation: sp.Generation + 1}
	}
	s := c.Session
	if s == nil || s.Revoked() || !now.Before(s.ExpiresAt) {
		return Verdict{Act: ActRefuse}
	}
	gen, rotated := s.Generation, s.RotatedAt
	if sp.Fork != "" {
		if c.Fork == nil {
			return Verdict{Act: ActRefuse}
		}
		gen, rotated = c.Fork.Generation, c.Fork.RotatedAt
	}
	switch {
	case sp.Generation == gen-1 && now.Sub(rotated) < grace:
		share := Verdict{Act: ActShare, Fork: sp.Fork, Generation: gen}
		if c.Forks >= MaxForks || sp.NewFork == "" {
			return share
		}
		return Verdict{Act: ActFork, Fork: sp.NewFork, Generation: sp.Generation + 1, ShareFork: share.Fork, ShareGeneration: share.Generation}
	case sp.Generation < gen:
		return Verdict{Act: ActRevoke}
	default:
		// The current generation of a live chain would have swapped (a
		// store's swap and read disagree only if the row changed in between:
		// renewing nothing is the safe answer); a later one was never issued.
		return Verdict{Act: ActRefuse}
	}
}
