// Package pgproxy is a TCP proxy in front of a PostgreSQL server, for tests
// and the load harness: it can cut the database off and bring it back
// without touching the server itself, and it counts the statements that
// pass through it.
//
// # Cutting off
//
// Down closes the listening socket and every open connection, so new
// connections are refused and open ones fail, as when the server dies.
// Hang keeps accepting but forwards nothing, as when packets are dropped
// on the way: a client notices only through its own timeouts. Silence does
// the same to the connections already open, closing none, as a link that
// starts losing packets without either side being told. Up listens again
// on the same address and ends both.
//
// # Counting
//
// The proxy reads the frontend side of the protocol (message type and
// length, never the contents) and counts each statement a client asks the
// server to run: an Execute message of the extended protocol, or a Query
// message of the simple one. Sync messages count the round trips of the
// extended protocol. It needs the stream in clear text: use sslmode=disable.
package pgproxy

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
)

// Proxy forwards connections from its address to a PostgreSQL server.
type Proxy struct {
	target string
	addr   string

	mu      sync.Mutex
	ln      net.Listener
	hang    bool
	conns   map[net.Conn]struct{}
	stopped bool
	wg      sync.WaitGroup

	// silent drops every byte in both directions, on open connections and
	// new ones alike, and closes none.
	silent atomic.Bool

	statements atomic.Int64
	syncs      atomic.Int64
}

// Start listens on a free port of 127.0.0.1 and forwards to target (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, ln: ln}
	p.serve(ln)
	return p, nil
}

// For starts a proxy in front of the server of dsn, a postgres:// URL, and
// returns it with dsn rerouted through it.
func For(dsn string) (*Proxy, string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return nil, "", fmt.Errorf("pgproxy: %q is not a postgres:// URL with a host", dsn)
	}
	p, err := Start(u.Host)
	if err != nil {
		return nil, "", err
	}
	u.Host = p.Addr()
	return p, u.String(), nil
}

// Addr returns the host:port clients connect to; it stays the same across
// Down and Up.
func (p *Proxy) Addr() string { return p.addr }

// Statements returns how many statements clients have sent so far.
func (p *Proxy) Statements() int64 { return p.statements.Load() }

// Syncs returns how many Sync messages clients have sent so far: one per
// round trip of the extended protocol.
func (p *Proxy) Syncs() int64 { return p.syncs.Load() }

// Down stops listening and closes every open connection.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.hang = false
	p.dropLocked()
}

// Hang closes every open connection and, from then on, accepts connections
// but forwards nothing on them.
func (p *Proxy) Hang() error {
	p.mu.Lock()
	p.hang = true
	p.dropLocked()
	p.mu.Unlock()
	return p.listen()
}

// Silence drops, from now on, every byte clients and server send each
// other, and closes no connection: neither side hears of the loss.
func (p *Proxy) Silence() { p.silent.Store(true) }

// Up forwards again: it listens on the same address if it had stopped, and
// closes connections accepted while hanging or open while silenced.
func (p *Proxy) Up() error {
	p.mu.Lock()
	if p.hang || p.silent.Load() {
		p.hang = false
		p.silent.Store(false)
		p.dropLocked()
	}
	p.mu.Unlock()
	return p.listen()
}

// listen listens on the proxy's address again unless it listens already.
func (p *Proxy) listen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil || p.stopped {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.ln = ln
	p.serve(ln)
	return nil
}

// Close stops the proxy for good and waits for its goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.Down()
	p.wg.Wait()
	return nil
}

func (p *Proxy) dropLocked() {
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// track registers c as open; false when the proxy is down or hanging and c
// must not be forwarded.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return p.ln != nil && !p.hang
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.conns, c)
	}
}

// serve accepts on ln, which is p.ln, until it is closed.
func (p *Proxy) serve(ln net.Listener) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

func (p *Proxy) forward(client net.Conn) {
	if !p.track(client) {
		// Hanging: hold the connection open, silent, until Up or Down.
		io.Copy(io.Discard, client)
		p.untrack(client)
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.untrack(client)
		return
	}
	if !p.track(server) {
		p.untrack(client, server)
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		// Forward what the client sends chunk by chunk, as it arrives, and
		// count on the side: parsing must not split the client's writes.
		var st parser
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 && !p.silent.Load() {
				p.feed(&st, buf[:n])
				if _, err := server.Write(buf[:n]); err != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 && !p.silent.Load() {
				if _, err := client.Write(buf[:n]); err != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}()
	<-done
	p.untrack(client, server)
	<-done
}

// Protocol codes of the untyped messages that may open a connection.
const (
	sslRequest    = 80877103
	gssEncRequest = 80877104
)

// parser is where counting stands in a client's stream.
type parser struct {
	typed bool    // past the startup message: every message has a type byte
	hdr   [8]byte // the header being read
	nhdr  int     // bytes of hdr read so far
	skip  int64   // bytes of the current message's body still to pass
	lost  bool    // the stream made no sense (encrypted?): stop counting
}

// feed counts the statements and syncs of the frontend messages in b, the
// next bytes of the stream that st follows.
func (p *Proxy) feed(st *parser, b []byte) {
	for len(b) > 0 && !st.lost {
		if st.skip > 0 {
			k := min(int64(len(b)), st.skip)
			st.skip -= k
			b = b[k:]
			continue
		}
		// Untyped messages open a connection: SSL or GSS requests, then
		// the startup message. Each is a length and a code.
		want := 5
		if !st.typed {
			want = 8
		}
		k := copy(st.hdr[st.nhdr:want], b)
		st.nhdr += k
		b = b[k:]
		if st.nhdr < want {
			return
		}
		st.nhdr = 0
		if !st.typed {
			st.skip = int64(binary.BigEndian.Uint32(st.hdr[:4])) - 8
			if code := binary.BigEndian.Uint32(st.hdr[4:8]); code != sslRequest && code != gssEncRequest {
				st.typed = true
			}
		} else {
			switch st.hdr[0] {
			case 'E', 'Q':
				p.statements.Add(1)
			case 'S':
				p.syncs.Add(1)
			}
			st.skip = int64(binary.BigEndian.Uint32(st.hdr[1:5])) - 4
		}
		st.lost = st.skip < 0
	}
}
