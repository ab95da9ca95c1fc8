package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own log lines (dial failures while Redis is
// down, pool warnings) to l as structured warnings instead of plain text on
// stderr. go-redis keeps one logger per process, so main calls this once.
func SetLogger(l *slog.Logger) { goredis.SetLogger(slogLogger{l: l}) }

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(ctx context.Context, format string, v ...any) {
	s.l.WarnContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
