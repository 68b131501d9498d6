package propusk_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/propusk/propusk"
)

// TestAuditPrepared: an entry is made storable on every database: ids a
// transaction creates are read through their pointers, the time is set
// and kept to the millisecond, and strings lose control characters and
// invalid UTF-8 and are cut on a character boundary.
func TestAuditPrepared(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	uid, tid := int64(7), int64(9)
	cases := []struct {
		name string
		in   propusk.AuditEntry
		want func(t *testing.T, got *propusk.AuditEntry)
	}{
		{"ok/ids-through-pointers", propusk.AuditEntry{UserIDOf: &uid, TokenIDOf: &tid}, func(t *testing.T, got *propusk.AuditEntry) {
			if got.UserID != 7 || got.TokenID != 9 {
				t.Errorf("user %d token %d, want 7 and 9", got.UserID, got.TokenID)
			}
		}},
		{"ok/time-set", propusk.AuditEntry{}, func(t *testing.T, got *propusk.AuditEntry) {
			if !got.At.Equal(now.Truncate(time.Millisecond)) {
				t.Errorf("at %v", got.At)
			}
		}},
		{"ok/time-kept", propusk.AuditEntry{At: now.Add(-time.Hour)}, func(t *testing.T, got *propusk.AuditEntry) {
			if !got.At.Equal(now.Add(-time.Hour).Truncate(time.Millisecond)) {
				t.Errorf("at %v", got.At)
			}
		}},
		{"ok/control-characters", propusk.AuditEntry{UserAgent: "a\x00b\nc\x7f", IP: "\x01192.0.2.1"}, func(t *testing.T, got *propusk.AuditEntry) {
			if got.UserAgent != "abc" || got.IP != "192.0.2.1" {
				t.Errorf("user agent %q ip %q", got.UserAgent, got.IP)
			}
		}},
		{"ok/invalid-utf8", propusk.AuditEntry{Detail: "ok\xff\xfe"}, func(t *testing.T, got *propusk.AuditEntry) {
			if got.Detail != "ok" {
				t.Errorf("detail %q", got.Detail)
			}
		}},
		{"ok/cut-on-a-character", propusk.AuditEntry{UserAgent: strings.Repeat("я", 300)}, func(t *testing.T, got *propusk.AuditEntry) {
			if len(got.UserAgent) > 512 || !utf8.ValidString(got.UserAgent) {
				t.Errorf("user agent of %d bytes, valid %v", len(got.UserAgent), utf8.ValidString(got.UserAgent))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			got := in.Prepared(now)
			tc.want(t, got)
			if got.UserIDOf != nil && in.UserIDOf == nil {
				t.Error("Prepared changed its input")
			}
		})
	}
}

// TestAuditContext: the entry and the client travel in the context.
func TestAuditContext(t *testing.T) {
	ctx := context.Background()
	if propusk.AuditFrom(ctx) != nil {
		t.Fatal("an entry in an empty context")
	}
	if _, ok := propusk.ClientFrom(ctx); ok {
		t.Fatal("a client in an empty context")
	}
	e := &propusk.AuditEntry{Kind: "k"}
	if got := propusk.AuditFrom(propusk.WithAudit(ctx, e)); got != e {
		t.Errorf("AuditFrom = %v", got)
	}
	if got := propusk.AuditFrom(propusk.WithAudit(propusk.WithAudit(ctx, e), nil)); got != nil {
		t.Errorf("WithAudit(nil) left %v", got)
	}
	c := propusk.Client{IP: "192.0.2.1", UserAgent: "ua"}
	if got, ok := propusk.ClientFrom(propusk.WithClient(ctx, c)); !ok || got != c {
		t.Errorf("ClientFrom = %v, %v", got, ok)
	}
	// A client made when first asked for, once, however many ask at once.
	var made atomic.Int32
	lazy := propusk.WithClientOf(ctx, func() propusk.Client { made.Add(1); return c })
	if made.Load() != 0 {
		t.Error("WithClientOf made the client before it was asked for")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got, ok := propusk.ClientFrom(lazy); !ok || got != c {
				t.Errorf("ClientFrom(WithClientOf) = %v, %v", got, ok)
			}
		})
	}
	wg.Wait()
	if n := made.Load(); n != 1 {
		t.Errorf("the client was made %d times, want once", n)
	}
}
