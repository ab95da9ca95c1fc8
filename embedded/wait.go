package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"
)

// ErrClosed is returned by Start after Close has been called.
var ErrClosed = errors.New("embedded: server is closed")

// defaultTimeout bounds every wait of this package, whatever the caller's
// context says.
const defaultTimeout = 10 * time.Second

// bounded returns ctx limited to defaultTimeout (an earlier deadline of ctx
// still wins).
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, defaultTimeout)
}

// defaultLogger returns the logger used when none is given: warnings and
// errors to stderr, everything else dropped (FerretDB is chatty at info).
func defaultLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// backoff waits before the next attempt of a retry loop. It returns false
// when ctx ends first. The delay doubles from 10 ms up to 200 ms.
func backoff(ctx context.Context, attempt int) bool {
	d := 10 * time.Millisecond << min(attempt, 5)
	d = min(d, 200*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// listenRetry listens on addr, retrying until ctx ends if the address is
// still taken (e.g. a previous listener's connections are being torn down,
// or another process briefly holds the port).
func listenRetry(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err == nil {
			return ln, nil
		}
		if !backoff(ctx, attempt) {
			return nil, fmt.Errorf("%w (gave up: %w)", err, context.Cause(ctx))
		}
	}
}

// dialHost returns the host clients should dial for a server listening on
// host: the loopback address when host is empty or unspecified.
func dialHost(host string) string {
	if host == "" {
		return "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return host
}

// splitAddr splits a host:port listen address and parses the port.
func splitAddr(addr string) (host string, port int, err error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("invalid port %q", p)
	}
	return host, port, nil
}
