package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/propusk/propusk/metrics"
)

// listenMetrics binds --metrics-addr, when it is set, before anything is
// created, as serve binds --addr: a port in use fails the start.
func (m *Main) listenMetrics() error {
	if m.metricsAddr == "" {
		return nil
	}
	l, err := net.Listen("tcp", m.metricsAddr)
	if err != nil {
		return fmt.Errorf("--metrics-addr %s: %w (is another server on that port? choose another with --metrics-addr)", m.metricsAddr, err)
	}
	m.metricsListener = l
	m.metrics = metrics.New()
	return nil
}

// serveMetrics serves /metrics on the metrics listener. It is a listener of
// its own, never the public one: the metrics say how the service is used.
func (m *Main) serveMetrics() {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.metrics.Handler())
	m.metricsServer = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.metricsServer.Serve(m.metricsListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("serve metrics", "err", err)
		}
	}()
	m.log.Info("serving metrics", "addr", m.metricsListener.Addr().String())
}

// MetricsAddr returns the address the metrics are served on, "" without
// --metrics-addr.
func (m *Main) MetricsAddr() string {
	if m.metricsListener == nil {
		return ""
	}
	return m.metricsListener.Addr().String()
}

// closeMetrics stops the metrics server, or frees its port when the
// service never started serving.
func (m *Main) closeMetrics() error {
	switch {
	case m.metricsServer != nil:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return m.metricsServer.Shutdown(ctx)
	case m.metricsListener != nil:
		return m.metricsListener.Close()
	}
	return nil
}
