package metrics_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/missing"
	"github.com/propusk/propusk/metrics"
)

func operationsDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEveryMetricDocumented: docs/OPERATIONS.md names every propusk_ family
// the registry has, and no family that it has not.
func TestEveryMetricDocumented(t *testing.T) {
	doc := operationsDoc(t)
	fams, err := metrics.New().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range fams {
		if name := f.GetName(); strings.HasPrefix(name, "propusk_") {
			have[name] = true
			if !strings.Contains(doc, "`"+name+"`") {
				t.Errorf("%s is not in docs/OPERATIONS.md", name)
			}
		}
	}
	// Families without series yet (the gauges read a Service at scrape
	// time; some counters have no fixed labels) are absent from a gather,
	// so they are named here.
	for _, name := range strings.Fields(ungathered) {
		have[name] = true
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("%s is not in docs/OPERATIONS.md", name)
		}
	}
	for _, line := range strings.Split(doc, "\n") {
		if name, ok := strings.CutPrefix(line, "| `propusk_"); ok {
			name = "propusk_" + name[:strings.Index(name, "`")]
			if !have[name] {
				t.Errorf("docs/OPERATIONS.md lists %s, which propusk does not export", name)
			}
		}
	}
}

// ungathered are the families a fresh Metrics has no series of.
const ungathered = "propusk_http_requests_total propusk_http_request_duration_seconds propusk_store_errors_total propusk_password_hash_queue_length propusk_password_hash_running propusk_store_up propusk_feed_applied_sequence propusk_feed_lag_events propusk_feed_sync_age_seconds propusk_revoked_sessions propusk_api_token_cache_entries propusk_user_cache_entries"

// TestAlertRules runs promtool check rules on the rules of
// docs/OPERATIONS.md.
func TestAlertRules(t *testing.T) {
	doc := operationsDoc(t)
	_, after, _ := strings.Cut(doc, "## Alerts")
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("no yaml block under ## Alerts")
	}
	rules, _, _ := strings.Cut(block, "```")
	bin, err := exec.LookPath("promtool")
	if err != nil {
		missing.Skip(t, "promtool not found (apt-get install prometheus)")
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}
