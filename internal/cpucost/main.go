// Command cpucost measures the CPU that propusk's hot paths cost the
// server per request, beside the physical limits they are held to, in one
// run:
//
//	go run ./internal/cpucost [-rounds 5] [-d 3s] [-c 4] [-db postgres://…] [-bin PATH] [-before PATH] [-only obtain,renew,login,verify]
//
// -db may name PostgreSQL's Unix socket instead of 127.0.0.1
// (postgres://postgres@/test?host=/var/run/postgresql), to see what a
// database on the same host costs through it.
//
// It builds cmd/propusk (or takes -bin), runs it as "propusk serve" in a
// process of its own on PostgreSQL, in a schema of its own that is dropped
// at exit, with its log written to a file as a deployment writes it. A
// second process, this command itself run again, serves the limits:
//
//   - bare: a net/http handler that answers a small JSON object;
//   - sign: the same plus one Ed25519 signature of a token-sized message,
//     the limit of token.obtain (an anonymous pair is one signature: the
//     refresh token is an HMAC);
//   - hash: one argon2id hash with propusk's parameters (19 MiB, 2 passes,
//     1 lane), the limit of a login.
//
// Workers (-c) on 127.0.0.1 drive each target in turn for -d, round after
// round (-rounds), so the load of others on a shared machine falls on every
// target alike. What a request costs is the CPU time (user and system,
// from /proc/PID/stat) of the serving process over the run, divided by the
// requests answered; for propusk, the CPU of its PostgreSQL backends (found
// by application_name) is reported beside it. The figures printed are
// medians over the rounds, and each ratio is the median of the rounds'
// ratios. With -before, a second propusk binary (say, one built from an
// older commit) is measured in the same rounds, for a before and after.
//
// Both servers run with the garbage collector "propusk serve" sets
// (package gctune) unless GOGC or GOMEMLIMIT is in the environment.
// The client's own CPU is never counted: it runs in this process.
// Only 127.0.0.1 is ever targeted: the database must be local.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/argon2"

	"github.com/propusk/propusk/internal/gctune"
)

const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// limitsEnv, set in its environment, makes this command the limits server.
const limitsEnv = "CPUCOST_LIMITS"

func main() {
	if os.Getenv(limitsEnv) != "" {
		serveLimits()
		return
	}
	rounds := flag.Int("rounds", 5, "rounds; each drives every target once")
	d := flag.Duration("d", 3*time.Second, "how long each target is driven in a round")
	c := flag.Int("c", 4, "concurrent client workers")
	dsn := flag.String("db", "", "PostgreSQL server (default $PROPUSK_TEST_POSTGRES or "+defaultDSN+")")
	bin := flag.String("bin", "", "propusk binary to measure (default: go build ./cmd/propusk)")
	before := flag.String("before", "", "another propusk binary, measured in the same rounds as \"before\"")
	only := flag.String("only", "obtain,renew,login,verify", "scenarios, comma-separated: obtain, obtain-browser, renew, login, verify")
	flag.Parse()
	if *dsn == "" {
		*dsn = os.Getenv("PROPUSK_TEST_POSTGRES")
	}
	if *dsn == "" {
		*dsn = defaultDSN
	}
	if err := run(*dsn, *bin, *before, strings.Split(*only, ","), *rounds, *d, *c); err != nil {
		fmt.Fprintln(os.Stderr, "cpucost:", err)
		os.Exit(1)
	}
}

// password is every load user's password.
const password = "cpucost-password"

