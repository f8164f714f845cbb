package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mwledger/mwledger/internal/metrics"
	"github.com/mwledger/mwledger/internal/web"
)

// runServe serves the JSON API and the web page until ctx ends.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[flags]")
	addr := fs.String("addr", envOr("MWLEDGER_ADDR", "127.0.0.1:8080"), "listen address (env MWLEDGER_ADDR)")
	storeKind := fs.String("store", envOr("MWLEDGER_STORE", "embedded"), "embedded (the ledger file of mwledger run) or es (env MWLEDGER_STORE)")
	ledgerPath := fs.String("ledger", defaultLedger(), "embedded ledger file (env MWLEDGER_LEDGER)")
	es := fs.String("es", envOr("MWLEDGER_ES", "http://127.0.0.1:19200"), "Elasticsearch URL (env MWLEDGER_ES)")
	hosts := fs.String("host", os.Getenv("MWLEDGER_SERVE_HOSTS"), "comma-separated host names (or host:port) the server answers to besides localhost and its listen address (env MWLEDGER_SERVE_HOSTS)")
	origins := fs.String("origin", os.Getenv("MWLEDGER_SERVE_ORIGINS"), "comma-separated origins whose pages may write, e.g. https://ledger.example.com behind a TLS proxy (env MWLEDGER_SERVE_ORIGINS)")
	tokens := fs.String("tokens", envOr("MWLEDGER_SERVE_TOKENS", defaultTokens()), "reviewers' token file (digests only; created with one token at first start) (env MWLEDGER_SERVE_TOKENS)")
	reviewerName := fs.String("reviewer", envOr("MWLEDGER_REVIEWER", envOr("USER", "reviewer")), "whose token the first start creates")
	addReviewer := fs.String("add-reviewer", "", "add a token for reviewer NAME to the token file, print it once and exit")
	var af alertFlags
	af.register(fs)
	var mf metricsFlags
	mf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"serve: unexpected arguments"}
	}
	if *addReviewer != "" {
		tok, err := web.AddTokenToFile(*tokens, *addReviewer)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "review token for %s (shown once; %s keeps only its digest):\n%s\n", *addReviewer, *tokens, tok)
		return nil
	}
	reviewers, err := serveReviewers(e, *tokens, *reviewerName)
	if err != nil {
		return err
	}
	reg, stopMetrics, err := mf.start(e)
	if err != nil {
		return err
	}
	defer stopMetrics()
	af.observer = metrics.NewAlerts(reg)
	store, closeStore, err := openLedger(*storeKind, *ledgerPath, *es)
	if err != nil {
		return err
	}
	defer closeStore()
	// Reviews made in the page raise the alerts a correction deserves.
	disp, err := af.forReviews(e, store, *storeKind)
	if err != nil {
		return err
	}
	if disp != nil {
		dctx, stop := context.WithCancel(ctx)
		defer stop()
		go func() { _ = disp.Run(dctx) }()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	allowed := splitList(*hosts)
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
		allowed = append(allowed, ln.Addr().String())
	}
	if exposed(ln.Addr()) {
		warnExposed(e, ln.Addr().String(), allowed)
	}
	srv := &http.Server{
		Handler:           metrics.NewHTTP(reg).Wrap(web.New(store, web.Options{Log: e.log, Reviewers: reviewers, Hosts: allowed, Origins: splitList(*origins)})),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10, // a query string beyond this is a 431, never parsed
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // CSV exports of large searches
		IdleTimeout:       2 * time.Minute,
	}
	e.log.Info("serving the ledger", "url", "http://"+ln.Addr().String()+"/", "store", *storeKind)
	fmt.Fprintf(e.stdout, "mwledger serve: http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// defaultTokens is the reviewers' token file: next to the default ledger.
func defaultTokens() string {
	return filepath.Join(filepath.Dir(defaultLedger()), "serve-tokens")
}

// serveReviewers are who may write: the account of MWLEDGER_SERVE_USER and
// MWLEDGER_SERVE_PASSWORD when set, else the token file, created at first
// start with one token printed once.
func serveReviewers(e *env, tokens, firstReviewer string) (*web.Reviewers, error) {
	r := &web.Reviewers{}
	user, pass := os.Getenv("MWLEDGER_SERVE_USER"), os.Getenv("MWLEDGER_SERVE_PASSWORD")
	if user != "" || pass != "" {
		if user == "" || len(pass) < 12 {
			return nil, errors.New("serve: MWLEDGER_SERVE_USER and MWLEDGER_SERVE_PASSWORD (12 characters or more) go together")
		}
		r.AddBasic(user, pass)
		e.log.Info("reviews need basic auth", "user", user)
		return r, nil
	}
	if _, err := os.Lstat(tokens); errors.Is(err, os.ErrNotExist) {
		tok, err := web.AddTokenToFile(tokens, firstReviewer)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(e.stdout, "mwledger serve: review token for %s (shown once; %s keeps only its digest; more with --add-reviewer NAME):\n%s\n", firstReviewer, tokens, tok)
	}
	if err := web.LoadTokens(tokens, r); err != nil {
		return nil, err
	}
	e.log.Info("reviews need a reviewer's token", "tokens", tokens, "reviewers", r.Len())
	return r, nil
}

// exposed says whether other machines may reach a listen address.
func exposed(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return !ok || !ta.IP.IsLoopback()
}

// warnExposed says loudly that the server is reachable from other machines.
func warnExposed(e *env, addr string, hosts []string) {
	fmt.Fprintf(e.stderr, `
WARNING: mwledger serve listens on %s, which other machines can reach.
  It speaks plain HTTP: put a TLS proxy in front of it (and pass --origin https://NAME),
  or review tokens and passwords cross the network in clear.
  Requests must name an allowed host: localhost, the listen address, and --host (now: %s).
`, addr, strings.Join(hosts, ", "))
	e.log.Warn("serving on a non-loopback address without TLS", "addr", addr)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
