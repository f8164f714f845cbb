package cli

import (
	"context"
	"encoding/json"
	"github.com/mwledger/mwledger/internal/testkit"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
)

// TestSearchRunAndReviewWhileServing: with `mwledger serve` open on a
// ledger, `search`, `review` and `run` use the same ledger at once (bbolt
// made them fail with "timeout (is another mwledger using it?)"), and the
// server sees what they wrote.
func TestSearchRunAndReviewWhileServing(t *testing.T) {
	ledgerPath := sampleLedger(t, 40)
	base := startServe(t, ledgerPath)
	out, err := runCLI(t, "search", "--ledger", ledgerPath, "--json", "--limit", "100")
	if err != nil {
		t.Fatalf("search while serving: %v", err)
	}
	var r ledger.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Total == 0 {
		t.Fatalf("search while serving: %v, %d deals", err, r.Total)
	}
	id := r.Deals[0].ID
	if _, err := runCLI(t, "review", "accept", "--ledger", ledgerPath, "--by", "ana", id); err != nil {
		t.Fatalf("review while serving: %v", err)
	}
	if _, err := runCLI(t, "run", "--ledger", ledgerPath, "--no-alerts"); err != nil {
		t.Fatalf("run while serving: %v", err)
	}
	res, err := http.Get(base + "/api/deals/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d ledger.Deal
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &d); err != nil || d.Review == nil || d.Review.By != "ana" {
		t.Errorf("the server does not show the review made from the command line: %s", b)
	}
	res2, err := http.Get(base + "/api/deals?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	var all ledger.Result
	if err := json.NewDecoder(res2.Body).Decode(&all); err != nil || all.Total <= r.Total {
		t.Errorf("the server shows %d deals after run, %d before (%v): it does not see run's deals", all.Total, r.Total, err)
	}
}

// TestMigrateBoltLedger: a bbolt ledger (the embedded format before SQLite)
// is still read, and `mwledger migrate` copies it into an SQLite ledger
// that answers the same searches.
func TestMigrateBoltLedger(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	b, err := bolt.Open(old)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range b.Upsert(context.Background(), testkit.SampleContracts("mig", 80, 4)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	if f, _ := ledger.LedgerFormat(old); f != ledger.FormatBolt {
		t.Fatalf("format of a bbolt ledger = %q", f)
	}
	before, err := runCLI(t, "search", "--ledger", old, "--json", "--all")
	if err != nil {
		t.Fatalf("search of a bbolt ledger: %v", err)
	}
	neu := filepath.Join(dir, "new.db")
	if _, err := runCLI(t, "migrate", "--from", old, "--to", neu); err != nil {
		t.Fatal(err)
	}
	if f, _ := ledger.LedgerFormat(neu); f != ledger.FormatSQLite {
		t.Fatalf("format after migrate = %q", f)
	}
	after, err := runCLI(t, "search", "--ledger", neu, "--json", "--all")
	if err != nil {
		t.Fatal(err)
	}
	if before != after || !strings.Contains(after, "mig-") {
		t.Errorf("the migrated ledger answers differently:\n%.300s\n%.300s", before, after)
	}
	if _, err := runCLI(t, "migrate", "--from", old, "--to", neu); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("migrate over an existing ledger: %v", err)
	}
}
