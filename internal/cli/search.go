package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/textsafe"
	"github.com/mwledger/mwledger/internal/web"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/es"
)

func defaultLedger() string {
	if v := os.Getenv("MWLEDGER_LEDGER"); v != "" {
		return v
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "mwledger.db"
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "mwledger", "ledger.db")
}

// ledgerStore is what search, serve and review need of a store.
type ledgerStore interface {
	ledger.Store
	ledger.Scanner
	ledger.Outbox
	Get(ctx context.Context, id string) (*ledger.Deal, error)
	Review(ctx context.Context, id string, a ledger.ReviewAction) (*ledger.Deal, error)
	SetAlerts(policy ledger.AlertPolicy, notify func(dealIDs []string))
}

var (
	_ ledgerStore = ledger.EmbeddedLedger(nil)
	_ ledgerStore = (*es.Store)(nil)
)

// openLedger opens the embedded ledger file or connects to Elasticsearch.
func openLedger(kind, path, esURL string) (ledgerStore, func(), error) {
	switch kind {
	case "embedded":
		if _, err := os.Stat(path); err != nil {
			return nil, nil, fmt.Errorf("no ledger at %s: run `mwledger run` first, or pass --ledger", path)
		}
		b, err := app.OpenLedger(path)
		if err != nil {
			return nil, nil, err
		}
		return b, func() { b.Close() }, nil
	case "es":
		s, err := es.New(esConfig(esURL))
		if err != nil {
			return nil, nil, err
		}
		return s, func() {}, nil
	}
	return nil, nil, usageError{"--store must be embedded or es"}
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "search", "[filters] [free text]")
	storeKind := fs.String("store", envOr("MWLEDGER_STORE", "embedded"), "embedded (the ledger file of mwledger run) or es (env MWLEDGER_STORE)")
	ledgerPath := fs.String("ledger", defaultLedger(), "embedded ledger file (env MWLEDGER_LEDGER)")
	es := fs.String("es", envOr("MWLEDGER_ES", "http://127.0.0.1:19200"), "Elasticsearch URL (env MWLEDGER_ES)")
	var q ledger.Query
	web.BindFlags(fs, &q)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	asCSV := fs.Bool("csv", false, "print CSV (one row per deal, numbers unformatted) instead of a table")
	all := fs.Bool("all", false, "every matching deal, not one page (with --json or --csv)")
	agg := fs.String("agg", "", "aggregate the matching deals instead: "+strings.Join(ledger.Aggregations, ", "))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q.Text = strings.Join(fs.Args(), " ")
	if err := q.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if *asJSON && *asCSV {
		return usageError{"search: --json and --csv exclude each other"}
	}
	if *agg != "" && !slices.Contains(ledger.Aggregations, *agg) {
		return usageError{"search: --agg must be one of " + strings.Join(ledger.Aggregations, ", ")}
	}
	store, closeStore, err := openLedger(*storeKind, *ledgerPath, *es)
	if err != nil {
		return err
	}
	defer closeStore()
	if *agg != "" {
		r, err := ledger.AggregateStore(ctx, store, *agg, q)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, r)
		}
		if *asCSV {
			return writeAggCSV(e.stdout, r)
		}
		printAgg(e.stdout, r)
		return nil
	}
	var res ledger.Result
	if *all {
		res.Deals = []ledger.Deal{}
		err = store.Scan(ctx, q, func(d ledger.Deal) error { res.Deals = append(res.Deals, d); return nil })
		res.Total = len(res.Deals)
	} else {
		res, err = store.Search(ctx, q)
	}
	if err != nil {
		return err
	}
	switch {
	case *asJSON:
		return writeJSON(e.stdout, res)
	case *asCSV:
		return web.WriteCSV(e.stdout, res.Deals)
	}
	printTable(e.stdout, res)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printAgg(w io.Writer, r ledger.AggResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Name == "tiers" {
		fmt.Fprintln(tw, "TIER\tOPERATOR\tHYPERSCALER-GRADE MW\tMW\tVALUE\tDEALS\tCOUNTERPARTIES")
		for _, row := range r.Rows {
			fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.0f\t%s\t%d\t%s\n", row.Tier, term(row.Key), row.HyperscalerMW, row.MW, money(&row.ValueUSD), row.Deals, term(strings.Join(row.Counterparties, ", ")))
		}
	} else {
		fmt.Fprintln(tw, "KEY\tDEALS\tMW\tVALUE\tPRICED\t$/MW/YR MEAN\tMEDIAN\tMIN\tMAX")
		for _, row := range r.Rows {
			p := row.USDPerMWYear
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%d\t%s\t%s\t%s\t%s\n", term(row.Key), row.Deals, row.MW, money(&row.ValueUSD), p.Count,
				money(p.Mean), money(p.Median), money(p.Min), money(p.Max))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%s over %d deal(s); %d skipped (cancelled, or aggregates whose parts are listed)\n", r.Name, r.Deals, r.Skipped)
}

func writeAggCSV(w io.Writer, r ledger.AggResult) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"key", "deals", "mw", "value_usd", "priced_deals", "usd_per_mw_year_mean", "usd_per_mw_year_median", "usd_per_mw_year_min", "usd_per_mw_year_max", "tier", "hyperscaler_mw", "counterparties"})
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, row := range r.Rows {
		p := row.USDPerMWYear
		tier := ""
		if row.Tier > 0 {
			tier = strconv.Itoa(row.Tier)
		}
		cw.Write([]string{textsafe.CSVCell(row.Key), strconv.Itoa(row.Deals), f(&row.MW), f(&row.ValueUSD), strconv.Itoa(p.Count), f(p.Mean), f(p.Median), f(p.Min), f(p.Max),
			tier, f(&row.HyperscalerMW), textsafe.CSVCell(strings.Join(row.Counterparties, " | "))})
	}
	cw.Flush()
	return cw.Error()
}

// printTable prints deals as an aligned table an analyst can read.
func printTable(w io.Writer, res ledger.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATOR\tCOUNTERPARTY\tTYPE\tMW\tVALUE\tYEARS\t$/MW/YEAR\tANNOUNCED\tSOURCES")
	for _, d := range res.Deals {
		cp := term(d.Counterparty.Label())
		if d.Counterparty.Hyperscaler {
			cp += " *"
		}
		if d.Aggregate {
			cp += " (Σ)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", term(d.Operator.Name), cp, term(d.ContractType),
			num(d.CapacityMW, "%.0f"), money(d.TotalValueUSD), num(d.TermYears, "%.0f"), money(d.USDPerMWYear),
			term(strOr(d.AnnouncedOn)), len(d.Sources))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d deal(s); * hyperscaler counterparty, (Σ) figures sum several contracts\n", res.Total)
}

func num(p *float64, f string) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf(f, *p)
}

func money(p *float64) string {
	switch {
	case p == nil:
		return "-"
	case *p >= 1e9:
		return fmt.Sprintf("$%.2fB", *p/1e9)
	case *p >= 1e6:
		return fmt.Sprintf("$%.2fM", *p/1e6)
	}
	return fmt.Sprintf("$%.0f", *p)
}

func strOr(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

// term makes text from the ledger safe for a terminal table (no escape
// sequences, no line breaks): names and places come from articles.
func term(s string) string { return textsafe.Terminal(s) }
