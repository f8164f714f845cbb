package backfill

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"github.com/mwledger/mwledger/internal/warc/warctest"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

var day = time.Date(2024, 11, 5, 9, 30, 0, 0, time.UTC)

// A deal paragraph of our own, and a page that has none.
const dealText = `<p>Northwind Compute said on Tuesday it signed a ten-year colocation lease with a hyperscaler for 120 MW of critical IT load at its campus.</p>`

func dealPage(rng *rand.Rand, title string) []byte {
	return warctest.Page(rng, title, dealText, 4000)
}

func plainPage(rng *rand.Rand, title string) []byte {
	return warctest.Page(rng, title, "<p>The county fair opens next week with a pie contest.</p>", 4000)
}

// recorder is a publisher that keeps what it was given.
type recorder struct {
	mu   sync.Mutex
	msgs []stream.Message
	// after is called after each Publish with the number of messages so far.
	after func(n int) error
}

func (r *recorder) Publish(_ context.Context, msgs ...stream.Message) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, msgs...)
	n := len(r.msgs)
	r.mu.Unlock()
	if r.after != nil {
		return r.after(n)
	}
	return nil
}

func (r *recorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		out = append(out, string(m.Key))
	}
	return out
}

func openState(t *testing.T, path string) *State {
	t.Helper()
	st, err := OpenState(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func write(t *testing.T, path string, b []byte) { writeTB(t, path, b) }

func writeTB(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// brokenSet writes three WARC files with every kind of record a backfill
// meets and returns the directory and the canonical URLs that must be
// published, each once.
func brokenSet(t *testing.T) (string, []string) {
	rng := rand.New(rand.NewPCG(7, 8))
	dir := t.TempDir()
	u := func(p string) string { return "https://news.example/" + p }
	html := "text/html; charset=utf-8"

	// File 1: the usual records, pages that are no articles, a record cut
	// into two gzip members inside its HTTP header, pages in Shift_JIS and
	// windows-1252, a gzip-encoded payload.
	f1 := &warctest.File{}
	f1.Add(warctest.Warcinfo(day), warctest.Request(u("a"), day),
		warctest.Response(u("a?utm_source=feed"), day, html, dealPage(rng, "A")),
		warctest.Metadata(u("a"), day), warctest.Revisit(u("a"), day),
		warctest.Response(u("plain-1"), day, html, plainPage(rng, "P1")))
	split := warctest.Response(u("b"), day, html, dealPage(rng, "B"))
	f1.AddSplit(split, bytes.Index(split, []byte("Content-Type: text/html"))+7)
	f1.Add(warctest.Record("response", u("gone"), day, "application/http; msgtype=response",
		warctest.HTTP(404, "text/html", []byte("<html><body>300 MW not found</body></html>"))))
	f1.Add(warctest.Response(u("chart.png"), day, "image/png", append([]byte("\x89PNG\r\n\x1a\n"), []byte("300 MW")...)))
	f1.Add(warctest.Record("response", u("cut"), day, "application/http; msgtype=response",
		warctest.HTTP(200, html, dealPage(rng, "cut")), "WARC-Truncated: length"))
	sjis, err := japanese.ShiftJIS.NewEncoder().String("<html><head><meta charset=\"shift_jis\"><title>新しい契約</title></head><body><p>ノースウィンド社は新しいデータセンターの賃貸契約を結んだと発表した。</p></body></html>")
	if err != nil {
		t.Fatal(err)
	}
	f1.Add(warctest.Response(u("jp"), day, "text/html; charset=Shift_JIS", []byte(sjis)))
	latin, err := charmap.Windows1252.NewEncoder().String("<html><head><title>Contrat</title></head><body><p>Le groupe a signé un bail de 80 mégawatts pour un centre de calcul.</p></body></html>")
	if err != nil {
		t.Fatal(err)
	}
	f1.Add(warctest.Response(u("fr"), day, "text/html; charset=windows-1252", []byte(latin)))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(dealPage(rng, "E"))
	zw.Close()
	f1.Add(warctest.Response(u("e"), day, html, gz.Bytes(), "Content-Encoding: gzip"))
	write(t, filepath.Join(dir, "part-00001.warc.gz"), f1.Bytes())

	// File 2: a page already published under its URL (other content), the
	// same content as B under another URL, a new page, then a final record
	// cut short by the end of the file.
	f2 := &warctest.File{}
	bBody := split[bytes.Index(split, []byte("<!doctype")) : len(split)-4]
	f2.Add(warctest.Response(u("a"), day.Add(time.Hour), html, dealPage(rng, "A again")),
		warctest.Response(u("b-copy"), day, html, bBody),
		warctest.Response(u("f"), day, html, dealPage(rng, "F")),
		warctest.Response(u("plain-2"), day, html, plainPage(rng, "P2")),
		warctest.Response(u("g"), day, html, dealPage(rng, "G")))
	f2.Truncate(300)
	write(t, filepath.Join(dir, "part-00002.warc.gz"), f2.Bytes())

	// File 3: uncompressed.
	f3 := &warctest.File{Plain: true}
	f3.Add(warctest.Response(u("h"), day, html, dealPage(rng, "H")), warctest.Response(u("plain-3"), day, html, plainPage(rng, "P3")))
	write(t, filepath.Join(dir, "part-00003.warc"), f3.Bytes())

	return dir, []string{u("a"), u("b"), u("e"), u("f"), u("fr"), u("h"), u("jp")}
}

func TestBackfillPublishesMatchesOnce(t *testing.T) {
	dir, want := brokenSet(t)
	files, err := Files([]string{dir})
	if err != nil || len(files) != 3 {
		t.Fatalf("files %v %v", files, err)
	}
	statePath := filepath.Join(t.TempDir(), "state.db")
	st := openState(t, statePath)
	defer st.Close()
	pub := &recorder{}
	b, err := New(Config{State: st, Source: "cc-news"}, pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	got := pub.keys()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("published %v\nwant      %v", got, want)
	}
	s := b.Stats()
	wantSkipped := map[string]int64{"warcinfo": 1, "request": 1, "metadata": 1, "revisit": 1, "no_keyword": 3,
		"http_status": 1, "not_html": 1, "truncated": 1, "duplicate": 2}
	for k, v := range wantSkipped {
		if s.Skipped[k] != v {
			t.Errorf("skipped %s = %d, want %d (all: %v)", k, s.Skipped[k], v, s.Skipped)
		}
	}
	if s.Broken["truncated_eof"] != 1 || s.Files != 3 || s.Published != int64(len(want)) {
		t.Errorf("stats %+v", s)
	}
	if s.Bytes != s.BytesTotal {
		t.Errorf("bytes read %d, want the files' %d", s.Bytes, s.BytesTotal)
	}
	for _, m := range pub.msgs {
		if err := schemas.Validate("article.schema.json", m.Value); err != nil {
			t.Errorf("%s: %v", m.Key, err)
		}
		var a schemas.Article
		json.Unmarshal(m.Value, &a)
		if a.Source != "cc-news" || a.FetchedAt.IsZero() || !strings.HasPrefix(a.URL, "https://news.example/") {
			t.Errorf("article %+v", a)
		}
		body, _ := a.Body()
		switch a.CanonicalURL {
		case "https://news.example/a":
			if a.URL != "https://news.example/a?utm_source=feed" || !a.FetchedAt.Equal(day) {
				t.Errorf("a: url %s date %s", a.URL, a.FetchedAt)
			}
		case "https://news.example/jp":
			if !a.HTMLBase64 || a.Headers["Content-Type"] != "text/html; charset=Shift_JIS" {
				t.Errorf("jp: base64 %v headers %v", a.HTMLBase64, a.Headers)
			}
		case "https://news.example/e":
			if !bytes.Contains(body, []byte("Northwind")) {
				t.Errorf("e: payload not decoded: %.40q", body)
			}
		}
	}
	var metrics bytes.Buffer
	b.WriteMetrics(&metrics)
	for _, line := range []string{`mwledger_backfill_published_total 7`, `mwledger_backfill_skipped_total{reason="duplicate"} 2`, `mwledger_backfill_files_broken_total{reason="truncated_eof"} 1`} {
		if !strings.Contains(metrics.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, metrics.String())
		}
	}

	// Again over the same files: nothing new.
	pub2 := &recorder{}
	b2, _ := New(Config{State: st}, pub2)
	if err := b2.Run(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	if len(pub2.msgs) != 0 || b2.Stats().FilesSkipped != 3 {
		t.Errorf("second run published %v, skipped %d files", pub2.keys(), b2.Stats().FilesSkipped)
	}
}

// manySet writes files×pages pages, every third a deal, and returns the
// deal URLs.
func manySet(t testing.TB, dir string, files, pages int) []string {
	return manySetOn(t, dir, "wire.example", files, pages)
}

// manySetOn is manySet with pages on host.
func manySetOn(t testing.TB, dir, host string, files, pages int) []string {
	rng := rand.New(rand.NewPCG(11, 12))
	var want []string
	for fi := range files {
		f := &warctest.File{}
		f.Add(warctest.Warcinfo(day))
		for p := range pages {
			u := fmt.Sprintf("https://%s/%d/%d", host, fi, p)
			body := plainPage(rng, u)
			if p%3 == 0 {
				body = dealPage(rng, u)
				want = append(want, u)
			}
			f.Add(warctest.Request(u, day), warctest.Response(u, day, "text/html", body))
		}
		writeTB(t, filepath.Join(dir, fmt.Sprintf("cc-%02d.warc.gz", fi)), f.Bytes())
	}
	sort.Strings(want)
	return want
}

var errKilled = errors.New("killed")

// TestBackfillResumesAfterStop stops a backfill (as SIGTERM does) after k
// articles, for several k, starts it again on the same state file, and finds
// every deal published exactly once.
func TestBackfillResumesAfterStop(t *testing.T) {
	dir := t.TempDir()
	want := manySet(t, dir, 3, 45)
	files, _ := Files([]string{filepath.Join(dir, "*.warc.gz")})
	for _, k := range []int{1, 4, 17, 30, 44} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			statePath := filepath.Join(t.TempDir(), "state.db")
			all := &recorder{}
			ctx, cancel := context.WithCancel(context.Background())
			all.after = func(n int) error {
				if n >= k {
					cancel()
				}
				return nil
			}
			st := openState(t, statePath)
			b, _ := New(Config{State: st, BatchSize: 4}, all)
			err := b.Run(ctx, files)
			st.Close()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("first run: %v", err)
			}
			first := len(all.msgs)
			all.after = nil
			st = openState(t, statePath)
			defer st.Close()
			b, _ = New(Config{State: st, BatchSize: 4}, all)
			if err := b.Run(context.Background(), files); err != nil {
				t.Fatal(err)
			}
			got := all.keys()
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Fatalf("after a stop at %d (%d published before): %d published, want %d once each\n%v", k, first, len(got), len(want), got)
			}
		})
	}
}

