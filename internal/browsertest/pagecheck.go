package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// ScreenshotDir is where page checks write their screenshots, for a
// reviewer: $PROPUSK_SCREENSHOTS, or propusk-screenshots in the system's
// temporary directory (README.md names it).
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PROPUSK_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "propusk-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CheckPage checks the page ctx's tab shows, as the account page's tests
// do: no sideways scrolling at 360 and 390 px, screenshots at 390 and 1280
// px written to ScreenshotDir as name-390.png and name-1280.png, and no
// serious or critical axe-core violation (axe-core from the repository's
// node_modules). Failures are reported with t.Errorf, so that one run
// shows every page's.
func CheckPage(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	axe, err := os.ReadFile(filepath.Join(NodeModules(t), "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int64{360, 390, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 800)); err != nil {
			t.Fatal(err)
		}
		sw, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if sw > w {
			t.Errorf("%s: scrollWidth %d at %d px: the page scrolls sideways", name, sw, w)
		}
		if w == 360 {
			continue
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ScreenshotDir(t), name+"-"+strconv.FormatInt(w, 10)+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// DevTools evaluation is not subject to the page's CSP: axe runs in
	// the page as it is served.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html)}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var vs []any
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s: axe-core's answer: %v", name, err)
	}
	if len(vs) != 0 {
		t.Errorf("%s: axe-core finds serious violations: %s", name, out)
	}
}
