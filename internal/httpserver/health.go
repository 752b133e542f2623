package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/migrations"
)

// readyTimeout bounds one readiness check. Kubernetes gives a probe one second
// by default; a database slower than that is as good as unavailable.
const readyTimeout = time.Second

// health serves the liveness and readiness endpoints.
type health struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
}

func mountHealth(r *mux.Router, pool *pgxpool.Pool, logger *slog.Logger) {
	h := &health{pool: pool, logger: logger}
	r.HandleFunc("/healthz", h.live).Methods(http.MethodGet)
	r.HandleFunc("/readyz", h.ready).Methods(http.MethodGet)
	r.HandleFunc("/api/inventory/health", h.ready).Methods(http.MethodGet)
}

// live answers as long as the process serves HTTP at all. It does not look at
// the database, so an outage there makes instances unready, not restarted.
func (h *health) live(w http.ResponseWriter, _ *http.Request) {
	writeStatus(w, http.StatusOK, "ok")
}

// ready answers ok only when the database answers and its schema is the one
// this binary expects, so no traffic reaches an instance that cannot serve it.
func (h *health) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := h.check(ctx); err != nil {
		h.logger.WarnContext(ctx, "not ready", "path", r.URL.Path, "error", err)
		writeStatus(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	writeStatus(w, http.StatusOK, "ok")
}

func (h *health) check(ctx context.Context) error {
	if err := h.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	current, err := migrations.Current(ctx, h.pool)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if !current {
		return errors.New("database migrations are not current: run checkoutd migrate")
	}
	return nil
}

type statusBody struct {
	Status string `json:"status"`
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// A failed write means the client has gone; there is no one to tell.
	_ = json.NewEncoder(w).Encode(statusBody{Status: status})
}
