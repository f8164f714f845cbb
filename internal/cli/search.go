package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/mwledger/mwledger/indexer"
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

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "search", "[filters] [free text]")
	storeKind := fs.String("store", envOr("MWLEDGER_STORE", "embedded"), "embedded (the ledger file of mwledger run) or es (env MWLEDGER_STORE)")
	ledger := fs.String("ledger", defaultLedger(), "embedded ledger file (env MWLEDGER_LEDGER)")
	es := fs.String("es", envOr("MWLEDGER_ES", "http://127.0.0.1:19200"), "Elasticsearch URL (env MWLEDGER_ES)")
	var q indexer.Query
	fs.StringVar(&q.Operator, "operator", "", "operator name or ticker, e.g. IREN")
	fs.StringVar(&q.Counterparty, "counterparty", "", "counterparty name (or descriptor when undisclosed)")
	fs.StringVar(&q.ContractType, "type", "", "colocation, bare_metal, cloud_services or unknown")
	fs.BoolVar(&q.HyperscalerOnly, "hyperscaler", false, "only deals with a hyperscaler counterparty")
	fs.Float64Var(&q.MinMW, "min-mw", 0, "at least this many MW")
	fs.Float64Var(&q.MaxMW, "max-mw", 0, "at most this many MW")
	fs.StringVar(&q.Sort, "sort", "value", "value, mw, usd_per_mw_year or announced (descending)")
	fs.IntVar(&q.Size, "limit", 50, "deals per page")
	fs.IntVar(&q.From, "from", 0, "skip this many deals")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q.Text = strings.Join(fs.Args(), " ")
	if err := q.Validate(); err != nil {
		return usageError{err.Error()}
	}
	var store indexer.Store
	switch *storeKind {
	case "embedded":
		if _, err := os.Stat(*ledger); err != nil {
			return fmt.Errorf("no ledger at %s: run `mwledger run` first, or pass --ledger", *ledger)
		}
		b, err := indexer.OpenBolt(*ledger)
		if err != nil {
			return err
		}
		defer b.Close()
		store = b
	case "es":
		s, err := indexer.NewESStore(esConfig(*es))
		if err != nil {
			return err
		}
		store = s
	default:
		return usageError{"search: --store must be embedded or es"}
	}
	res, err := store.Search(ctx, q)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printTable(e.stdout, res)
	return nil
}

// printTable prints deals as an aligned table an analyst can read.
func printTable(w io.Writer, res indexer.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATOR\tCOUNTERPARTY\tTYPE\tMW\tVALUE\tYEARS\t$/MW/YEAR\tANNOUNCED\tSOURCES")
	for _, d := range res.Deals {
		cp := d.Counterparty.Label()
		if d.Counterparty.Hyperscaler {
			cp += " *"
		}
		if d.Aggregate {
			cp += " (Σ)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", d.Operator.Name, cp, d.ContractType,
			num(d.CapacityMW, "%.0f"), money(d.TotalValueUSD), num(d.TermYears, "%.0f"), money(d.USDPerMWYear),
			strOr(d.AnnouncedOn), len(d.Sources))
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
