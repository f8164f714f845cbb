package integration

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/ledgertest"
	"github.com/mwledger/mwledger/ledger/sqlite"
)

// TestReviewSameOnBothStores runs the reviewer's scenario (queue, correction
// with an alert, replay, new source, accept, reset) on the real Elasticsearch
// and on the embedded store, and compares the deal after every step.
func TestReviewSameOnBothStores(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ess := aliasStore(t, ctx, "review", nil)
	bs, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()

	onES := ledgertest.ReviewScenario(t, ctx, ess, "Review Op", func() error { return ess.Refresh(ctx) })
	onBolt := ledgertest.ReviewScenario(t, ctx, bs, "Review Op", func() error { return nil })
	if len(onES) != len(onBolt) {
		t.Fatalf("%d steps on Elasticsearch, %d embedded", len(onES), len(onBolt))
	}
	for i := range onES {
		a, b := comparable(t, onES[i]), comparable(t, onBolt[i])
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.MarshalIndent(a, "", " ")
			jb, _ := json.MarshalIndent(b, "", " ")
			t.Errorf("step %d differs:\nElasticsearch %s\nembedded %s", i+1, ja, jb)
		}
	}
}

// comparable is a deal as JSON without the times it was written at.
func comparable(t *testing.T, d ledger.Deal) map[string]any {
	t.Helper()
	d.IndexedAt = time.Time{}
	if d.Review != nil {
		r := *d.Review
		r.At = time.Time{}
		d.Review = &r
	}
	keys := []string{}
	for _, a := range d.Alerts {
		keys = append(keys, a.Key)
	}
	d.Alerts = nil
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	out["alert_keys"] = keys
	return out
}
