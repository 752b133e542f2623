// Package httpserver runs checkoutd's HTTP server: the router every API is
// mounted on, the health and metrics endpoints, and a graceful shutdown that
// lets in-flight checkouts finish when the process is asked to stop.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Timeouts of the underlying http.Server. They bound how long a slow or idle
// client can hold a connection, so a few of them cannot exhaust the server.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
)

// DefaultShutdownTimeout bounds a graceful shutdown when
// Options.ShutdownTimeout is zero. It stays under Kubernetes' default 30s
// termination grace period so the server exits before it is killed.
const DefaultShutdownTimeout = 25 * time.Second

// Options configures a Server.
type Options struct {
	// Addr is the host:port Run listens on.
	Addr string
	// Pool is the database the readiness checks ping. Required.
	Pool *pgxpool.Pool
	// Registry is gathered at /metrics; NewRegistry makes one with the Go
	// and process collectors. Nil means a fresh NewRegistry.
	Registry *prometheus.Registry
	// Logger receives the server's logs. Nil means slog.Default.
	Logger *slog.Logger
	// ShutdownTimeout bounds how long Run waits for in-flight requests once
	// its context is cancelled. Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Server is checkoutd's HTTP server. Mount routes on Router before calling
// Run or Serve.
type Server struct {
	router          *mux.Router
	logger          *slog.Logger
	addr            string
	shutdownTimeout time.Duration
	// draining is closed when a graceful shutdown begins; see Draining.
	draining  chan struct{}
	drainOnce sync.Once
}

type drainingKey struct{}

// Draining returns a channel that is closed once the server serving the
// request ctx belongs to begins its graceful shutdown, or nil (which never
// closes) outside such a request. Handlers that would otherwise never
// finish, such as event streams, end when it closes: the shutdown waits for
// every request in flight, and a stream open until its client leaves would
// hold it until the shutdown timeout.
func Draining(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainingKey{}).(chan struct{})
	return ch
}

// New returns a server with the health and metrics routes mounted.
func New(opts Options) *Server {
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	s := &Server{
		router:          mux.NewRouter(),
		logger:          opts.Logger,
		addr:            opts.Addr,
		shutdownTimeout: opts.ShutdownTimeout,
		draining:        make(chan struct{}),
	}
	mw := instrument(opts.Logger, newRequestMetrics(opts.Registry))
	s.router.Use(mw)
	// mux runs middleware only on matched routes; these get it too.
	s.router.NotFoundHandler = mw(jsonError(http.StatusNotFound, "not_found", "no such route"))
	s.router.MethodNotAllowedHandler = mw(methodNotAllowed(s.router))
	// Routes match on the encoded path so that a SKU containing "/" can be
	// sent as %2F within one path segment, and paths are not cleaned, so the
	// SKUs "." and ".." (valid ones) reach their handler.
	s.router.UseEncodedPath()
	s.router.SkipClean(true)
	mountHealth(s.router, opts.Pool, opts.Logger)
	s.router.Handle("/metrics", metricsHandler(opts.Registry)).Methods(http.MethodGet)
	return s
}

// Router is the router requests are dispatched on, for mounting more routes.
func (s *Server) Router() *mux.Router {
	return s.router
}

// Run listens on Options.Addr and serves until ctx is cancelled; see Serve.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then stops accepting
// connections and waits up to the shutdown timeout for in-flight requests to
// finish. It closes ln and returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.router,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		// Requests deliberately do not inherit ctx: cancelling it starts the
		// shutdown, and in-flight requests must be allowed to finish. They
		// can see the shutdown begin through Draining instead.
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), drainingKey{}, s.draining)
		},
	}
	srv.RegisterOnShutdown(func() { s.drainOnce.Do(func() { close(s.draining) }) })

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.logger.Info("http server listening", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}

	s.logger.Info("http server shutting down", "timeout", s.shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		closeErr := srv.Close()
		<-served
		return fmt.Errorf("shut down http server: requests still in flight after %s: %w", s.shutdownTimeout, errors.Join(err, closeErr))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	s.logger.Info("http server stopped")
	return nil
}
