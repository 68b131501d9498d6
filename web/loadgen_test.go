package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
)

// loadgenEnv, set to 1, makes the test binary a load generator instead of
// running tests: benchmarks that measure the server's own CPU run it as a
// child process, so that the client's work is not counted as the server's.
const loadgenEnv = "PROPUSK_BENCH_LOADGEN"

func TestMain(m *testing.M) {
	if os.Getenv(loadgenEnv) == "1" {
		runLoadgen(os.Stdin, os.Stdout)
		return
	}
	os.Exit(m.Run())
}

// burstOrder is one command to the load generator: n GET requests to URL
// with Header, from Workers concurrent keep-alive connections.
type burstOrder struct {
	URL     string
	Header  map[string]string
	N       int
	Workers int
}

// burstReport is the load generator's answer: how many requests did not
// answer 200, and the first such answer.
type burstReport struct {
	Failed int
	First  string
}

// runLoadgen reads burst orders, one JSON per line, and answers each with
// a report when its requests are done.
func runLoadgen(in io.Reader, out io.Writer) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	sc := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		var o burstOrder
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			enc.Encode(burstReport{Failed: 1, First: err.Error()})
			continue
		}
		var failed atomic.Int64
		var first sync.Once
		var firstMsg string
		var next atomic.Int64
		var wg sync.WaitGroup
		for range max(o.Workers, 1) {
			wg.Go(func() {
				for next.Add(1) <= int64(o.N) {
					msg := get(client, o.URL, o.Header)
					if msg != "" {
						failed.Add(1)
						first.Do(func() { firstMsg = msg })
					}
				}
			})
		}
		wg.Wait()
		enc.Encode(burstReport{Failed: int(failed.Load()), First: firstMsg})
	}
}

// get sends one request and says what was wrong with its answer, "" when
// it was a 200.
func get(client *http.Client, url string, header map[string]string) string {
	r, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err.Error()
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	res, err := client.Do(r)
	if err != nil {
		return err.Error()
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Sprintf("%s: %d %s", url, res.StatusCode, body)
	}
	return ""
}

// loadgen is a running load generator process.
type loadgen struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

// startLoadgen runs this test binary as a load generator until tb ends.
func startLoadgen(tb testing.TB) *loadgen {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), loadgenEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.Close(); cmd.Wait() })
	return &loadgen{in: in, out: bufio.NewScanner(out)}
}

// burst has the load generator send o's requests and waits until they are
// answered.
func (g *loadgen) burst(tb testing.TB, o burstOrder) {
	tb.Helper()
	b, _ := json.Marshal(o)
	if _, err := g.in.Write(append(b, '\n')); err != nil {
		tb.Fatal(err)
	}
	if !g.out.Scan() {
		tb.Fatalf("load generator: %v", g.out.Err())
	}
	var r burstReport
	if err := json.Unmarshal(g.out.Bytes(), &r); err != nil {
		tb.Fatal(err)
	}
	if r.Failed > 0 {
		tb.Fatalf("%d of %d requests failed; first: %s", r.Failed, o.N, r.First)
	}
}
