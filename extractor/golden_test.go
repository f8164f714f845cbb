package extractor_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/eval"
)

var (
	update = flag.Bool("update", false, "rewrite fixtures/*.golden.jsonl from the extractor's output (review the diff!); "+
		"drops the known misses of the rewritten fixtures")
	knownMissesUpdate = flag.Bool("known-misses-update", false, "rewrite "+knownMissesFile+" from the differences of the fixtures that run "+
		"(entries that still apply keep their reason)")
	knownMissesReason = flag.String("known-misses-reason", "not explained yet (written by -known-misses-update)",
		"the reason -known-misses-update gives new entries")
)

const (
	fixturesDir = "../fixtures"
	// knownMissesFile lists the differences from the golden files that the test
	// accepts, fixture by fixture, each with its reason (eval.KnownMisses).
	knownMissesFile = fixturesDir + "/known-misses.yaml"
	// minFixtures is the smallest golden set the test accepts.
	minFixtures = 40
)

// TestGolden runs one subtest per fixture (TestGolden/<case>): the extractor's
// records of fixtures/<case>.html against fixtures/<case>.golden.jsonl, field by
// field. A difference fails the subtest unless known-misses.yaml lists it; an
// entry there that no longer happens fails it too (remove it). The per-field
// F1 table over all fixtures is a report: `mwledger eval`, or this test with -v.
func TestGolden(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	fsys := fixtures.FS()
	names, err := eval.CaseNames(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < minFixtures {
		t.Fatalf("only %d fixtures; the golden set must keep at least %d", len(names), minFixtures)
	}
	known, err := eval.ReadKnownMisses(knownMissesFile)
	if err != nil {
		t.Fatal(err)
	}
	before, err := known.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name := range known {
		if slices.Contains(names, name) {
			continue
		}
		if *knownMissesUpdate || *update {
			delete(known, name)
			continue
		}
		t.Errorf("%s lists fixture %s, which does not exist: remove its entries", knownMissesFile, name)
	}

	report := eval.NewReport()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c, err := eval.RunFixture(fsys, x, name)
			if err != nil {
				t.Fatal(err)
			}
			report.Add(c.Name, c.Got, c.Want)
			golden := filepath.Join(fixturesDir, name+".golden.jsonl")
			if *update {
				if err := os.WriteFile(golden, eval.WriteGolden(c.Got), 0o644); err != nil {
					t.Fatal(err)
				}
				known.Set(name, nil, "")
				return
			}
			diffs := eval.Compare(c.Got, c.Want)
			if *knownMissesUpdate {
				known.Set(name, diffs, *knownMissesReason)
				if len(diffs) > 0 {
					t.Logf("%d known miss(es) recorded", len(diffs))
				}
				return
			}
			fresh, accepted, stale := known.Check(name, diffs)
			for _, d := range accepted {
				t.Logf("known miss: %s", d)
			}
			if len(fresh) == 0 && len(stale) == 0 {
				return
			}
			var b strings.Builder
			if len(fresh) > 0 {
				fmt.Fprintf(&b, "%d difference(s) from %s:\n", len(fresh), golden)
				for _, d := range fresh {
					fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(d.String(), "\n", "\n  "))
				}
				fmt.Fprintf(&b, "if the extractor is right, rewrite the golden file (and review its diff): "+
					"go test ./extractor -run 'TestGolden/^%s$' -update\n", name)
			}
			if len(stale) > 0 {
				fmt.Fprintf(&b, "%d known miss(es) in %s no longer happen: remove them "+
					"(or: go test ./extractor -run 'TestGolden/^%s$' -known-misses-update):\n", len(stale), knownMissesFile, name)
				for _, m := range stale {
					fmt.Fprintf(&b, "  %s: %s (%s)\n", m.Record, m.Field, m.Reason)
				}
			}
			t.Error("\n" + strings.TrimSuffix(b.String(), "\n"))
		})
	}

	if *update {
		t.Logf("rewrote the golden files of the fixtures that ran: review `git diff %s` before committing", fixturesDir)
	}
	if *update || *knownMissesUpdate {
		after, err := known.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			if err := os.WriteFile(knownMissesFile, after, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote %s: review its diff before committing", knownMissesFile)
		}
	}
	if testing.Verbose() {
		var b strings.Builder
		report.Print(&b)
		t.Logf("per-field scores of the fixtures that ran (the report of `mwledger eval`):\n%s", b.String())
	}
}
