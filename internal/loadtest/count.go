package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/propusk/propusk/internal/pgproxy"
)

// counter counts the statements propusk sends its database, at the wire.
type counter interface {
	// Statements is how many statements clients have sent so far.
	Statements() int64
	// RoundTrips is how many times they waited for the server, or -1
	// when the protocol does not tell.
	RoundTrips() int64
	Close()
}

// startCounter puts a counting proxy in front of the server of dsn
// (PostgreSQL or MySQL) and returns dsn rerouted through it, in clear
// text, which the proxy must read.
func startCounter(store, dsn string) (counter, string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, "", err
	}
	q := u.Query()
	var c counter
	switch store {
	case "postgres":
		p, err := pgproxy.Start(u.Host)
		if err != nil {
			return nil, "", err
		}
		c, u.Host = pgCounter{p}, p.Addr()
		q.Set("sslmode", "disable")
	case "mysql":
		host := u.Host
		if u.Port() == "" {
			host += ":3306"
		}
		m, err := startMyCounter(host)
		if err != nil {
			return nil, "", err
		}
		c, u.Host = m, m.ln.Addr().String()
		q.Set("tls", "false")
	default:
		return nil, "", fmt.Errorf("no statement counter for %s", store)
	}
	u.RawQuery = q.Encode()
	return c, u.String(), nil
}

type pgCounter struct{ p *pgproxy.Proxy }

func (c pgCounter) Statements() int64 { return c.p.Statements() }
func (c pgCounter) RoundTrips() int64 { return c.p.Syncs() }
func (c pgCounter) Close()            { c.p.Close() }

// countStatements has a third propusk process, whose database traffic
// goes through a counting proxy, serve each scenario for a while, and
// returns the statements (and round trips) per request, by scenario.
// The counts include the process's own background reads (the revocation
// feed's poll, every few hundred ms on MariaDB), a small share.
func (h *harness) countStatements(ctx context.Context, store string, db database, env, args []string, main *target) (map[string][2]float64, error) {
	c, dsn, err := startCounter(store, db.DSN())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	args = append([]string(nil), args...)
	for i := range args {
		if args[i] == db.DSN() {
			args[i] = dsn
		}
	}
	proc, err := start(ctx, "propusk (counting)", h.propusk, h.cpus.Servers, env, args...)
	if err != nil {
		return nil, err
	}
	defer proc.stop()
	// Its workers sign in as users the main server's workers and the
	// revocation trials never use: signing in replaces a user's api-token.
	const workers = 4
	t := &target{base: proc.URL, bareURL: h.bare.URL, client: h.client, password: main.password, regPrefix: "c" + random() + "-",
		accountSet: &accountSet{first: main.loginLo}, loginLo: main.loginLo + workers, loginHi: main.loginHi}
	d := 4 * h.plan.round / 3
	out := map[string][2]float64{}
	for _, sc := range h.plan.mainScenarios() {
		if err := h.prepare(ctx, t, sc, workers); err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Name, err)
		}
		s0, r0 := c.Statements(), c.RoundTrips()
		_, ok, _, _, _, err := drive(ctx, workers, d, func(ctx context.Context, w int) (outcome, error) { return sc.do(ctx, t, w) })
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Name, err)
		}
		// Statements sent after the last answer (a batched write) are
		// not the next scenario's.
		time.Sleep(50 * time.Millisecond)
		if ok > 0 {
			rt := -1.0
			if r0 >= 0 {
				rt = float64(c.RoundTrips()-r0) / float64(ok)
			}
			out[sc.Name] = [2]float64{float64(c.Statements()-s0) / float64(ok), rt}
		}
	}
	return out, nil
}

// myCounter is a TCP proxy in front of a MySQL server that counts the
// statements clients send: command packets (sequence id 0) of type
// COM_QUERY or COM_STMT_EXECUTE.
type myCounter struct {
	ln         net.Listener
	target     string
	statements atomic.Int64
	mu         sync.Mutex
	conns      []net.Conn
}

func startMyCounter(target string) (*myCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &myCounter{ln: ln, target: target}
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			go c.forward(client)
		}
	}()
	return c, nil
}

func (c *myCounter) Statements() int64 { return c.statements.Load() }

// RoundTrips is not told apart: with client-side interpolation, each
// statement is one round trip.
func (c *myCounter) RoundTrips() int64 { return -1 }

func (c *myCounter) Close() {
	c.ln.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
}

func (c *myCounter) forward(client net.Conn) {
	server, err := net.Dial("tcp", c.target)
	if err != nil {
		client.Close()
		return
	}
	c.mu.Lock()
	c.conns = append(c.conns, client, server)
	c.mu.Unlock()
	go func() { io.Copy(client, server); client.Close() }()
	defer server.Close()
	var hdr [4]byte
	for {
		// A packet: 3 bytes of length, a sequence id, the payload, whose
		// first byte is the command of a command packet.
		if _, err := io.ReadFull(client, hdr[:]); err != nil {
			return
		}
		n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		body := make([]byte, n)
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		if hdr[3] == 0 && n > 0 && (body[0] == 0x03 || body[0] == 0x17) {
			c.statements.Add(1)
		}
		if _, err := server.Write(append(hdr[:], body...)); err != nil {
			return
		}
	}
}
