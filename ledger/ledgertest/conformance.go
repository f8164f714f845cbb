package ledgertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// Backend is everything a ledger store offers: writes, reads, search,
// reviews and the alert outbox. Every backend (bbolt, Elasticsearch, and any
// new one) must pass Conformance.
type Backend interface {
	Store
	ledger.Outbox
}

// Open returns a new, empty ledger and a function that makes what was
// written searchable (Elasticsearch's refresh; nil when writes are at once).
type Open func(t *testing.T) (Backend, func() error)

// Conformance runs the behaviours every ledger backend must have, each on a
// ledger of its own: replays change nothing; a deal's sources merge; names
// are stored with their keys; search filters; the review life
// (ReviewScenario); the alert outbox raises once and forgets what was
// acknowledged.
func Conformance(t *testing.T, ctx context.Context, open Open) {
	t.Run("replay", func(t *testing.T) {
		b, refresh := open(t)
		a := confRecord("deal-conf-a", "https://a.example/1", "Conf Op", "Microsoft", 200, 9.7e9)
		c := confRecord("deal-conf-c", "https://a.example/1", "Other Op", "Fluidstack", 245, 7e9)
		for range 2 { // the second round is a replay
			write(t, ctx, b, refresh, a, c)
		}
		res, err := b.Search(ctx, ledger.Query{})
		if err != nil || res.Total != 2 {
			t.Fatalf("search = %d deals, %v; want 2", res.Total, err)
		}
		d := get(t, ctx, b, "deal-conf-a")
		if len(d.Sources) != 1 || len(d.RecordIDs) != 1 {
			t.Errorf("a replay added sources %d or records %d", len(d.Sources), len(d.RecordIDs))
		}
	})
	t.Run("sources merge", func(t *testing.T) {
		b, refresh := open(t)
		a := confRecord("deal-conf-a", "https://a.example/1", "Conf Op", "Microsoft", 200, 9.7e9)
		a2 := confRecord("deal-conf-a", "https://b.example/2", "Conf Op", "Microsoft", 200, 9.7e9)
		write(t, ctx, b, refresh, a)
		write(t, ctx, b, refresh, a2)
		d := get(t, ctx, b, "deal-conf-a")
		if len(d.Sources) != 2 || d.Sources[0].URL != "https://a.example/1" || d.Sources[1].URL != "https://b.example/2" {
			t.Errorf("sources = %+v, want both articles sorted by URL", d.Sources)
		}
		if d.CapacityMW == nil || *d.CapacityMW != 200 || d.USDPerMWYear == nil {
			t.Errorf("figures = %v MW, %v $/MW/year", d.CapacityMW, d.USDPerMWYear)
		}
	})
	t.Run("name keys", func(t *testing.T) {
		b, refresh := open(t)
		write(t, ctx, b, refresh, confRecord("deal-conf-k", "https://a.example/1", "ＣＯＮＦ Op.", "鸿海 Cloud", 100, 1e9))
		d := get(t, ctx, b, "deal-conf-k")
		if d.Operator.Key != schemas.Key("ＣＯＮＦ Op.") || d.Operator.Key != "confop" || d.Counterparty.Key != "鸿海cloud" {
			t.Errorf("keys = %q, %q", d.Operator.Key, d.Counterparty.Key)
		}
		// An undisclosed counterparty's key is its descriptor's.
		u := confRecord("deal-conf-u", "https://a.example/2", "Other Op", "", 100, 1e9)
		u.Counterparty.Name, u.Counterparty.Descriptor = nil, ptr("an Investment-Grade hyperscaler")
		write(t, ctx, b, refresh, u)
		if d := get(t, ctx, b, "deal-conf-u"); d.Counterparty.Key != "aninvestmentgradehyperscaler" {
			t.Errorf("undisclosed counterparty key = %q", d.Counterparty.Key)
		}
	})
	t.Run("names with one key are one company", func(t *testing.T) {
		// Spelled apart in case, width, spaces and punctuation, with figures
		// that agree: one deal, in every backend (identity compares keys).
		b, refresh := open(t)
		write(t, ctx, b, refresh, confRecord("deal-conf-s1", "https://a.example/1", "Conf Op", "Core42", 300, 5.5e9))
		write(t, ctx, b, refresh, confRecord("deal-conf-s2", "https://b.example/2", "CONF-OP", "CORE 42", 300, 5.5e9))
		d := get(t, ctx, b, "deal-conf-s1")
		if len(d.Sources) != 2 || len(d.RecordIDs) != 2 {
			t.Errorf("deal has %d sources, records %v: want both spellings' records", len(d.Sources), d.RecordIDs)
		}
		if res, err := b.Search(ctx, ledger.Query{}); err != nil || res.Total != 1 {
			t.Errorf("search = %d deals, %v; want 1", res.Total, err)
		}
	})
	t.Run("search", func(t *testing.T) {
		b, refresh := open(t)
		write(t, ctx, b, refresh,
			confRecord("deal-conf-1", "https://a.example/1", "Conf Op", "Microsoft", 200, 9.7e9),
			confRecord("deal-conf-2", "https://a.example/2", "Conf Op", "Fluidstack", 50, 1e9),
			confRecord("deal-conf-3", "https://a.example/3", "Other Op", "Fluidstack", 300, 3e9))
		for _, tt := range []struct {
			name string
			q    ledger.Query
			want []string
		}{
			{"operator", ledger.Query{Operator: "conf op"}, []string{"deal-conf-1", "deal-conf-2"}},
			{"hyperscaler", ledger.Query{HyperscalerOnly: true}, []string{"deal-conf-1"}},
			{"min mw", ledger.Query{MinMW: 100}, []string{"deal-conf-1", "deal-conf-3"}},
			{"counterparty and max value", ledger.Query{Counterparty: "fluidstack", MaxValue: 2e9}, []string{"deal-conf-2"}},
		} {
			res, err := b.Search(ctx, tt.q)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var got []string
			for _, d := range res.Deals {
				got = append(got, d.ID)
			}
			if strings.Join(sorted(got), ",") != strings.Join(tt.want, ",") || res.Total != len(tt.want) {
				t.Errorf("%s: %v (total %d), want %v", tt.name, got, res.Total, tt.want)
			}
		}
	})
	t.Run("review", func(t *testing.T) {
		b, refresh := open(t)
		ReviewScenario(t, ctx, b, "Conf Review Op", func() error { return refreshOf(refresh) })
	})
	t.Run("alert outbox", func(t *testing.T) {
		b, refresh := open(t)
		policy, err := alert.NewPolicy(alert.DefaultRules(), []string{"log"})
		if err != nil {
			t.Fatal(err)
		}
		b.SetAlerts(policy, nil)
		rec := confRecord("deal-conf-h", "https://a.example/1", "Conf Op", "Microsoft", 200, 9.7e9)
		write(t, ctx, b, refresh, rec)
		write(t, ctx, b, refresh, confRecord("deal-conf-h", "https://b.example/2", "Conf Op", "Microsoft", 200, 9.7e9))
		pending, err := b.PendingAlerts(ctx, []string{"deal-conf-h"}, 10)
		if err != nil || len(pending) != 1 || pending[0].Alert.Kind != "new" {
			t.Fatalf("pending = %+v, %v; want one new-deal alert (raised once for two articles)", pending, err)
		}
		p := pending[0]
		if err := b.AckAlerts(ctx, []ledger.Ack{{DealID: p.DealID, AlertID: p.Alert.ID, Sink: "log", At: time.Now().UTC()}}); err != nil {
			t.Fatal(err)
		}
		if err := refreshOf(refresh); err != nil {
			t.Fatal(err)
		}
		if pending, err := b.PendingAlerts(ctx, []string{"deal-conf-h"}, 10); err != nil || len(pending) != 0 {
			t.Errorf("after the ack: pending = %+v, %v", pending, err)
		}
	})
}