func run(dsn, bin, before string, scenarios []string, rounds int, d time.Duration, workers int) error {
	if rounds < 1 || workers < 1 || d <= 0 {
		return errors.New("want -rounds ≥ 1, -c ≥ 1 and -d > 0")
	}
	for _, s := range scenarios {
		if !slices.Contains([]string{"obtain", "obtain-browser", "renew", "login", "verify"}, s) {
			return fmt.Errorf("-only: unknown scenario %q", s)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("-db: want a postgres:// URL")
	}
	if h := u.Hostname(); h != "localhost" && !net.ParseIP(h).IsLoopback() && !strings.HasPrefix(u.Query().Get("host"), "/") {
		return fmt.Errorf("-db: %s is not on this machine; cpucost only targets 127.0.0.1 or a Unix socket (?host=/var/run/postgresql)", h)
	}
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "cpucost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "propusk")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/propusk/propusk/cmd/propusk").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)

	fmt.Printf("cpucost: %s, %d CPUs (%s), GOMAXPROCS %d, %d workers, %d rounds of %v per target, PostgreSQL at %s\n",
		runtime.Version(), runtime.NumCPU(), cpuModel(), runtime.GOMAXPROCS(0), workers, rounds, d, u.Host)

	limits, err := startLimits()
	if err != nil {
		return err
	}
	defer limits.stop()
	fmt.Printf("limits: pid %d, %s\n", limits.pid(), limits.url)
	bins := []struct{ name, path string }{{"propusk", bin}}
	if before != "" {
		bins = append(bins, struct{ name, path string }{"before", before})
	}
	var servers []*server
	for _, b := range bins {
		s, err := startPropusk(ctx, admin, u, tmp, b.name, b.path)
		if err != nil {
			return err
		}
		defer s.stop(ctx, admin)
		if err := s.prepare(workers); err != nil {
			return err
		}
		fmt.Printf("%s: pid %d, %s\n", s.name, s.pid(), s.url)
		servers = append(servers, s)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * workers, MaxIdleConnsPerHost: 4 * workers}}
	var targets []*target
	targets = append(targets,
		&target{name: "bare", proc: limits, req: get(limits.url + "/bare")},
		&target{name: "sign", proc: limits, req: get(limits.url + "/sign")},
	)
	if slices.Contains(scenarios, "login") {
		targets = append(targets, &target{name: "hash", proc: limits, req: post(limits.url+"/hash", `{"password":"`+password+`"}`), warm: d / 2})
	}
	for _, s := range servers {
		for _, sc := range scenarios {
			targets = append(targets, s.target(sc, d/2))
		}
	}
	results := map[string][]sample{}
	for r := range rounds {
		for _, t := range targets {
			smp, err := measure(ctx, admin, client, t, workers, d)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			results[t.name] = append(results[t.name], smp)
			fmt.Printf("round %d %-22s %8.0f req/s  server %7.1f µs/req (%4.1f in the kernel)  database %7.1f µs/req\n",
				r+1, t.name, smp.rate, smp.server, smp.sys, smp.db)
		}
	}
	fmt.Println("\nmedians over the rounds:")
	for _, t := range targets {
		ss := results[t.name]
		fmt.Printf("%-22s %8.0f req/s  server %7.1f µs/req (%5.1f in the kernel)  database %7.1f µs/req  server+database %7.1f µs/req\n",
			t.name, median(ss, func(s sample) float64 { return s.rate }),
			median(ss, func(s sample) float64 { return s.server }),
			median(ss, func(s sample) float64 { return s.sys }),
			median(ss, func(s sample) float64 { return s.db }),
			median(ss, func(s sample) float64 { return s.server + s.db }))
	}
	fmt.Println("\ngoals (each ratio the median of the rounds' ratios):")
	ratio := func(a, b string, f func(sample) float64) float64 {
		var rs []float64
		for i := range results[a] {
			rs = append(rs, f(results[a][i])/f(results[b][i]))
		}
		slices.Sort(rs)
		return rs[len(rs)/2]
	}
	server := func(s sample) float64 { return s.server }
	for _, s := range servers {
		if slices.Contains(scenarios, "obtain") {
			fmt.Printf("%s token.obtain server CPU / (bare + one signature): %.2f (goal ≤ 1.15)\n", s.name, ratio(s.name+" obtain", "sign", server))
		}
		if slices.Contains(scenarios, "renew") {
			fmt.Printf("%s token.renew server + database CPU: %.0f µs (goal ≤ 175)\n", s.name,
				median(results[s.name+" renew"], func(s sample) float64 { return s.server + s.db }))
		}
		if slices.Contains(scenarios, "login") {
			fmt.Printf("%s login server CPU / one argon2id hash: %.2f (goal ≤ 1.15)\n", s.name, ratio(s.name+" login", "hash", server))
		}
		if slices.Contains(scenarios, "verify") {
			fmt.Printf("%s auth.verify server CPU / bare: %.2f\n", s.name, ratio(s.name+" verify", "bare", server))
		}
	}
	if len(servers) == 2 {
		for _, sc := range scenarios {
			fmt.Printf("after/before %-14s server CPU %.2f", sc, ratio("propusk "+sc, "before "+sc, server))
			if sc == "renew" || sc == "login" {
				fmt.Printf(", database CPU %.2f, server + database %.2f",
					ratio("propusk "+sc, "before "+sc, func(s sample) float64 { return s.db }),
					ratio("propusk "+sc, "before "+sc, func(s sample) float64 { return s.server + s.db }))
			}
			fmt.Println()
		}
	}
	return nil
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// sample is one target's figures in one round.
type sample struct {
	rate       float64 // answered requests per second
	server, db float64 // µs of CPU per request
	sys        float64 // of server, µs in the kernel
}

func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// proc is a serving process.
type proc struct {
	cmd   *exec.Cmd
	done  chan struct{} // closed when it has exited
	url   string
	appDB string // application_name of its database connections, if any
}

