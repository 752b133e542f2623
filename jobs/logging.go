package jobs

import (
	"context"
	"log/slog"
)

// riverLogLevel is the least level of River's own log lines that checkoutd
// keeps. At INFO River reports its producers' job counts and its services'
// comings and goings every few seconds, a third of a quiet process's log;
// what needs an operator (stuck jobs, panics, failed maintenance) it logs at
// WARN or ERROR. Our workers log through Config.Logger and keep INFO.
const riverLogLevel = slog.LevelWarn

// riverLogger is the logger handed to River: logger, less River's lines
// below riverLogLevel.
func riverLogger(logger *slog.Logger) *slog.Logger {
	return slog.New(&levelFloor{next: logger.Handler(), min: riverLogLevel})
}

// levelFloor is a slog.Handler that drops records below min and passes the
// rest to next.
type levelFloor struct {
	next slog.Handler
	min  slog.Level
}

func (h *levelFloor) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.next.Enabled(ctx, level)
}

func (h *levelFloor) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.min {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *levelFloor) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelFloor{next: h.next.WithAttrs(attrs), min: h.min}
}

func (h *levelFloor) WithGroup(name string) slog.Handler {
	return &levelFloor{next: h.next.WithGroup(name), min: h.min}
}
