// Command loadtest measures user token.renew against PostgreSQL: the rate,
// the latency percentiles, and the SQL statements each renewal costs.
//
//	go run ./internal/loadtest [-c 50] [-d 15s] [-db postgres://…] [-mysql mysql://root@127.0.0.1:3306/]
//
// With -mysql it then measures the same on MySQL/MariaDB, in a database of
// its own, counting statements with a proxy that reads MySQL's packets.
//
// It creates a schema of its own on the server of -db (default
// $PROPUSK_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test), runs
// propusk in this process on a real HTTP listener on 127.0.0.1 (the same
// handler chain as "propusk serve", request log included, written to
// nowhere), and has -c workers renew as fast as they can for -d. Each
// worker holds a session of its own, so every renewal is a real rotation:
// one refresh token spent, a new pair signed. The schema is dropped at exit.
//
// # Counting statements
//
// Before the measured run, a short counting run sends the store's traffic
// through a proxy (internal/pgproxy) that reads the protocol's message
// types and counts each statement the server is asked to execute, and each
// round trip. The measured run talks to the database directly, so the
// proxy costs it nothing.
//
// Only 127.0.0.1 is ever targeted: the database must be local.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/pgproxy"
	"github.com/propusk/propusk/web"
)

const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func main() {
	concurrency := flag.Int("c", 50, "concurrent workers, each renewing its own session")
	duration := flag.Duration("d", 15*time.Second, "length of the measured run")
	countFor := flag.Duration("count", 3*time.Second, "length of the statement-counting run (0 skips it)")
	dsn := flag.String("db", "", "PostgreSQL server (default $PROPUSK_TEST_POSTGRES or "+defaultDSN+")")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	myDSN := flag.String("mysql", "", "also measure on this MySQL/MariaDB server, after PostgreSQL, e.g. mysql://root@127.0.0.1:3306/ (its database part is ignored)")
	flag.Parse()
	if *dsn == "" {
		*dsn = os.Getenv("PROPUSK_TEST_POSTGRES")
	}
	if *dsn == "" {
		*dsn = defaultDSN
	}
	if err := run(*dsn, *concurrency, *duration, *countFor, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	if *myDSN != "" {
		if err := runMySQL(*myDSN, *concurrency, *duration, *countFor); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: mysql:", err)
			os.Exit(1)
		}
	}
}

func run(base string, concurrency int, duration, countFor time.Duration, cpuprofile string) error {
	if concurrency < 1 || duration <= 0 || duration > 10*time.Minute {
		return errors.New("want -c ≥ 1 and 0 < -d ≤ 10m")
	}
	ctx := context.Background()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("-db: want a postgres:// URL")
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("-db: %s is not on this machine; loadtest only targets 127.0.0.1", u.Hostname())
	}
	q := u.Query()
	q.Set("sslmode", "disable") // the counting proxy reads the protocol in clear
	u.RawQuery = q.Encode()

	plain := *u // without the pool's parameters, which only pgxpool reads
	pq := plain.Query()
	for k := range pq {
		if strings.HasPrefix(k, "pool_") {
			pq.Del(k)
		}
	}
	plain.RawQuery = pq.Encode()
	schema, drop, err := createSchema(ctx, plain.String())
	if err != nil {
		return err
	}
	defer drop()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	direct := u.String()
	master := make([]byte, 32)
	rand.Read(master)

	fmt.Printf("propusk renew load: %d workers, GOMAXPROCS %d, %d CPUs, PostgreSQL at %s\n",
		concurrency, runtime.GOMAXPROCS(0), runtime.NumCPU(), u.Host)

	if countFor > 0 {
		proxy, err := pgproxy.Start(u.Host)
		if err != nil {
			return err
		}
		viaProxy := *u
		viaProxy.Host = proxy.Addr()
		res, err := phase(ctx, viaProxy.String(), master, concurrency, countFor, "count", proxy, "", nil)
		proxy.Close()
		if err != nil {
			return err
		}
		fmt.Printf("count run (%v, through the counting proxy): %d renewals, %.2f statements and %.2f round trips per renewal\n",
			countFor, res.ok, float64(res.statements)/float64(res.ok), float64(res.syncs)/float64(res.ok))
	}

	res, err := phase(ctx, direct, master, concurrency, duration, "measure", nil, cpuprofile, nil)
	if err != nil {
		return err
	}
	fmt.Printf("measured run (%v, direct): %d renewals, %.0f renews/s, p50 %v, p99 %v, max %v, errors %d %v\n",
		duration, res.ok, float64(res.ok)/res.elapsed.Seconds(),
		res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond), res.max.Round(10*time.Microsecond),
		res.failed, res.statuses)
	hotShare(ctx, plain.String(), schema)
	if res.failed > 0 {
		return fmt.Errorf("%d renewals failed", res.failed)
	}
	return nil
}

