package cli

import (
	"context"
	"encoding/json"
	"github.com/mwledger/mwledger/internal/fixturefile"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/eval"
	"github.com/mwledger/mwledger/ledger"
)

// fixtureLedger is an embedded ledger holding what the extractor reads from
// one bundled fixture.
func fixtureLedger(t *testing.T, fixture string) (string, []ledger.Deal) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "fixtures", fixture))
	if err != nil {
		t.Fatal(err)
	}
	page, err := extractor.ReadHTML(body, "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	b, err := app.OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, err := range b.Upsert(context.Background(), x.FromPage(page, page.Canonical)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.Search(context.Background(), ledger.Query{})
	if err != nil || res.Total == 0 {
		t.Fatalf("ledger from %s: %v, %d deals", fixture, err, res.Total)
	}
	return path, res.Deals
}

func TestReviewCorrectSavesAFixture(t *testing.T) {
	const fixture = "en-pr-cipher-aws.html"
	ledger, deals := fixtureLedger(t, fixture)
	var id string
	for _, d := range deals {
		if d.Counterparty.Name != nil && *d.Counterparty.Name == "Amazon" {
			id = d.ID
		}
	}
	if id == "" {
		t.Fatalf("no Cipher–AWS deal in %+v", deals)
	}
	dir := filepath.Join(t.TempDir(), "review")
	article := filepath.Join("..", "..", "fixtures", fixture)
	out, err := runCLI(t, "review", "correct", "--ledger", ledger, id, "capacity_mw=320", "location=Colorado City, Texas",
		"--by", "ana", "--note", "the 8-K says 320 MW", "--fixture", "cipher-aws-320", "--fixture-dir", dir, "--article", article, "--no-alerts")
	if err != nil {
		t.Fatalf("review correct: %v\n%s", err, out)
	}
	if !strings.Contains(out, `capacity_mw: "300" -> "320"`) {
		t.Errorf("output does not show the change:\n%s", out)
	}

	// The ledger shows the correction.
	b, err := app.OpenLedger(ledger)
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Get(context.Background(), id)
	b.Close()
	if err != nil || d == nil || *d.CapacityMW != 320 || d.Location == nil || *d.Location != "Colorado City, Texas" || d.Review.By != "ana" {
		t.Fatalf("ledger after the correction: %+v, %v", d, err)
	}

	// The fixture: the article as given, the golden record corrected, the
	// other records as the extractor read them, and where it came from.
	html, _ := os.ReadFile(article)
	saved, err := os.ReadFile(filepath.Join(dir, "cipher-aws-320.html"))
	if err != nil || string(saved) != string(html) {
		t.Fatalf("saved article differs from %s: %v", article, err)
	}
	var side fixturefile.Sidecar
	sj, _ := os.ReadFile(filepath.Join(dir, "cipher-aws-320.review.json"))
	if err := json.Unmarshal(sj, &side); err != nil || side.DealID != id || !side.ExtractorMatched || len(side.Corrections) != 2 {
		t.Fatalf("sidecar %s: %v", sj, err)
	}
	cases, err := eval.RunFixtures(os.DirFS(dir), mustExtractor(t))
	if err != nil || len(cases) != 1 {
		t.Fatalf("eval of the saved fixture: %v, %d cases", err, len(cases))
	}
	c := cases[0]
	if len(c.Want) != len(deals) {
		t.Errorf("golden has %d records, the article %d deals", len(c.Want), len(deals))
	}
	found := false
	for _, g := range c.Want {
		if g.Counterparty.Name != nil && *g.Counterparty.Name == "Amazon" {
			found = true
			if *g.CapacityMW != 320 || *g.Location != "Colorado City, Texas" {
				t.Errorf("golden record not corrected: %+v", g)
			}
			if g.USDPerMWYear == nil || g.TotalValueUSD == nil || g.TermYears == nil ||
				*g.USDPerMWYear != float64(int64(*g.TotalValueUSD/(320**g.TermYears)+0.5)) {
				t.Errorf("golden $/MW/year %v not derived from the corrected MW", g.USDPerMWYear)
			}
		}
	}
	if !found {
		t.Fatal("the corrected record is not in the golden file")
	}
	// The extractor still reads 300 MW: the regression set now catches it.
	r := eval.NewReport()
	for _, c := range cases {
		r.Add(c.Name, c.Got, c.Want)
	}
	if r.Fields["capacity_mw"].FN+r.Fields["capacity_mw"].FP == 0 {
		t.Error("eval finds no capacity error in the corrected fixture")
	}

	// Accepting keeps the correction; resetting gives the article's figure back.
	if _, err := runCLI(t, "review", "accept", id, "--ledger", ledger, "--by", "ben", "--no-alerts"); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "review", "reset", id, "--ledger", ledger, "--by", "ben", "--no-alerts"); err != nil || !strings.Contains(out, "| 300 MW |") {
		t.Errorf("reset: %v\n%s", err, out)
	}
}

func TestReviewRefusesBadInput(t *testing.T) {
	ledger, deals := fixtureLedger(t, "en-pr-cipher-aws.html")
	id := deals[0].ID
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"review", "correct", id, "capacity_mw", "--ledger", ledger}, "is not FIELD=VALUE"},
		{[]string{"review", "correct", id, "capacity_mw=big", "--ledger", ledger}, "not a non-negative number"},
		{[]string{"review", "correct", id, "--ledger", ledger}, "give FIELD=VALUE"},
		{[]string{"review", "accept", id, "capacity_mw=1", "--ledger", ledger}, "unexpected"},
		{[]string{"review", "accept", "no-such-deal", "--ledger", ledger, "--by", "x", "--no-alerts"}, "no deal"},
		{[]string{"review", "accept", id, "--ledger", ledger, "--by", ""}, "reviewer"},
		{[]string{"review", "accept", id, "--fixture", "x", "--ledger", ledger}, "goes with review correct"},
		{[]string{"review", "approve", id}, "unknown subcommand"},
	}
	for _, tt := range tests {
		_, err := runCLI(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func mustExtractor(t *testing.T) *extractor.Extractor {
	t.Helper()
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	return x
}
