package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/propusk/propusk/internal/browsertest"
)

// TestBrowserLoadsAxios shows the whole kit works: npm's axios served over
// httptest and run by headless Chromium.
func TestBrowserLoadsAxios(t *testing.T) {
	nm := browsertest.NodeModules(t)
	if !filepath.IsAbs(nm) {
		t.Fatalf("NodeModules = %q, want an absolute path", nm)
	}
	if _, err := os.Stat(filepath.Join(nm, "axios", "dist", "axios.min.js")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /axios.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(nm, "axios", "dist", "axios.min.js"))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>t</title><script src="/axios.min.js"></script>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	kind, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof window.axios`))
	if err != nil {
		t.Fatal(err)
	}
	if kind != "function" {
		t.Fatalf("typeof window.axios = %q, want function", kind)
	}
}
