// Package web serves the ledger over HTTP: a JSON API (api/openapi.yaml) and
// a single-page UI from embedded static files. Deal data comes from articles
// and is hostile: the API writes it only as JSON (HTML characters escaped),
// the page builds its DOM with textContent, and every response carries a
// strict Content-Security-Policy.
package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/redact"
)

// Ledger is what the server reads: sqlite.Store (ledger/sqlite), bolt.Store and es.Store.
type Ledger interface {
	Search(ctx context.Context, q ledger.Query) (ledger.Result, error)
	Scan(ctx context.Context, q ledger.Query, fn func(ledger.Deal) error) error
	Get(ctx context.Context, id string) (*ledger.Deal, error)
}

//go:embed static
var staticFiles embed.FS

// CSP is the Content-Security-Policy of every response: scripts, styles and
// data only from this origin, no inline script or style, no plugins, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// MaxExport bounds the deals one CSV export writes.
const MaxExport = 200000

// Every API request is bounded by its context: it ends when the client hangs
// up, and at the latest after QueryTimeout (ExportTimeout for exports); the
// stores check the context while they work.
const (
	QueryTimeout  = 30 * time.Second
	ExportTimeout = 4 * time.Minute
)

// bounded runs h with a request context that ends after d.
func bounded(d time.Duration, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

// Options guard the server.
type Options struct {
	// Log receives the server's logs. Default: discard.
	Log *slog.Logger
	// Reviewers may write (POST /api/deals/{id}/review); the reviewer's name
	// comes from their credentials. Default none: the server is read-only.
	Reviewers *Reviewers
	// Hosts are the Host header values answered, besides loopback names
	// (localhost, 127.0.0.1, [::1]) on any port: "host:port" exactly, or a bare
	// name on any port. Any other Host is a 421 (DNS rebinding).
	Hosts []string
	// Origins are accepted on writes besides the server's own
	// (scheme://Host), e.g. https://ledger.example.com behind a TLS proxy.
	Origins []string
}

// NewHandler returns the API and the page, read-only, for loopback names.
func NewHandler(store Ledger, log *slog.Logger) http.Handler {
	return New(store, Options{Log: log})
}

// New returns the API and the page guarded as o says.
func New(store Ledger, o Options) http.Handler {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{store: store, log: log, reviewers: o.Reviewers, origins: o.Origins}
	static, _ := fs.Sub(staticFiles, "static")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/deals", bounded(QueryTimeout, h.deals))
	mux.HandleFunc("GET /api/deals/{id}", bounded(QueryTimeout, h.deal))
	mux.HandleFunc("GET /api/aggregations/{name}", bounded(QueryTimeout, h.aggregation))
	mux.HandleFunc("GET /api/export.csv", bounded(ExportTimeout, h.export))
	mux.HandleFunc("GET /api/export.json", bounded(ExportTimeout, h.export))
	mux.HandleFunc("POST /api/deals/{id}/review", bounded(QueryTimeout, h.review))
	mux.HandleFunc("GET /api/review-fields", h.reviewFields)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static, "index.html")
	})
	return secure(guardHost(mux, o.Hosts))
}

type handler struct {
	store     Ledger
	log       *slog.Logger
	reviewers *Reviewers
	origins   []string
}

// secure sets the security headers on every response.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

type apiError struct {
	Error string `json:"error"`
}

func (h *handler) json(w http.ResponseWriter, status int, v any) {
	// Encoded before the status is sent: a value JSON cannot write (NaN) is a
	// 500 with a message, not a 200 with an empty body.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // escapes <, > and & as \u003c …
	if err := enc.Encode(v); err != nil {
		h.log.Error("encoding response", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		json.NewEncoder(&buf).Encode(apiError{"the answer could not be encoded as JSON"})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		h.log.Debug("writing response", "err", err)
	}
}

// fail answers 502 without the store's error: it names addresses (and, were
// they misconfigured, credentials) of the store; the server log has it.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Warn("api request failed", "path", r.URL.Path, "err", redact.Text(err.Error()))
	h.json(w, http.StatusBadGateway, apiError{"the ledger could not answer (the server's log says why)"})
}

func (h *handler) deals(w http.ResponseWriter, r *http.Request) {
	q, err := QueryFromValues(r.URL.Query())
	if err != nil {
		h.json(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	res, err := h.store.Search(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.json(w, http.StatusOK, res)
}

func (h *handler) deal(w http.ResponseWriter, r *http.Request) {
	d, err := h.store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if d == nil {
		h.json(w, http.StatusNotFound, apiError{"no such deal"})
		return
	}
	h.json(w, http.StatusOK, d)
}

func (h *handler) aggregation(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q, err := QueryFromValues(r.URL.Query())
	if err != nil {
		h.json(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	if !validAgg(name) {
		h.json(w, http.StatusNotFound, apiError{"aggregation must be one of " + strings.Join(ledger.Aggregations, ", ")})
		return
	}
	res, err := ledger.AggregateStore(r.Context(), h.store, name, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.json(w, http.StatusOK, res)
}

func validAgg(name string) bool {
	for _, a := range ledger.Aggregations {
		if a == name {
			return true
		}
	}
	return false
}

var errTooMany = errors.New("export too large")

func (h *handler) export(w http.ResponseWriter, r *http.Request) {
	q, err := QueryFromValues(r.URL.Query())
	if err != nil {
		h.json(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	var deals []ledger.Deal
	err = h.store.Scan(r.Context(), q, func(d ledger.Deal) error {
		if len(deals) >= MaxExport {
			return errTooMany
		}
		deals = append(deals, d)
		return nil
	})
	if errors.Is(err, errTooMany) {
		h.json(w, http.StatusRequestEntityTooLarge, apiError{"more than 200000 deals match: narrow the search"})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if strings.HasSuffix(r.URL.Path, ".json") {
		w.Header().Set("Content-Disposition", `attachment; filename="mwledger-deals.json"`)
		if deals == nil {
			deals = []ledger.Deal{}
		}
		h.json(w, http.StatusOK, ledger.Result{Total: len(deals), Deals: deals})
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mwledger-deals.csv"`)
	if err := WriteCSV(w, deals); err != nil {
		h.log.Debug("writing csv", "err", err)
	}
}