// start starts cmd as a proc.
func start(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stop() {
	p.cmd.Process.Kill()
	<-p.done
}

// target is one thing driven: a process, and the request each worker
// sends it (given the worker's number and its state).
type target struct {
	name string
	proc *proc
	req  func(worker int) (*http.Request, error)
	// after sees each answer's status and body; an error stops the worker.
	after func(worker, status int, body []byte) error
	warm  time.Duration // the warm-up before each round, if longer than the default
}

func get(u string) func(int) (*http.Request, error) {
	return func(int) (*http.Request, error) {
		r, err := http.NewRequest("GET", u, nil)
		if err == nil {
			r.Header.Set("X-Requested-With", "cpucost")
		}
		return r, err
	}
}

func post(u, body string) func(int) (*http.Request, error) {
	return func(int) (*http.Request, error) {
		r, err := http.NewRequest("POST", u, strings.NewReader(body))
		if err == nil {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Requested-With", "cpucost")
		}
		return r, err
	}
}

// measure drives t with workers for d and returns its cost.
func measure(ctx context.Context, admin *pgx.Conn, client *http.Client, t *target, workers int, d time.Duration) (sample, error) {
	// A warm-up, so connections are open and caches filled, and for the
	// password hashes (which allocate 19 MiB each) a longer one, so the
	// heap has grown to its steady size and the round measures what a
	// steady stream of logins costs, not the first few after a pause.
	warm := 200 * time.Millisecond
	if t.warm > warm {
		warm = t.warm
	}
	if _, err := drive(client, t, workers, warm); err != nil {
		return sample{}, err
	}
	dbPIDs, err := backends(ctx, admin, t.proc.appDB)
	if err != nil {
		return sample{}, err
	}
	u0, s0 := userSys(t.proc.pid())
	db0 := cpuOf(dbPIDs...)
	start := time.Now()
	n, err := drive(client, t, workers, d)
	elapsed := time.Since(start)
	u1, s1 := userSys(t.proc.pid())
	db1 := cpuOf(dbPIDs...)
	if err != nil {
		return sample{}, err
	}
	if n == 0 {
		return sample{}, errors.New("no request answered")
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(n) }
	return sample{rate: float64(n) / elapsed.Seconds(), server: per(u1 + s1 - u0 - s0), sys: per(s1 - s0), db: per(db1 - db0)}, nil
}

// drive has the workers send t's requests for d and returns how many were
// answered with success.
func drive(client *http.Client, t *target, workers int, d time.Duration) (int64, error) {
	deadline := time.Now().Add(d)
	var n atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && firstErr.Load() == nil {
				r, err := t.req(w)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				res, err := client.Do(r)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err == nil && res.StatusCode/100 != 2 {
					err = fmt.Errorf("status %d: %.200s", res.StatusCode, body)
				}
				if err == nil && t.after != nil {
					err = t.after(w, res.StatusCode, body)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return n.Load(), err
	}
	return n.Load(), nil
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, which Linux
// fixes at 100 for every program that reads /proc.
const clockTick = 10 * time.Millisecond

// cpuOf returns the CPU time (user and system) the processes have used.
// One that is gone counts nothing.
func cpuOf(pids ...int) time.Duration {
	u, s := userSys(pids...)
	return u + s
}

// userSys returns the user and system CPU time the processes have used.
func userSys(pids ...int) (user, sys time.Duration) {
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// The command name, in parentheses, may hold spaces: count fields
		// after its closing parenthesis. utime and stime are fields 14, 15.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		user += time.Duration(ut) * clockTick
		sys += time.Duration(st) * clockTick
	}
	return user, sys
}

// backends returns the PostgreSQL backends of connections named app.
func backends(ctx context.Context, admin *pgx.Conn, app string) ([]int, error) {
	if app == "" {
		return nil, nil
	}
	rows, err := admin.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		return nil, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out, err
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// server is a running "propusk serve" and its load users.
type server struct {
	proc
	name, schema string
	logPath      string
	refresh      []string // each worker's refresh token (renew)
	access       []string // each worker's access token (verify)
}

func startPropusk(ctx context.Context, admin *pgx.Conn, base *url.URL, tmp, name, bin string) (*server, error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "propusk_cpucost_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	s := &server{name: name, schema: schema, logPath: filepath.Join(tmp, schema+".log")}
	u := *base
	q := u.Query()
	q.Set("sslmode", "disable")
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	key := make([]byte, 32)
	rand.Read(key)
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", u.String(),
		"--max-sessions-per-user", "0", "--max-tokens-per-user", "0", "--register-limit", "1000000")
	cmd.Env = append(os.Environ(), "PROPUSK_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	cmd.Stderr = logf
	p, err := start(cmd)
	if err != nil {
		return nil, err
	}
	s.proc = *p
	s.appDB = schema
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(s.logPath)
		if m := listening.FindSubmatch(b); m != nil {
			s.url = "http://" + string(m[1])
			return s, nil
		}
		select {
		case <-s.done:
			s.stop(ctx, admin)
			return nil, fmt.Errorf("%s exited:\n%s", bin, b)
		default:
		}
	}
	b, _ = os.ReadFile(s.logPath)
	s.stop(ctx, admin)
	return nil, fmt.Errorf("%s did not listen within 60s:\n%s", bin, b)
}

func (s *server) stop(ctx context.Context, admin *pgx.Conn) {
	s.proc.stop()
	if _, err := admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+s.schema+" CASCADE"); err != nil {
		fmt.Fprintf(os.Stderr, "cpucost: drop schema %s: %v\n", s.schema, err)
	}
}

type pairBody struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// prepare registers a user per worker, each with a session.
func (s *server) prepare(workers int) error {
	s.refresh, s.access = make([]string, workers), make([]string, workers)
	for w := range workers {
		body := fmt.Sprintf(`{"login":"load%d","password":%q}`, w, password)
		r, _ := post(s.url+"/api/v1/user.register", body)(w)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			return err
		}
		var p pairBody
		err = json.NewDecoder(res.Body).Decode(&p)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusCreated {
			return fmt.Errorf("%s: register: status %d, %v", s.name, res.StatusCode, err)
		}
		s.refresh[w], s.access[w] = p.RefreshToken, p.AccessToken
	}
	return nil
}

