package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/mwledger/mwledger/internal/fixturefile"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/internal/review"
	"github.com/mwledger/mwledger/internal/web"
	"github.com/mwledger/mwledger/ledger"
)

const reviewUsage = `Usage:
  mwledger review list [search filters]                 the deals to review (warnings, conflicting sources, confidence < 0.7)
  mwledger review accept ID [--note TEXT]               the deal is right as shown
  mwledger review correct ID FIELD=VALUE... [--note TEXT] [--fixture NAME [--article FILE|URL] [--fixture-dir DIR]]
                                                        set fields; VALUE "-" means not known; --fixture also saves
                                                        the source article with the corrected golden record
  mwledger review reset ID                              drop the deal's review and corrections
Fields: ` + "operator, counterparty (a name or \"undisclosed: descriptor\"), hyperscaler, end_user, guarantor, contract_type,\n" +
	"  capacity_mw, total_value_usd, term_years, reported_usd_per_mw_year, prepayment_usd, guarantee_usd, location, hardware, announced_on\n" +
	"Common flags: --store embedded|es, --ledger FILE, --es URL, --by NAME (env MWLEDGER_REVIEWER, default $USER)\n"

// runReview lists deals to review, or applies a reviewer's verdict to one.
func runReview(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stderr, reviewUsage)
		if len(args) == 0 {
			return usageError{"review: give list, accept, correct or reset"}
		}
		return nil
	}
	switch args[0] {
	case "list":
		return reviewList(ctx, e, args[1:])
	case "accept", "correct", "reset":
		return reviewAct(ctx, e, args[0], args[1:])
	}
	return usageError{fmt.Sprintf("review: unknown subcommand %q (list, accept, correct or reset)", args[0])}
}

// storeFlags are the flags that choose the ledger.
type storeFlags struct{ kind, path, es string }

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.kind, "store", envOr("MWLEDGER_STORE", "embedded"), "embedded or es (env MWLEDGER_STORE)")
	fs.StringVar(&s.path, "ledger", defaultLedger(), "embedded ledger file (env MWLEDGER_LEDGER)")
	fs.StringVar(&s.es, "es", envOr("MWLEDGER_ES", "http://127.0.0.1:19200"), "Elasticsearch URL (env MWLEDGER_ES)")
}

func (s *storeFlags) open() (ledgerStore, func(), error) { return openLedger(s.kind, s.path, s.es) }

