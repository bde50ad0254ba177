package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/thinkey/thinkey/node/config"
)

// Timeouts and limits of the http.Server that HTTPServer returns.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 64 << 10
)

// routeUnmatched labels the metrics of requests no route matched.
const routeUnmatched = "unmatched"

// Server serves the HTTP JSON API, /metrics and /healthz for one node. It
// starts no goroutine; the driver runs the http.Server.
type Server struct {
	cfg      config.API
	node     Node
	registry *prometheus.Registry
	logger   *slog.Logger
	mux      *http.ServeMux
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer returns the API of node. cfg.MaxBodyBytes bounds request bodies
// (at least 1 KiB is used when it is smaller); cfg.Listen is the address
// HTTPServer listens on. The server registers its request metrics with
// registry and serves registry at /metrics; a nil registry gets a fresh one
// of its own (never the global default). A nil logger discards. Metrics
// already registered by an earlier Server on the same registry are reused.
func NewServer(cfg config.API, node Node, registry *prometheus.Registry, logger *slog.Logger) *Server {
	if registry == nil {
		registry = prometheus.NewRegistry()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.MaxBodyBytes = max(cfg.MaxBodyBytes, 1<<10)
	s := &Server{cfg: cfg, node: node, registry: registry, logger: logger, mux: http.NewServeMux()}
	s.requests = reuse(registry, logger, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "thinkey", Subsystem: "api", Name: "requests_total",
		Help: "HTTP requests served, by route pattern and status code.",
	}, []string{"route", "code"}))
	s.latency = reuse(registry, logger, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "thinkey", Subsystem: "api", Name: "request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms to 4 s
	}, []string{"route"}))

	s.handle("POST /v1/messages", s.postMessages)
	s.handle("GET /v1/messages/{id}", s.getMessage)
	s.handle("GET /v1/accounts/{address}", s.getAccount)
	s.handle("GET /v1/chains", s.getChains)
	s.handle("GET /v1/chains/{chain}/blocks/{block}", s.getBlock)
	s.handle("GET /v1/light/chains/{chain}/blocks/{height}", s.getLightHeader)
	s.handle("GET /v1/light/accounts/{address}", s.getLightAccount)
	s.handle("GET /v1/light/relays/{id}", s.getLightRelay)
	s.handle("GET /v1/status", s.getStatus)
	s.handle("GET /healthz", s.getHealth)
	metrics := promhttp.HandlerFor(registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
	s.handle("GET /metrics", metrics.ServeHTTP)
	return s
}

// reuse registers c, or returns the collector of the same description that
// an earlier Server registered.
func reuse[C prometheus.Collector](reg *prometheus.Registry, logger *slog.Logger, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	logger.Error("api metrics not registered", "err", err)
	return c
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// HTTPServer returns an http.Server for cfg.Listen with the handler and
// the timeouts above; the caller runs ListenAndServe and Shutdown.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Addr:              s.cfg.Listen,
		Handler:           s.Handler(),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
}

// serve answers requests no route matches with JSON 404 or 405 (the mux's
// own answers are plain text) and passes the others to the mux.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.instrument(routeUnmatched, func(w http.ResponseWriter, r *http.Request) {
		// Ask the mux's own handler whether the path exists for another
		// method: it answers 405 with an Allow header then.
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, &requestError{status: http.StatusMethodNotAllowed, code: CodeMethodNotAllowed,
				msg: "method " + r.Method + " not allowed; allowed: " + probe.header.Get("Allow")})
			return
		}
		writeError(w, &requestError{status: http.StatusNotFound, code: CodeNotFound, msg: "no route for " + r.URL.Path})
	})(w, r)
}

// probeWriter records a status and headers and discards the body.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}
func (p *probeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// handle registers an instrumented route.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.instrument(pattern, h))
}

// instrument counts, times and logs a route's requests, and turns a panic
// into a 500 so that one bad request cannot take the node down.
func (s *Server) instrument(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("api handler panic", "route", route, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, &requestError{status: http.StatusInternalServerError, code: CodeInternal, msg: "internal error"})
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			s.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			s.latency.WithLabelValues(route).Observe(elapsed.Seconds())
			s.logger.LogAttrs(r.Context(), slog.LevelDebug, "api request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("elapsed", elapsed),
				slog.String("remote", r.RemoteAddr))
		}()
		h(sw, r)
	}
}

// statusWriter remembers the status and counts the body bytes.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeJSON writes v with status. Encoding is done before the header is
// written, so a failure is still a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorJSON{Error: "encode response: " + err.Error(), Code: CodeInternal})
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, e *requestError) {
	writeJSON(w, e.status, errorJSON{Error: e.msg, Code: e.code, Chain: e.chain})
}
