package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/web"
)

// reviewThreshold: deals below this confidence are listed for review.
const reviewThreshold = 0.7

// runReview lists the deals a reviewer should look at: warnings (failed
// plausibility checks), conflicting sources, or confidence below 0.7.
func runReview(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError{"review: usage: mwledger review list [search filters] (accept/correct are not implemented yet)"}
	}
	fs := newFlags(e, "review list", "[search filters]")
	storeKind := fs.String("store", envOr("MWLEDGER_STORE", "embedded"), "embedded or es (env MWLEDGER_STORE)")
	ledgerPath := fs.String("ledger", defaultLedger(), "embedded ledger file (env MWLEDGER_LEDGER)")
	es := fs.String("es", envOr("MWLEDGER_ES", "http://127.0.0.1:19200"), "Elasticsearch URL (env MWLEDGER_ES)")
	asJSON := fs.Bool("json", false, "print JSON")
	asCSV := fs.Bool("csv", false, "print CSV")
	var q indexer.Query
	web.BindFlags(fs, &q)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	q.Text = strings.Join(fs.Args(), " ")
	if q.Sort == "" {
		q.Sort, q.Order = "confidence", "asc"
	}
	if err := q.Validate(); err != nil {
		return usageError{err.Error()}
	}
	store, closeStore, err := openLedger(*storeKind, *ledgerPath, *es)
	if err != nil {
		return err
	}
	defer closeStore()
	res := indexer.Result{Deals: []indexer.Deal{}}
	if err := store.Scan(ctx, q, func(d indexer.Deal) error {
		if NeedsReview(d) {
			res.Deals = append(res.Deals, d)
		}
		return nil
	}); err != nil {
		return err
	}
	res.Total = len(res.Deals)
	switch {
	case *asJSON:
		return writeJSON(e.stdout, res)
	case *asCSV:
		return web.WriteCSV(e.stdout, res.Deals)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOPERATOR\tCOUNTERPARTY\tCONF.\tWHY")
	for _, d := range res.Deals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\n", d.ID, d.Operator.Name, d.Counterparty.Label(), d.Confidence, strings.Join(reviewReasons(d), "; "))
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d deal(s) to review\n", res.Total)
	return nil
}

// NeedsReview: warnings, conflicts, or confidence below 0.7.
func NeedsReview(d indexer.Deal) bool { return len(reviewReasons(d)) > 0 }

func reviewReasons(d indexer.Deal) []string {
	var why []string
	if d.Confidence < reviewThreshold {
		why = append(why, fmt.Sprintf("confidence %.2f", d.Confidence))
	}
	if len(d.Conflicts) > 0 {
		why = append(why, "conflicts: "+strings.Join(d.Conflicts, ","))
	}
	return append(why, d.Warnings...)
}
