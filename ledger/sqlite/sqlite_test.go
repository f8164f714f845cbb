package sqlite_test

import (
	"context"
	"fmt"
	"github.com/mwledger/mwledger/internal/testkit"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/ledger/ledgertest"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
)

// The SQLite ledger passes the conformance suite every backend passes
// (bbolt: ledger/bolt; Elasticsearch: ledger/es).
func TestConformanceSQLite(t *testing.T) {
	ledgertest.Conformance(t, context.Background(), func(t *testing.T) (ledgertest.Backend, func() error) {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, nil
	})
}

// sharedRecords are n generated records over many operator names (distinct deals).
func sharedRecords(prefix string, n int) []schemas.Contract {
	recs := testkit.SampleContracts(prefix, n, 5)
	for i := range recs {
		k, _ := strconv.Atoi(strings.TrimPrefix(recs[i].ID, prefix+"-"))
		recs[i].Operator.Name = fmt.Sprintf("%s %03d", recs[i].Operator.Name, k%50)
	}
	return recs
}

// writeBatches upserts recs in batches of 25, failing on any error, with a
// pause between batches (an indexer fetches its next batch meanwhile).
func writeBatches(ctx context.Context, s ledger.Store, recs []schemas.Contract, pause time.Duration) error {
	for i := 0; i < len(recs); i += 25 {
		time.Sleep(pause)
		for _, err := range s.Upsert(ctx, recs[i:min(i+25, len(recs))]) {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// TestSQLiteSharedByTwoHandles: two handles on one ledger file (as a server
// and the command line): one writes while the other searches, reviews and
// reads the outbox; nothing waits for a lock to go away, every search sees a
// consistent ledger that only grows, and each handle sees the other's writes.
func TestSQLiteSharedByTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.sqlite")
	w, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first := sharedRecords("first", 10)
	if err := writeBatches(ctx, w, first, 0); err != nil {
		t.Fatal(err)
	}
	recs := sharedRecords("shared", 400)
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		werr = writeBatches(ctx, w, recs, 25*time.Millisecond) // 16 batches over ≥ 0.4 s: time for several searches even on a loaded machine
	}()
	last, searches, reviews := 0, 0, 0
	var slowest time.Duration
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		res, err := r.Search(ctx, ledger.Query{Size: 5})
		if err != nil {
			t.Fatalf("search while the other handle writes: %v", err)
		}
		if res.Total < last {
			t.Fatalf("the ledger shrank from %d to %d deals", last, res.Total)
		}
		last = res.Total
		searches++
		// A write from the reading side while the other writes: it waits its
		// turn, it does not fail.
		if searches%10 == 1 {
			id := first[reviews%len(first)].ID
			t0 := time.Now()
			if _, err := r.Review(ctx, id, ledger.ReviewAction{Accept: true, By: "tester"}); err != nil {
				t.Fatalf("review while the other handle writes: %v", err)
			}
			slowest = max(slowest, time.Since(t0))
			reviews++
		}
	}
	if werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	wn, _ := w.Count()
	res, err := r.Search(ctx, ledger.Query{})
	// Some generated records describe the same deal: fewer deals than records.
	if err != nil || res.Total != wn || wn < 300 {
		t.Fatalf("reader sees %d deals (%v), writer wrote %d", res.Total, err, wn)
	}
	d, err := w.Get(ctx, first[0].ID)
	if err != nil || d == nil || d.Review == nil || d.Review.By != "tester" {
		t.Fatalf("the writer does not see the reader's review: %+v %v", d, err)
	}
	if searches < 3 || reviews < 1 {
		t.Errorf("%d searches and %d reviews while the other handle wrote: they waited for it", searches, reviews)
	}
	t.Logf("%d searches and %d reviews (slowest review %s) while %d records were written", searches, reviews, slowest.Round(time.Millisecond), len(recs))
}

// TestSQLiteSharedByTwoProcesses: another process (this test binary again)
// writes the ledger while this one searches it: no "is another mwledger
// using it?", and the searches see the other process's deals arrive. bbolt,
// the former embedded store, cannot do this (checked at the end).
func TestSQLiteSharedByTwoProcesses(t *testing.T) {
	if path := os.Getenv("MWLEDGER_TEST_SQLITE_WRITER"); path != "" {
		s, err := sqlite.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		defer s.Close()
		if err := writeBatches(context.Background(), s, sharedRecords("child", 600), 5*time.Millisecond); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		return
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.sqlite")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	child := exec.Command(os.Args[0], "-test.run=^TestSQLiteSharedByTwoProcesses$", "-test.count=1")
	child.Env = append(os.Environ(), "MWLEDGER_TEST_SQLITE_WRITER="+path)
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	seen := map[int]bool{}
	deadline := time.After(5 * time.Minute)
	var cerr error
wait:
	for {
		select {
		case cerr = <-exited:
			break wait
		case <-deadline:
			child.Process.Kill()
			t.Fatal("the writing process did not finish in 5 minutes")
		default:
		}
		res, err := s.Search(ctx, ledger.Query{Size: 1})
		if err != nil {
			t.Fatalf("search while another process writes: %v", err)
		}
		seen[res.Total] = true
		time.Sleep(5 * time.Millisecond)
	}
	if cerr != nil {
		t.Fatalf("writing process: %v\n%s", cerr, out.String())
	}
	res, err := s.Search(ctx, ledger.Query{})
	n, _ := s.Count()
	if err != nil || res.Total != n || n < 500 {
		t.Fatalf("after the writer: search finds %d deals (%v), the ledger holds %d from 600 records", res.Total, err, n)
	}
	partial := 0
	for n := range seen {
		if n > 0 && n < res.Total {
			partial++
		}
	}
	if partial == 0 {
		t.Errorf("no search saw the ledger while the other process was writing it (totals seen: %v)", seen)
	}
	t.Logf("%d distinct totals seen while the other process wrote %d deals", len(seen), res.Total)

	// The former embedded store: a second opener fails while the first holds it.
	bpath := filepath.Join(dir, "ledger.db")
	b, err := bolt.Open(bpath)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b2, err := bolt.Open(bpath); err == nil {
		b2.Close()
		t.Error("bbolt opened twice: the contrast this test draws no longer holds")
	}
}
