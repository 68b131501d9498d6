package web_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// TestLoggerDefault: a Config.Logger left nil logs through slog.Default(),
// so a library user who sets none still sees what goes wrong. It changes
// the process's default logger, so it does not run in parallel.
func TestLoggerDefault(t *testing.T) {
	var buf testenv.LogBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	e := newEnv(t, func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s },
		func(_ *auth.Config, h *web.Config) { h.ClientIPHeader = "X-Real-IP" })
	r, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/user.register", strings.NewReader(`{"login":"lena","password":"password1"}`))
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Real-IP", "not an address")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.Contains(buf.String(), "client address header does not hold an address") {
		t.Fatalf("nothing logged through slog.Default():\n%s", buf.String())
	}
}
