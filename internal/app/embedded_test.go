package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// The embedded pipeline reads what the source publishes into the ledger, and
// dead-letters what it cannot read.
func TestEmbeddedRun(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	cases := fixtures.Cases()[:3]
	st, err := Embedded{Store: store, Extractor: x}.Run(ctx, func(ctx context.Context, pub stream.Publisher) error {
		for _, name := range cases {
			a, err := fixtures.Article(name)
			if err != nil {
				return err
			}
			v, _ := json.Marshal(a)
			if err := pub.Publish(ctx, stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v}); err != nil {
				return err
			}
		}
		return pub.Publish(ctx, stream.Message{Topic: schemas.TopicArticles, Key: []byte("x"), Value: []byte("not json")})
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Extract.Articles != len(cases)+1 || st.Extract.DeadLetters != 1 {
		t.Errorf("extract stats %+v: want %d articles, 1 dead letter", st.Extract, len(cases)+1)
	}
	if st.Extract.Contracts == 0 || st.Index.Records != st.Extract.Contracts || st.Index.Indexed != st.Index.Records {
		t.Errorf("extract %+v, index %+v: every record should be indexed", st.Extract, st.Index)
	}
	if n, err := store.Count(); err != nil || n == 0 {
		t.Errorf("ledger holds %d deals (%v)", n, err)
	}
}