func reviewList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "review list", "[search filters]")
	var sf storeFlags
	sf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	asCSV := fs.Bool("csv", false, "print CSV")
	var q ledger.Query
	web.BindFlags(fs, &q)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q.Text = strings.Join(fs.Args(), " ")
	q.NeedsReview = true
	if q.Sort == "" {
		q.Sort, q.Order = "confidence", "asc"
	}
	if err := q.Validate(); err != nil {
		return usageError{err.Error()}
	}
	store, closeStore, err := sf.open()
	if err != nil {
		return err
	}
	defer closeStore()
	res, err := store.Search(ctx, q)
	if err != nil {
		return err
	}
	switch {
	case *asJSON:
		return writeJSON(e.stdout, res)
	case *asCSV:
		return web.WriteCSV(e.stdout, res.Deals)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOPERATOR\tCOUNTERPARTY\tCONF.\tWHY")
	for _, d := range res.Deals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\n", term(d.ID), term(d.Operator.Name), term(d.Counterparty.Label()), d.Confidence, term(strings.Join(d.ReviewReasons, "; ")))
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d deal(s) to review", res.Total)
	if len(res.Deals) < res.Total {
		fmt.Fprintf(e.stdout, " (%d shown: --limit, --from)", len(res.Deals))
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func reviewAct(ctx context.Context, e *env, verb string, args []string) error {
	fs := newFlags(e, "review "+verb, "ID [FIELD=VALUE...] [flags]")
	var sf storeFlags
	sf.register(fs)
	by := fs.String("by", envOr("MWLEDGER_REVIEWER", os.Getenv("USER")), "reviewer's name (env MWLEDGER_REVIEWER)")
	note := fs.String("note", "", "why: kept with the review")
	fixture := fs.String("fixture", "", "correct only: also save the source article as fixture NAME with the corrected golden record")
	fixtureDir := fs.String("fixture-dir", "fixtures/review", "where --fixture writes")
	article := fs.String("article", "", "the article for --fixture: a saved FILE, or a URL (default: the deal's source URL, fetched)")
	allowPrivate := fs.Bool("allow-private", false, "let --fixture fetch from loopback and private addresses (local test sites only)")
	var af alertFlags
	af.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usageError{"review " + verb + ": give the deal ID"}
	}
	id, rest := pos[0], pos[1:]
	a := ledger.ReviewAction{By: *by, Note: *note}
	switch verb {
	case "accept":
		a.Accept = true
	case "reset":
		a.Reset = true
	case "correct":
		if len(rest) == 0 {
			return usageError{"review correct: give FIELD=VALUE corrections"}
		}
	}
	if verb != "correct" && len(rest) > 0 {
		return usageError{fmt.Sprintf("review %s: unexpected %q (corrections go with review correct)", verb, rest[0])}
	}
	if *fixture != "" && verb != "correct" {
		return usageError{"review: --fixture goes with review correct"}
	}
	for _, kv := range rest {
		field, value, ok := strings.Cut(kv, "=")
		if !ok {
			return usageError{fmt.Sprintf("review correct: %q is not FIELD=VALUE", kv)}
		}
		c, err := ledger.ParseCorrection(field, value)
		if err != nil {
			return usageError{err.Error()}
		}
		a.Corrections = append(a.Corrections, c)
	}
	a.Corrections = review.CanonicalCorrections(a.Corrections)
	if err := a.Validate(); err != nil {
		return usageError{err.Error()}
	}
	store, closeStore, err := sf.open()
	if err != nil {
		return err
	}
	defer closeStore()
	disp, err := af.forReviews(e, store, sf.kind)
	if err != nil {
		return err
	}
	if disp != nil {
		defer func() {
			dc, cancel := context.WithTimeout(context.WithoutCancel(ctx), af.drain)
			defer cancel()
			disp.Drain(dc)
		}()
	}
	d, err := store.Review(ctx, id, a)
	if err != nil {
		if errors.Is(err, ledger.ErrNoDeal) {
			return fmt.Errorf("review: no deal %q (ids are in `mwledger search` and `mwledger review list`)", id)
		}
		return err
	}
	status := "reset (no review)"
	if d.Review != nil {
		status = d.Review.Status
		for _, c := range d.Review.Corrections {
			fmt.Fprintf(e.stdout, "%s\t%s: %q -> %q\n", term(d.ID), c.Field, c.Was, c.Value)
		}
	}
	fmt.Fprintf(e.stdout, "%s: %s by %s; %s | %s | %s MW | %s | %s years\n", term(d.ID), status, term(a.By), term(d.Operator.Name), term(d.Counterparty.Label()),
		num(d.CapacityMW, "%g"), money(d.TotalValueUSD), num(d.TermYears, "%g"))
	if *fixture != "" {
		paths, err := fixturefile.SaveFixture(ctx, *d, fixturefile.FixtureRequest{Name: *fixture, Dir: *fixtureDir, Article: *article, AllowPrivate: *allowPrivate})
		if err != nil {
			return fmt.Errorf("the correction is stored, but the fixture was not saved: %w", err)
		}
		for _, p := range paths {
			fmt.Fprintln(e.stdout, p)
		}
		fmt.Fprintln(e.stderr, "Next: check the other records of that golden file, add the case to the fixtures' INDEX, run `mwledger eval "+*fixtureDir+"` and review the diff.")
		fmt.Fprintln(e.stderr, "A page from the web is someone else's text: before committing it, rewrite it in our own words and move its URLs to .example hosts (fixtures/README.md).")
	}
	return nil
}

// forReviews makes the store raise the alerts a review deserves (a correction
// may name a hyperscaler), as the indexer would. On Elasticsearch the alerts
// wait in the deal's outbox for the running indexer's dispatcher (sinks log,
// kafka and webhook when MWLEDGER_ALERT_WEBHOOK is set, like the indexer's);
// on the embedded ledger the returned dispatcher delivers them (nil: none).
func (a *alertFlags) forReviews(e *env, store ledgerStore, kind string) (*alert.Dispatcher, error) {
	if a.disabled {
		return nil, nil
	}
	if kind == "es" {
		rules, err := a.loadRules()
		if err != nil {
			return nil, err
		}
		sinks := []string{alert.KafkaSink{}.Name(), alert.LogSink{}.Name()}
		if a.webhook != "" {
			sinks = append(sinks, "webhook")
		}
		p, err := alert.NewPolicy(rules, sinks)
		if err != nil {
			return nil, err
		}
		store.SetAlerts(p, nil)
		return nil, nil
	}
	policy, disp, err := a.setup(e, store)
	if err != nil || disp == nil {
		return nil, err
	}
	store.SetAlerts(policy, disp.Notify)
	return disp, nil
}

// parseInterleaved parses flags wherever they stand among the positional
// arguments (the flag package stops at the first positional one).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