// hotShare prints how many updates of the sessions table PostgreSQL made in
// place (HOT: no index entries written), as its statistics say so far.
func hotShare(ctx context.Context, dsn, schema string) {
	time.Sleep(time.Second) // backends report their counts within a second or so
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	var upd, hot int64
	err = conn.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
		WHERE schemaname = $1 AND relname = 'sessions'`, schema).Scan(&upd, &hot)
	if err == nil && upd > 0 {
		fmt.Printf("sessions updates: %d, of which HOT (in place, no index writes): %.0f%%\n", upd, 100*float64(hot)/float64(upd))
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// createSchema makes a fresh schema and returns its name and a function
// that drops it.
func createSchema(ctx context.Context, dsn string) (string, func(), error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "propusk_load_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	return schema, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			_, err = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: drop schema %s: %v\n", schema, err)
		}
	}, nil
}

type result struct {
	ok, failed        int
	statuses          map[int]int
	elapsed           time.Duration
	p50, p99, max     time.Duration
	statements, syncs int64
}

// phase starts a server on dsn, signs in one session per worker, and has
// the workers renew for d. With proxy, it counts the statements of the
// renewals alone; with cpuprofile, it profiles them.
func phase(ctx context.Context, dsn string, master []byte, workers int, d time.Duration, name string, proxy *pgproxy.Proxy, cpuprofile string, my *myCounter) (*result, error) {
	cfg := auth.Config{MasterKey: master}
	store, err := openLoadStore(ctx, dsn, &cfg)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	cfg.Store = store
	svc, err := auth.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(ctx)
	defer stop()
	go svc.Run(bg)
	srv, err := web.New(web.Config{Service: svc})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// The same chain as "propusk serve": the request log is formatted as
	// there, and written nowhere.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs := &http.Server{Handler: web.LogRequests(log, srv), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	login := "load-" + name
	if _, err := svc.CreateUser(ctx, login, "load-test-password", 10, nil); err != nil {
		return nil, err
	}
	refresh := make([]string, workers)
	for i := range refresh {
		p, err := svc.Login(ctx, login, "load-test-password", workerClient(i))
		if err != nil {
			return nil, fmt.Errorf("sign in worker %d: %w", i, err)
		}
		refresh[i] = p.RefreshToken
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: 2 * workers}}
	defer client.CloseIdleConnections()
	// Warm up: every worker renews a few times, so pools and caches are
	// as in a running server.
	if err := drive(client, base, refresh, 300*time.Millisecond, nil, nil); err != nil {
		return nil, err
	}

	var stmts0, syncs0 int64
	if proxy != nil {
		stmts0, syncs0 = proxy.Statements(), proxy.Syncs()
	}
	if my != nil {
		stmts0 = my.Statements()
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	lat := make([][]time.Duration, workers)
	statuses := make(map[int]int)
	var mu sync.Mutex
	start := time.Now()
	err = drive(client, base, refresh, d, lat, func(status int) {
		mu.Lock()
		statuses[status]++
		mu.Unlock()
	})
	elapsed := time.Since(start)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	res := &result{statuses: statuses, elapsed: elapsed}
	if proxy != nil {
		res.statements, res.syncs = proxy.Statements()-stmts0, proxy.Syncs()-syncs0
	}
	if my != nil {
		res.statements = my.Statements() - stmts0
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	res.ok = statuses[http.StatusOK]
	res.failed = len(all) - res.ok
	if len(all) > 0 {
		res.p50 = all[len(all)/2]
		res.p99 = all[len(all)*99/100]
		res.max = all[len(all)-1]
	}
	return res, nil
}

// workerClient is how worker i describes itself on its session.
func workerClient(i int) propusk.Client {
	return propusk.Client{UserAgent: fmt.Sprintf("loadtest worker %d", i), IP: "127.0.0.1"}
}

// drive has one worker per refresh token renew in a loop for d, each with
// the token its previous renewal returned. With lat, it records each
// renewal's latency there and reports each status to seen. A worker stops
// at its first failure, so a broken chain is counted once.
func drive(client *http.Client, base string, refresh []string, d time.Duration, lat [][]time.Duration, seen func(int)) error {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := range refresh {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				body := `{"refreshToken":"` + refresh[i] + `"}`
				t0 := time.Now()
				status, pair, err := renew(client, base, body)
				took := time.Since(t0)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				if lat != nil {
					lat[i] = append(lat[i], took)
					seen(status)
				}
				if status != http.StatusOK {
					return
				}
				refresh[i] = pair.RefreshToken
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}

type pairBody struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

func renew(client *http.Client, base, body string) (int, *pairBody, error) {
	req, err := http.NewRequest("POST", base+"/api/v1/token.renew", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	var p pairBody
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&p); err != nil || p.RefreshToken == "" {
			return 0, nil, fmt.Errorf("renew: unreadable answer %q", b)
		}
	}
	return res.StatusCode, &p, nil
}
