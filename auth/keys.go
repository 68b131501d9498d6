package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/seal"
	"github.com/propusk/propusk/token"
)

const masterCheck = "propusk master key check"

// checkMaster makes sure the master key is the one this database's keys were
// sealed under, so a wrong PROPUSK_MASTER_KEY fails at start with a clear
// message instead of as garbage tokens later.
func (s *Service) checkMaster(ctx context.Context) error {
	sealed, err := s.master.Seal([]byte(masterCheck), []byte("meta:master_check"))
	if err != nil {
		return err
	}
	stored, err := s.store.SetMetaOnce(ctx, "master_check", sealed)
	if err != nil {
		return fmt.Errorf("auth: master key check: %w", err)
	}
	if pt, err := s.master.Open(stored, []byte("meta:master_check")); err != nil || string(pt) != masterCheck {
		return errors.New("auth: the master key does not open this database's keys (wrong PROPUSK_MASTER_KEY or key file?)")
	}
	return nil
}

func keyAD(id, use string) []byte { return []byte("signing_keys:" + id + ":" + use) }

// sealKeys are the keys that seal users.api_token; the newest seals.
type sealKeys struct {
	ids    []string
	keys   map[string]*seal.Key
	derive []byte // DeriveKey's secret, from the oldest sealing key, so all processes agree
}

// loadKeys reads and unseals every key. With create, missing kinds are
// generated and stored: that is the first start.
func (s *Service) loadKeys(ctx context.Context, create bool) (*token.Keyset, error) {
	stored, err := s.store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: load keys: %w", err)
	}
	if create {
		missing, err := s.missingKeys(stored)
		if err != nil {
			return nil, err
		}
		// Processes starting together on an empty database each generate
		// keys; the store keeps one set, and every process loads that one.
		if len(missing) > 0 {
			if stored, err = s.store.AddMissingKeys(ctx, missing...); err != nil {
				return nil, fmt.Errorf("auth: store new keys: %w", err)
			}
		}
	}
	slices.SortStableFunc(stored, compareKeys)
	var access []token.AccessKey
	var refresh []token.RefreshKey
	seals := sealKeys{keys: map[string]*seal.Key{}}
	for _, k := range stored {
		secret, err := s.master.Open(string(k.Sealed), keyAD(k.ID, k.Use))
		if err != nil {
			return nil, fmt.Errorf("auth: key %s does not open under the master key", k.ID)
		}
		switch k.Use {
		case propusk.KeyUseAccess:
			if len(secret) != ed25519.SeedSize {
				return nil, fmt.Errorf("auth: access key %s is malformed", k.ID)
			}
			priv := ed25519.NewKeyFromSeed(secret)
			access = append(access, token.AccessKey{ID: k.ID, Private: priv, Public: priv.Public().(ed25519.PublicKey), CreatedAt: k.CreatedAt})
		case propusk.KeyUseRefresh:
			refresh = append(refresh, token.RefreshKey{ID: k.ID, Secret: secret, CreatedAt: k.CreatedAt})
		case propusk.KeyUseSeal:
			sk, err := seal.NewKey(secret, s.cfg.Rand)
			if err != nil {
				return nil, fmt.Errorf("auth: sealing key %s: %w", k.ID, err)
			}
			seals.ids = append(seals.ids, k.ID)
			seals.keys[k.ID] = sk
			if seals.derive == nil {
				// The label predates DeriveKey; changing it would change
				// every derived key, and void the CSRF tokens in use.
				m := hmac.New(sha256.New, secret)
				m.Write([]byte("propusk csrf key"))
				seals.derive = m.Sum(nil)
			}
		}
	}
	ks, err := token.NewKeyset(access, refresh)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if len(seals.ids) == 0 {
		return nil, errors.New("auth: no sealing key stored")
	}
	s.setSeals(seals)
	s.keyIDs = keyIDs(stored)
	return ks, nil
}

// keyIDs names a key set by its ids, in the order loadKeys sorts them.
func keyIDs(stored []*propusk.Key) string {
	var b strings.Builder
	for _, k := range stored {
		b.WriteString(k.ID)
		b.WriteByte(' ')
	}
	return b.String()
}

// reloadKeys reads the keys and installs them. After New, every install
// goes through it, one at a time, so the keys in use are those of the
// latest read: a slow read that began before a key was deleted can never
// be installed after the read that saw the deletion.
func (s *Service) reloadKeys(ctx context.Context) error {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	ks, err := s.loadKeys(ctx, false)
	if err != nil {
		return fmt.Errorf("auth: reload keys: %w", err)
	}
	s.tokens.SetKeyset(ks)
	return nil
}

// checkKeys reloads the keys if the stored set differs from the one in use.
// The safety poll runs it, so a change whose feed event was missed (or
// made by hand in the database) still takes effect.
func (s *Service) checkKeys(ctx context.Context) error {
	stored, err := s.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("auth: check keys: %w", err)
	}
	slices.SortStableFunc(stored, compareKeys)
	s.keysMu.Lock()
	same := keyIDs(stored) == s.keyIDs
	s.keysMu.Unlock()
	if same {
		return nil
	}
	s.log.Info("signing keys changed without a feed event; reloading")
	return s.reloadKeys(ctx)
}

