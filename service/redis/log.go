package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own log lines (dial failures while Redis is
// down, pool warnings) to l as structured warnings instead of plain text on
// stderr. go-redis keeps one logger per process, so main calls this once.
// The breaker's changes of state go to the same logger.
func SetLogger(l *slog.Logger) {
	goredis.SetLogger(slogLogger{l: l})
	logger.Store(l)
}

// logger receives the breaker's changes; nil (tests) drops them.
var logger atomic.Pointer[slog.Logger]

// logBreaker says once per change that Redis went away or came back.
func logBreaker(closed bool) {
	l := logger.Load()
	if l == nil {
		return
	}
	if closed {
		l.Info("redis: writes succeed again; shared rate limits and the cache are back", slog.String("component", "redis"))
		return
	}
	l.Warn("redis: unavailable or refusing writes; limiting per instance and reading through to MongoDB", slog.String("component", "redis"))
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(ctx context.Context, format string, v ...any) {
	s.l.WarnContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
