package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	mystore "github.com/propusk/propusk/mysql"
	"github.com/propusk/propusk/postgres"
)

// loadStore is a store the load run can migrate.
type loadStore interface {
	propusk.Store
	Migrate(ctx context.Context) error
}

// openLoadStore opens the store dsn names, PostgreSQL or MySQL, and tunes
// cfg as propusk serve does for it.
func openLoadStore(ctx context.Context, dsn string, cfg *auth.Config) (loadStore, error) {
	if strings.HasPrefix(dsn, "mysql://") {
		cfg.PollInterval = mystore.PollInterval
		return mystore.Open(ctx, dsn)
	}
	return postgres.Open(ctx, dsn)
}

// runMySQL is run on MySQL/MariaDB: a database of its own on the server of
// base, dropped at exit, and statements counted at the wire by myCounter.
func runMySQL(base string, concurrency int, duration, countFor time.Duration) error {
	ctx := context.Background()
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "mysql" {
		return fmt.Errorf("-mysql: want a mysql:// URL")
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("-mysql: %s is not on this machine; loadtest only targets 127.0.0.1", u.Hostname())
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "propusk_load_" + hex.EncodeToString(b)
	admin, err := adminDB(u)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		return err
	}
	defer func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name); err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: drop database %s: %v\n", name, err)
		}
	}()
	u.Path = "/" + name
	q := u.Query()
	q.Set("tls", "false") // the counting proxy reads the protocol in clear
	u.RawQuery = q.Encode()
	master := make([]byte, 32)
	rand.Read(master)
	fmt.Printf("propusk renew load: %d workers, MySQL/MariaDB at %s\n", concurrency, u.Host)
	if countFor > 0 {
		c, err := startCounter(u.Host)
		if err != nil {
			return err
		}
		via := *u
		via.Host = c.addr()
		res, err := phase(ctx, via.String(), master, concurrency, countFor, "count", nil, "", c)
		c.close()
		if err != nil {
			return err
		}
		fmt.Printf("count run (%v, through the counting proxy): %d renewals, %.2f statements (COM_QUERY and COM_STMT_EXECUTE packets) per renewal\n",
			countFor, res.ok, float64(res.statements)/float64(res.ok))
	}
	res, err := phase(ctx, u.String(), master, concurrency, duration, "measure", nil, "", nil)
	if err != nil {
		return err
	}
	fmt.Printf("measured run (%v, direct): %d renewals, %.0f renews/s, p50 %v, p99 %v, max %v, errors %d %v\n",
		duration, res.ok, float64(res.ok)/res.elapsed.Seconds(),
		res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond), res.max.Round(10*time.Microsecond),
		res.failed, res.statuses)
	if res.failed > 0 {
		return fmt.Errorf("%d renewals failed", res.failed)
	}
	return nil
}

func adminDB(u *url.URL) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", u.Host
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
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

func startCounter(target string) (*myCounter, error) {
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

func (c *myCounter) addr() string { return c.ln.Addr().String() }

func (c *myCounter) Statements() int64 { return c.statements.Load() }

func (c *myCounter) close() {
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
	var hdr [5]byte
	for {
		// A packet: 3 bytes of length, a sequence id, the payload, whose
		// first byte is the command of a command packet.
		if _, err := io.ReadFull(client, hdr[:4]); err != nil {
			return
		}
		n := int(binary.LittleEndian.Uint32(append(hdr[:3:3], 0)))
		body := make([]byte, n)
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		if hdr[3] == 0 && n > 0 && (body[0] == 0x03 || body[0] == 0x17) {
			c.statements.Add(1)
		}
		if _, err := server.Write(append(hdr[:4:4], body...)); err != nil {
			return
		}
	}
}
