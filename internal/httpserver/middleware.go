package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

type requestKey struct{}

// requestInfo is what the middleware keeps about a request in its context.
type requestInfo struct {
	id string
	// read is set by MarkRead.
	read bool
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// MarkRead tells the access log that the request ctx belongs to changes
// nothing, though its method is not GET or HEAD (a POST that only asks, like
// validate), so that it is logged like a read.
func MarkRead(ctx context.Context) {
	if info, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		info.read = true
	}
}

// validRequestID keeps a client's id only if it is short and plain
// (^[A-Za-z0-9._:-]{1,128}$), so it cannot inject anything into logs or
// headers. A loop, not a regexp: it runs on every request.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// requestMetrics are the HTTP server's own metrics.
type requestMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequestMetrics(reg prometheus.Registerer) *requestMetrics {
	m := &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "checkoutd", Name: "http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "checkoutd", Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// tracked is what instrument keeps of a request.
type tracked struct {
	rec  statusRecorder
	info requestInfo
}

// instrument wraps every request: it assigns the request id, recovers a
// panic into a 500 internal_error, and logs and counts the request by its
// route template (never its raw path, which would explode the label set).
//
// The access log line of a request that succeeded (status below 400) and
// changed nothing (GET, HEAD, or MarkRead) is written at debug level; every
// other request's at info, or error for a 5xx. Reads are most of the
// traffic (an edge worker validates every cart), the metrics count each of
// them by route and status, and a log line apiece cost ~8% of a validate's
// server CPU; what changed something, and what failed, is always logged.
func instrument(logger *slog.Logger, metrics *requestMetrics) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(RequestIDHeader)
			if !validRequestID(id) {
				id = newRequestID()
			}
			w.Header().Set(RequestIDHeader, id)
			// One allocation for what the middleware keeps of the request.
			t := &tracked{rec: statusRecorder{ResponseWriter: w}, info: requestInfo{id: id}}
			rec, info := &t.rec, &t.info
			r = r.WithContext(context.WithValue(r.Context(), requestKey{}, info))

			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					logger.ErrorContext(r.Context(), "panic serving request",
						"request_id", id, "panic", p, "stack", string(debug.Stack()))
					if rec.status == 0 {
						rec.Header().Set("Content-Type", "application/json")
						rec.WriteHeader(http.StatusInternalServerError)
						_, _ = rec.Write([]byte(`{"error":"internal_error","message":"internal error"}` + "\n"))
					}
				}
				route := routeLabel(r)
				method := methodLabel(r.Method)
				status := rec.status
				if status == 0 {
					status = http.StatusOK
				}
				elapsed := time.Since(start)
				metrics.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
				metrics.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
				level := slog.LevelInfo
				switch {
				case status >= 500:
					level = slog.LevelError
				case status < 400 && (info.read || r.Method == http.MethodGet || r.Method == http.MethodHead):
					level = slog.LevelDebug
				}
				if logger.Enabled(r.Context(), level) {
					logger.LogAttrs(r.Context(), level, "http request",
						slog.String("request_id", id), slog.String("method", method), slog.String("route", route),
						slog.String("path", clip(r.URL.Path)), slog.Int("status", status),
						slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
				}
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// Every label of the request metrics comes from a fixed set, whatever the
// client sends, so no request can grow the scrape:
//
//   - route is a registered route's template, or unmatchedRoute;
//   - method is one of knownMethods, or "other" (a method is any token the
//     client likes, half a megabyte of one included);
//   - status is what a handler wrote, which net/http holds to 100-999.
const unmatchedRoute = "unmatched"

// knownMethods are the methods of RFC 9110 and PATCH.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true,
	http.MethodTrace: true,
}

func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

func routeLabel(r *http.Request) string {
	if cr := mux.CurrentRoute(r); cr != nil {
		if tmpl, err := cr.GetPathTemplate(); err == nil {
			return tmpl
		}
	}
	return unmatchedRoute
}

// maxLoggedPath bounds the request path in a log line.
const maxLoggedPath = 512

// clip cuts a client's string down to maxLoggedPath bytes for a log line.
func clip(s string) string {
	if len(s) <= maxLoggedPath {
		return s
	}
	return s[:maxLoggedPath] + "…"
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// jsonError answers every request with one error body.
func jsonError(status int, code, message string) http.Handler {
	body := []byte(`{"error":"` + code + `","message":"` + message + `"}` + "\n")
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}