// target is the scenario sc on s.
func (s *server) target(sc string, warm time.Duration) *target {
	t := &target{name: s.name + " " + sc, proc: &s.proc}
	switch sc {
	case "obtain":
		t.req = get(s.url + "/api/v1/token.obtain")
	case "obtain-browser":
		t.req = func(int) (*http.Request, error) { return http.NewRequest("GET", s.url+"/api/v1/token.obtain", nil) }
	case "renew":
		t.req = func(w int) (*http.Request, error) {
			return post(s.url+"/api/v1/token.renew", `{"refreshToken":"`+s.refresh[w]+`"}`)(w)
		}
		t.after = func(w, _ int, body []byte) error {
			var p pairBody
			if err := json.Unmarshal(body, &p); err != nil || p.RefreshToken == "" {
				return fmt.Errorf("renew: unreadable answer %.200q", body)
			}
			s.refresh[w] = p.RefreshToken
			return nil
		}
	case "login":
		t.req = func(w int) (*http.Request, error) {
			return post(s.url+"/api/v1/user.login", fmt.Sprintf(`{"login":"load%d","password":%q}`, w, password))(w)
		}
		t.warm = warm
	case "verify":
		t.req = func(w int) (*http.Request, error) {
			r, err := get(s.url + "/api/v1/auth.verify?level=10")(w)
			if err == nil {
				r.Header.Set("X-Access-Token", s.access[w])
				r.Header.Set("X-Original-URI", "/page")
			}
			return r, err
		}
	}
	return t
}

// startLimits runs this command again as the limits server.
func startLimits() (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), limitsEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	p, err := start(cmd)
	if err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("limits server: %w", err)
	}
	go io.Copy(io.Discard, out)
	p.url = "http://" + strings.TrimSpace(line)
	return p, nil
}

// signInput is a message the size of an access token's signing input.
var signInput = bytes.Repeat([]byte("x"), 340)

// serveLimits serves the limits on a free port of 127.0.0.1 and prints
// its address.
func serveLimits() {
	// The garbage collector as "propusk serve" sets it with its default
	// hashing slots (2×GOMAXPROCS for logins, a quarter of that, at least
	// one, for registrations), so the limits and propusk compare like for
	// like.
	procs := runtime.GOMAXPROCS(0)
	gctune.Apply(gctune.For(int64(2*procs+max(1, procs/2))*19<<20), os.Getenv)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	type answer struct {
		OK  bool   `json:"ok"`
		Sig string `json:"sig,omitempty"`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bare", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer{OK: true})
	})
	mux.HandleFunc("GET /sign", func(w http.ResponseWriter, r *http.Request) {
		sig := ed25519.Sign(priv, signInput)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer{OK: true, Sig: base64.RawURLEncoding.EncodeToString(sig)})
	})
	mux.HandleFunc("POST /hash", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Password string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		salt := make([]byte, 16)
		rand.Read(salt)
		key := argon2.IDKey([]byte(in.Password), salt, 2, 19*1024, 1, 32)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer{OK: true, Sig: base64.RawURLEncoding.EncodeToString(key)})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpucost limits:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	http.Serve(ln, mux)
}