// TestBackfillCrashBetweenPublishAndCommit: a process that dies after the bus
// took a batch and before the state recorded it publishes that batch again
// on restart (at least once) and nothing else twice; nothing is lost.
func TestBackfillCrashBetweenPublishAndCommit(t *testing.T) {
	dir := t.TempDir()
	want := manySet(t, dir, 2, 60)
	files, _ := Files([]string{dir})
	statePath := filepath.Join(t.TempDir(), "state.db")
	all := &recorder{}
	all.after = func(n int) error {
		if n >= 12 {
			return errKilled // the batch reached the bus; the commit never happens
		}
		return nil
	}
	st := openState(t, statePath)
	b, _ := New(Config{State: st, BatchSize: 4, PublishTimeout: 50 * time.Millisecond}, all)
	err := b.Run(context.Background(), files)
	st.Close()
	if err == nil {
		t.Fatal("a failed publish was not an error")
	}
	all.after = nil
	st = openState(t, statePath)
	defer st.Close()
	b, _ = New(Config{State: st, BatchSize: 4}, all)
	if err := b.Run(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	got := all.keys()
	counts := map[string]int{}
	for _, k := range got {
		counts[k]++
	}
	for _, u := range want {
		if counts[u] == 0 {
			t.Errorf("%s lost", u)
		}
	}
	dups := 0
	for _, n := range counts {
		dups += n - 1
	}
	if len(counts) != len(want) || dups > 4*10 {
		t.Errorf("%d distinct (want %d), %d duplicates", len(counts), len(want), dups)
	}
	t.Logf("%d deals, %d messages, %d published twice (the batch in flight at the crash, retried by the failing publisher)", len(want), len(got), dups)
}

func TestFilesArguments(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.warc.gz", "a.warc.gz", "c.warc", "notes.txt"} {
		write(t, filepath.Join(dir, n), nil)
	}
	got, err := Files([]string{dir, filepath.Join(dir, "a.warc.gz"), filepath.Join(dir, "*.warc")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, filepath.Base(g))
	}
	if !slices.Equal(names, []string{"a.warc.gz", "b.warc.gz", "c.warc"}) {
		t.Errorf("files %v", names)
	}
	for _, bad := range []string{filepath.Join(dir, "nope.warc.gz"), t.TempDir()} {
		if _, err := Files([]string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, err := New(Config{}, &recorder{}); err == nil || !strings.Contains(err.Error(), "State") {
		t.Errorf("config without state: %v", err)
	}
}
