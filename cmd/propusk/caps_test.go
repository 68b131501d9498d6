package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/propusk/propusk/auth"
)

// TestCapFlags: the per-user caps are on by default, set by their flags
// (or PROPUSK_ variables), and 0 turns one off.
func TestCapFlags(t *testing.T) {
	tests := []struct {
		name                   string
		args                   []string
		env                    map[string]string
		wantTokens, wantSessns int
	}{
		{"ok/default", nil, nil, auth.DefaultMaxTokensPerUser, auth.DefaultMaxSessionsPerUser},
		{"ok/flags", []string{"--max-tokens-per-user", "5", "--max-sessions-per-user", "7"}, nil, 5, 7},
		{"ok/zero-is-no-cap", []string{"--max-tokens-per-user", "0"}, map[string]string{"PROPUSK_MAX_SESSIONS_PER_USER": "0"}, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			m := NewMain(nil, io.Discard, io.Discard)
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(t.TempDir(), "caps.db")}, tt.args...)
			if err := m.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			if err := m.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if tokens, sessions := m.svc.Caps(); tokens != tt.wantTokens || sessions != tt.wantSessns {
				t.Fatalf("caps %d tokens, %d sessions; want %d, %d", tokens, sessions, tt.wantTokens, tt.wantSessns)
			}
		})
	}
}
