package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/eval"
)

func runEval(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "eval", "[DIR]  (default: the bundled fixtures)")
	verbose := fs.Bool("v", false, "list every wrong field")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := fixtures.FS()
	if fs.NArg() > 0 {
		dir = os.DirFS(fs.Arg(0))
	}
	x, err := extractor.New()
	if err != nil {
		return err
	}
	cases, err := eval.RunFixtures(dir, x)
	if err != nil {
		return err
	}
	r := eval.NewReport()
	for _, c := range cases {
		r.Add(c.Name, c.Got, c.Want)
	}
	fmt.Fprintf(e.stdout, "%d fixture(s), extractor %s\n\n", len(cases), extractor.Version)
	r.Print(e.stdout)
	if *verbose {
		for _, m := range append(append(r.Mismatches, r.NegativeHits...), r.UnitPriceOff...) {
			fmt.Fprintln(e.stdout, m)
		}
	}
	return nil
}
