package statedb

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/ledger/bolt"
)

func TestCrawlStateSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := OpenCrawlState(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutArticle("https://n.example/a", crawler.Entry{FetchURL: "https://n.example/a", TextHash: "sha256:1", Version: 2}, "https://n.example/amp/a", "https://n.example/a"); err != nil {
		t.Fatal(err)
	}
	if err := st.PutDoc("https://n.example/feed", crawler.DocState{ETag: `"x"`, Links: []crawler.Link{{URL: "https://n.example/a", Kind: "article"}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = OpenCrawlState(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if e, ok, err := st.Article("https://n.example/a"); err != nil || !ok || e.Version != 2 {
		t.Errorf("article after reopen = %+v, %v, %v", e, ok, err)
	}
	if _, ok, err := st.Article("https://n.example/b"); err != nil || ok {
		t.Errorf("unknown article: %v, %v", ok, err)
	}
	if k, ok, _ := st.Alias("https://n.example/amp/a"); !ok || k != "https://n.example/a" {
		t.Errorf("alias after reopen = %q, %v", k, ok)
	}
	if _, ok, _ := st.Alias("https://n.example/a"); ok {
		t.Error("the article's own URL became an alias of itself")
	}
	if d, ok, _ := st.Doc("https://n.example/feed"); !ok || d.ETag != `"x"` || len(d.Links) != 1 {
		t.Errorf("doc after reopen = %+v, %v", d, ok)
	}
	if n, err := st.Len(); err != nil || n != 1 {
		t.Errorf("Len = %d, %v", n, err)
	}
	if _, err := OpenCrawlState(filepath.Join(t.TempDir(), "missing", "dir", "s.db"), nil); err == nil {
		t.Error("opening a state file in a missing directory succeeded")
	}
}

// Two handles on one file (two processes, as far as SQLite can tell) read
// each other's writes: crawlers may share a seen-set.
func TestCrawlStateShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a, err := OpenCrawlState(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenCrawlState(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.PutArticle("https://n.example/a", crawler.Entry{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.PutArticle("https://n.example/b", crawler.Entry{Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*CrawlState{a, b} {
		if n, err := st.Len(); err != nil || n != 2 {
			t.Errorf("Len = %d, %v; want 2", n, err)
		}
	}
}

// A bbolt state file of an older mwledger is moved aside with a warning and
// an empty state starts in its place; a second one beside it is refused;
// a file that is neither bbolt nor SQLite is refused and left as it was.
func TestOpenMovesBoltAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crawl-state.db")
	old, err := bolt.Open(path) // any bbolt file
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	var logs bytes.Buffer
	st, err := OpenCrawlState(path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.Len(); err != nil || n != 0 {
		t.Errorf("Len = %d, %v; want an empty state", n, err)
	}
	st.Close()
	if _, err := os.Stat(path + ".bbolt"); err != nil {
		t.Errorf("the bbolt file was not kept: %v", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "moved_to="+path+".bbolt") {
		t.Errorf("log = %q", logs.String())
	}
	// Opened again: SQLite now, nothing moved.
	logs.Reset()
	st, err = OpenCrawlState(path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if logs.Len() != 0 {
		t.Errorf("reopening logged %q", logs.String())
	}

	other := filepath.Join(dir, "other.db")
	b2, err := bolt.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	b2.Close()
	if err := os.WriteFile(other+".bbolt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(other, "backfill state", nil, "files"); err == nil || !strings.Contains(err.Error(), "move one of them away") {
		t.Errorf("bbolt file with one aside already: err = %v", err)
	}

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("junk"), 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk, "backfill state", nil, "files"); err == nil {
		t.Error("opening a file that is no database succeeded")
	}
	if b, _ := os.ReadFile(junk); !bytes.Equal(b, bytes.Repeat([]byte("junk"), 1024)) {
		t.Error("the junk file changed")
	}
}

func TestUpdateRollsBack(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "s.db"), "test state", nil, "t")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Update(func(tx *Tx) error {
		if err := tx.Put("t", "a", []byte("1")); err != nil {
			return err
		}
		return tx.Put("nope", "b", nil)
	})
	if err == nil || !strings.Contains(err.Error(), `no table "nope"`) {
		t.Fatalf("err = %v", err)
	}
	if v, err := d.Get("t", "a"); err != nil || v != nil {
		t.Errorf("after a failed update: %q, %v", v, err)
	}
	if err := d.Update(func(tx *Tx) error { return tx.Put("t", "e", nil) }); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Get("t", "e"); err != nil || v == nil || len(v) != 0 {
		t.Errorf("empty value: %q, %v; want present and empty", v, err)
	}
}
