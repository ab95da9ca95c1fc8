package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsServer serves a run's Metrics, with the Go runtime's and the
// process's own series, at /metrics for Prometheus to scrape while the
// run goes on.
type MetricsServer struct {
	*Metrics
	// Addr is the host:port it listens on (the port chosen when the
	// address asked for port 0).
	Addr string

	mux *http.ServeMux
	srv *http.Server
}

// ServeMetrics listens on addr (port 0: any free one) and serves /metrics
// until Close.
func ServeMetrics(addr string) (*MetricsServer, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s := &MetricsServer{
		Metrics: NewMetrics(reg),
		Addr:    ln.Addr().String(),
		mux:     mux,
		srv:     &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
	}
	go s.srv.Serve(ln)
	return s, nil
}

// Handle serves h at pattern beside /metrics: another exposition the
// same scrape target offers.
func (s *MetricsServer) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Close stops serving, giving a scrape in flight two seconds to finish.
func (s *MetricsServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
