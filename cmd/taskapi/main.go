// Command taskapi serves the task API. It is configured by environment
// variables (see the README); with MONGODB_URI and REDIS_URL unset it
// starts embedded stores, so `go run ./cmd/taskapi` needs no setup.
//
// `taskapi healthcheck` asks the running process on PORT for /readyz and
// exits 0 when it is ready, for container health checks in images that
// have no shell or curl; over HTTPS when TLS_CERT_FILE is set.
//
// Exit codes: 0 after a clean shutdown, 1 on a runtime failure, 2 on a bad
// configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/redis"
	"github.com/taskready/taskready/service/server"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck())
	}
	os.Exit(run())
}

func healthcheck() int {
	port := os.Getenv("PORT")
	if port == "" {
		port = strconv.Itoa(config.DefaultPort)
	}
	client, scheme, err := healthClient()
	if err != nil {
		fmt.Fprintln(os.Stderr, "taskapi healthcheck:", err)
		return 1
	}
	res, err := client.Get(scheme + "://127.0.0.1:" + port + "/readyz")
	if err != nil {
		fmt.Fprintln(os.Stderr, "taskapi healthcheck:", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "taskapi healthcheck: /readyz answered", res.Status)
		return 1
	}
	return 0
}

// fdReserve is what the process keeps for itself beyond client
// connections: store pools, embedded servers, logs.
const fdReserve = 256

// logFileLimit raises the open-file limit and says what it is, warning
// when MAX_CONNECTIONS cannot be reached under it (the listener then backs
// off on EMFILE instead of refusing with a 503).
func logFileLimit(log *slog.Logger, maxConns int) {
	soft, hard, err := raiseFileLimit()
	if err != nil {
		log.Warn("open file limit", slog.String("error", err.Error()), slog.Uint64("soft", soft), slog.Uint64("hard", hard))
		return
	}
	log.Info("open file limit", slog.Uint64("soft", soft), slog.Uint64("hard", hard), slog.Int("max_connections", maxConns))
	if maxConns > 0 && uint64(maxConns)+fdReserve > soft {
		log.Warn("MAX_CONNECTIONS is above what the open file limit allows; raise the limit (ulimit -n, LimitNOFILE) or lower MAX_CONNECTIONS",
			slog.Int("max_connections", maxConns), slog.Uint64("soft", soft), slog.Int("reserve", fdReserve))
	}
}

func run() int {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "taskapi: %v\nSee the README's configuration table for every variable and its default.\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	redis.SetLogger(log)
	logFileLimit(log, cfg.MaxConnections)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		log.Error("start failed", slog.String("error", err.Error()))
		return 1
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		log.Error("listen failed", slog.String("error", err.Error()), slog.String("host", cfg.Host), slog.Int("port", cfg.Port))
		_ = srv.Close()
		return 1
	}
	// /metrics on its own listener, never the public port: the series
	// (and the Go version) are for Prometheus, not for every client. Both
	// are bound before either is announced, so that "listening" is never
	// followed by an exit for the other address.
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			log.Error("metrics listen failed: METRICS_ADDR is taken or not this host's (set another address, or METRICS_ADDR=off)",
				slog.String("error", err.Error()), slog.String("metrics_addr", cfg.MetricsAddr))
			_ = ln.Close()
			_ = srv.Close()
			return 1
		}
	}
	ln = withTLS(ln, cfg, log)
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("env", cfg.Env), slog.Bool("tls", cfg.TLSCertificate != nil))

	served := make(chan error, 2)
	if mln != nil {
		log.Info("metrics listening", slog.String("addr", mln.Addr().String()), slog.String("path", "/metrics"))
		go func() {
			if err := srv.ServeMetrics(mln); err != nil {
				served <- err
			}
		}()
	} else {
		log.Info("metrics off (METRICS_ADDR=off)")
	}
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		log.Error("server stopped", slog.String("error", fmt.Sprint(err)))
		_ = srv.Close()
		return 1
	case <-ctx.Done():
	}
	stop() // a second signal now kills the process the default way
	log.Info("shutting down", slog.String("grace", cfg.ShutdownGrace.String()))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Error("shutdown", slog.String("error", err.Error()))
		return 1
	}
	log.Info("stopped")
	return 0
}