// compareKeys orders keys oldest first, ties by id: every process derives
// the same CSRF key from the first sealing key.
func compareKeys(a, b *propusk.Key) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// missingKeys generates one key of each use that has none.
func (s *Service) missingKeys(stored []*propusk.Key) ([]*propusk.Key, error) {
	have := map[string]bool{}
	for _, k := range stored {
		have[k.Use] = true
	}
	var out []*propusk.Key
	for _, use := range []string{propusk.KeyUseAccess, propusk.KeyUseRefresh, propusk.KeyUseSeal} {
		if have[use] {
			continue
		}
		k, err := newKey(s.cfg.Rand, s.master, use, s.cfg.Now())
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// newKey generates a key of the given use, sealed under master.
func newKey(rand io.Reader, master *seal.Key, use string, now time.Time) (*propusk.Key, error) {
	id, err := token.NewKeyID(rand)
	if err != nil {
		return nil, err
	}
	k := &propusk.Key{ID: id, Use: use, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	secret := make([]byte, 32) // an Ed25519 seed, an HMAC key or an AES-256 key alike
	if _, err := io.ReadFull(rand, secret); err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	if use == propusk.KeyUseAccess {
		k.Public = ed25519.NewKeyFromSeed(secret).Public().(ed25519.PublicKey)
	}
	sealed, err := master.Seal(secret, keyAD(id, use))
	if err != nil {
		return nil, err
	}
	k.Sealed = []byte(sealed)
	return k, nil
}

// RotateKeys adds a new access-token key and a new refresh-token key to the
// store. They sign from then on; the old ones keep verifying. Every running
// process picks them up through the feed, or at the latest when a token with
// the new kid reaches it.
func RotateKeys(ctx context.Context, store propusk.Store, masterKey []byte, now time.Time, rand io.Reader) (string, error) {
	master, err := seal.NewKey(masterKey, rand)
	if err != nil {
		return "", fmt.Errorf("auth: master key: %w", err)
	}
	svc := &Service{store: store, master: master}
	if err := svc.checkMaster(ctx); err != nil {
		return "", err
	}
	a, err := newKey(rand, master, propusk.KeyUseAccess, now)
	if err != nil {
		return "", err
	}
	r, err := newKey(rand, master, propusk.KeyUseRefresh, now)
	if err != nil {
		return "", err
	}
	e := auditEntry(ctx, propusk.AuditKeysRotated, 0)
	e.At, e.Detail = now, a.ID+" "+r.ID
	if err := store.AddKeys(propusk.WithAudit(ctx, e), a, r); err != nil {
		return "", fmt.Errorf("auth: rotate keys: %w", err)
	}
	return a.ID, nil
}

func (s *Service) setSeals(k sealKeys) {
	s.sealMu.Lock()
	s.seals = k
	s.sealMu.Unlock()
}

// sealAPIToken seals a token secret for users.api_token, bound to the user
// so the value cannot be moved to another row.
func (s *Service) sealAPIToken(userID int64, secret string) (string, error) {
	s.sealMu.RLock()
	ks := s.seals
	s.sealMu.RUnlock()
	id := ks.ids[len(ks.ids)-1]
	sealed, err := ks.keys[id].Seal([]byte(secret), apiTokenAD(userID))
	if err != nil {
		return "", err
	}
	return id + ":" + sealed, nil
}

func (s *Service) openAPIToken(userID int64, v string) (string, error) {
	s.sealMu.RLock()
	ks := s.seals
	s.sealMu.RUnlock()
	id, sealed, ok := strings.Cut(v, ":")
	k := ks.keys[id]
	if !ok || k == nil {
		return "", seal.ErrOpen
	}
	pt, err := k.Open(sealed, apiTokenAD(userID))
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

func apiTokenAD(userID int64) []byte { return fmt.Appendf(nil, "users.api_token:%d", userID) }

// DeriveKey returns a 32-byte secret for purpose (such as "propusk http
// csrf v1"), the same in every process that shares the store, and
// different for every purpose: code that signs its own values (package
// web's CSRF tokens) asks for a key of its own, and never sees the keys
// that seal or sign tokens. It is HMAC-SHA256 of purpose under a secret
// derived from the oldest sealing key, which is never pruned.
func (s *Service) DeriveKey(purpose string) []byte {
	s.sealMu.RLock()
	base := s.seals.derive
	s.sealMu.RUnlock()
	m := hmac.New(sha256.New, base)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// keySkew is how much longer than a token's lifetime a superseded key is
// kept, for clocks that disagree between processes.
const keySkew = 10 * time.Minute

// PruneKeys deletes signing keys that can no longer have a live token: an
// access key superseded (a newer access key exists) for longer than
// AccessTTL, a refresh key superseded for longer than RefreshTTL, plus a
// margin for clock skew. Sealing keys are kept: sealed values name them.
// Run calls it hourly; the deletion reaches every process through the feed.
func (s *Service) PruneKeys(ctx context.Context) error {
	stored, err := s.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("auth: prune keys: %w", err)
	}
	newest := map[string]time.Time{}
	for _, k := range stored {
		if k.CreatedAt.After(newest[k.Use]) {
			newest[k.Use] = k.CreatedAt
		}
	}
	ttl := map[string]time.Duration{propusk.KeyUseAccess: s.cfg.AccessTTL, propusk.KeyUseRefresh: s.cfg.RefreshTTL}
	now := s.cfg.Now()
	var old []string
	for _, k := range stored {
		life, ok := ttl[k.Use]
		if !ok || !k.CreatedAt.Before(newest[k.Use]) {
			continue // a sealing key, or the newest of its use
		}
		if now.Sub(newest[k.Use]) > life+keySkew {
			old = append(old, k.ID)
		}
	}
	if len(old) == 0 {
		return nil
	}
	e := auditEntry(ctx, propusk.AuditKeysPruned, 0)
	e.ActorAuth, e.Detail = propusk.AuthSystem, strings.Join(old, " ")
	if err := s.store.DeleteKeys(s.audited(ctx, e), old...); err != nil {
		return fmt.Errorf("auth: prune keys: %w", err)
	}
	if err := s.reloadKeys(ctx); err != nil {
		return err
	}
	s.log.Info("pruned superseded signing keys", "count", len(old))
	return nil
}
