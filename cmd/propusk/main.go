// Command propusk serves the propusk authentication service and manages its
// database: propusk serve | migrate | user add | user list | show | set |
// disable | enable | delete | passwd | keys rotate. Run "propusk help" for
// the flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdin, os.Stdout, os.Stderr)
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "propusk:", err)
		os.Exit(2)
	}
	err := m.Run(ctx)
	if err == nil && m.Serving() {
		<-ctx.Done()
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "propusk:", err)
		os.Exit(1)
	}
}