func confRecord(id, url, op, cp string, mw, usd float64) schemas.Contract {
	name, years := cp, 10.0
	return schemas.Contract{SchemaVersion: schemas.Version, ID: id, Operator: schemas.Operator{Name: op},
		Counterparty: schemas.Counterparty{Name: &name, Hyperscaler: cp == "Microsoft"}, ContractType: schemas.TypeColocation,
		CapacityMW: &mw, TotalValueUSD: &usd, TermYears: &years, Terms: []string{},
		Source: schemas.Source{URL: url}, Evidence: []string{"evidence from " + url}, Confidence: 0.9, ExtractorVersion: "t"}
}

func write(t *testing.T, ctx context.Context, b Backend, refresh func() error, cs ...schemas.Contract) {
	t.Helper()
	for i, err := range b.Upsert(ctx, cs) {
		if err != nil {
			t.Fatalf("upsert %s: %v", cs[i].ID, err)
		}
	}
	if err := refreshOf(refresh); err != nil {
		t.Fatal(err)
	}
}

func refreshOf(refresh func() error) error {
	if refresh == nil {
		return nil
	}
	return refresh()
}

func get(t *testing.T, ctx context.Context, b Backend, id string) *ledger.Deal {
	t.Helper()
	d, err := b.Get(ctx, id)
	if err != nil || d == nil {
		t.Fatalf("get %s = %v, %v", id, d, err)
	}
	return d
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func ptr(s string) *string { return &s }
