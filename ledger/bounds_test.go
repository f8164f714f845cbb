package ledger_test

import (
	"context"
	"errors"
	"github.com/mwledger/mwledger/internal/testkit"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
)

func boundsLedger(t *testing.T, n int) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, err := range s.Upsert(context.Background(), testkit.SampleContracts("b", n, 7)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestQueryBounds: paging that overflows past the 10,000 window check
// (limit=9223372036854775807&from=1 panicked with "slice bounds out of
// range"), numbers that are not finite or beyond their field's bound, and
// oversized text are refused with an error, never a panic or a silent empty
// answer.
func TestQueryBounds(t *testing.T) {
	s := boundsLedger(t, 30)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		q           ledger.Query
		errContains string
	}{
		{"max int limit from 1", ledger.Query{Size: math.MaxInt, From: 1}, "must not exceed"},
		{"max int from", ledger.Query{From: math.MaxInt}, "must not exceed"},
		{"both max", ledger.Query{Size: math.MaxInt, From: math.MaxInt}, "must not exceed"},
		{"window", ledger.Query{Size: 1, From: ledger.MaxPageSize}, "must not exceed"},
		{"negative", ledger.Query{From: -1}, "negative"},
		{"NaN min mw", ledger.Query{MinMW: math.NaN()}, "min_mw"},
		{"Inf max mw", ledger.Query{MaxMW: math.Inf(1)}, "max_mw"},
		{"-Inf min value", ledger.Query{MinValue: math.Inf(-1)}, "min_value"},
		{"1e300 max value", ledger.Query{MaxValue: 1e300}, "max_value"},
		{"NaN price", ledger.Query{MaxUSDPerMWYear: math.NaN()}, "max_usd_per_mw_year"},
		{"long text", ledger.Query{Text: strings.Repeat("iren ", 10000)}, "free text longer"},
		{"many words", ledger.Query{Text: strings.Repeat("a ", 40)}, "words"},
		{"long operator", ledger.Query{Operator: strings.Repeat("x", 201)}, "operator longer"},
		{"date that does not exist", ledger.Query{AnnouncedFrom: "2025-02-30"}, "announced_from"},
		{"fine", ledger.Query{Size: 5, From: 9995, MinMW: 1, MaxValue: 1e12, Text: "iren"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Search(ctx, tc.q)
			switch {
			case tc.errContains == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.errContains == "":
				if len(res.Deals) != 0 {
					t.Errorf("from 9995 of %d deals returned %d", res.Total, len(res.Deals))
				}
			case err == nil || !strings.Contains(err.Error(), tc.errContains):
				t.Errorf("err %v, want one containing %q", err, tc.errContains)
			}
			// The other readers validate the same way.
			if tc.errContains != "" {
				if err := s.Scan(ctx, tc.q, func(ledger.Deal) error { return nil }); err == nil {
					t.Error("Scan accepted the query")
				}
				if _, err := ledger.AggregateStore(ctx, s, "by-type", tc.q); err == nil {
					t.Error("AggregateStore accepted the query")
				}
			}
		})
	}
}

// TestFreeTextBoundedByContext: a search stops when its caller's context
// ends (a client that hung up no longer burns CPU), and a query at the text
// cap (32 words) over 3,000 deals answers in under 2 s.
func TestFreeTextBoundedByContext(t *testing.T) {
	s := boundsLedger(t, 3000)
	ctx := context.Background()
	if _, err := s.Search(ctx, ledger.Query{}); err != nil { // loads the cache
		t.Fatal(err)
	}
	q := ledger.Query{Text: strings.TrimSpace(strings.Repeat("iren texas ", ledger.MaxTextWords/2))}
	start := time.Now()
	if _, err := s.Search(ctx, q); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a %d-word query over 3,000 deals took %s, want < 2s", ledger.MaxTextWords, d)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for name, run := range map[string]func() error{
		"search": func() error { _, err := s.Search(gone, q); return err },
		"scan":   func() error { return s.Scan(gone, q, func(ledger.Deal) error { return nil }) },
		"agg":    func() error { _, err := ledger.AggregateStore(gone, s, "by-type", q); return err },
	} {
		if err := run(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err %v, want context.Canceled", name, err)
		}
	}
}
