package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mwledger/mwledger/internal/web"
)

// runServe serves the JSON API and the web page until ctx ends.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[flags]")
	addr := fs.String("addr", envOr("MWLEDGER_ADDR", "127.0.0.1:8080"), "listen address (env MWLEDGER_ADDR)")
	storeKind := fs.String("store", envOr("MWLEDGER_STORE", "embedded"), "embedded (the ledger file of mwledger run) or es (env MWLEDGER_STORE)")
	ledgerPath := fs.String("ledger", defaultLedger(), "embedded ledger file (env MWLEDGER_LEDGER)")
	es := fs.String("es", envOr("MWLEDGER_ES", "http://127.0.0.1:19200"), "Elasticsearch URL (env MWLEDGER_ES)")
	var af alertFlags
	af.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"serve: unexpected arguments"}
	}
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
	srv := &http.Server{
		Handler:           web.NewHandler(store, e.log),
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
