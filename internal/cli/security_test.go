package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"github.com/mwledger/mwledger/internal/testkit"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/web"
	"github.com/mwledger/mwledger/ledger"
)

// TestSearchRefusesHostileNumbers: paging that overflowed into a panic
// (--limit 9223372036854775807 --from 1), numbers that are not finite, and
// corrections far beyond any real deal (two of capacity_mw=1.7e308 made the
// aggregations infinite) are usage errors; the ledger keeps answering.
func TestSearchRefusesHostileNumbers(t *testing.T) {
	ledgerPath := sampleLedger(t, 20)
	var id string
	{
		out, err := runCLI(t, "search", "--ledger", ledgerPath, "--json", "--limit", "2")
		if err != nil {
			t.Fatal(err)
		}
		var r ledger.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Deals) < 2 {
			t.Fatalf("%v: %s", err, out)
		}
		id = r.Deals[0].ID
	}
	for _, tc := range []struct {
		args        []string
		errContains string
	}{
		{[]string{"search", "--limit", "9223372036854775807", "--from", "1"}, "must not exceed"},
		{[]string{"search", "--from", "9223372036854775807"}, "must not exceed"},
		{[]string{"search", "--min-mw", "NaN"}, "min_mw"},
		{[]string{"search", "--max-value", "Inf"}, "max_value"},
		{[]string{"search", "--agg", "by-type", "--min-usd-per-mw-year", "-Inf"}, "min_usd_per_mw_year"},
		{[]string{"search", strings.Repeat("word ", 300)}, "free text"},
		{[]string{"review", "list", "--limit", "9223372036854775807", "--from", "1"}, "must not exceed"},
		{[]string{"review", "correct", id, "capacity_mw=1.7e308", "--by", "x", "--no-alerts"}, "capacity_mw"},
		{[]string{"review", "correct", id, "total_value_usd=1e400", "--by", "x", "--no-alerts"}, "total_value_usd"},
		{[]string{"review", "correct", id, "term_years=NaN", "--by", "x", "--no-alerts"}, "term_years"},
		{[]string{"review", "correct", id, "announced_on=2025-02-30", "--by", "x", "--no-alerts"}, "announced_on"},
	} {
		_, err := runCLI(t, append(tc.args, "--ledger", ledgerPath)...)
		if err == nil || !strings.Contains(err.Error(), tc.errContains) || ExitCode(err) != 2 {
			t.Errorf("%.80q: err %v (exit %d), want a usage error containing %q", tc.args, err, ExitCode(err), tc.errContains)
		}
	}
	out, err := runCLI(t, "search", "--ledger", ledgerPath, "--agg", "by-type", "--json")
	if err != nil {
		t.Fatalf("aggregations after the refused corrections: %v", err)
	}
	var agg ledger.AggResult
	if err := json.Unmarshal([]byte(out), &agg); err != nil || agg.Deals == 0 {
		t.Errorf("aggregations: %v %s", err, out)
	}
}

// TestRunArticleDeadline: `mwledger run --article-timeout` bounds each
// article's extraction in the run's extractor stage: with a deadline no
// extraction can meet, every published article is a dead letter and the run
// still ends (here in well under a minute).
func TestRunArticleDeadline(t *testing.T) {
	ledgerPath := filepath.Join(t.TempDir(), "l.db")
	// An extraction abandoned at its deadline may still log when it ends,
	// after Run has returned: the test reads the log under a lock.
	var out, errb syncBuffer
	start := time.Now()
	err := Run(context.Background(), []string{"run", "--ledger", ledgerPath, "--no-alerts", "--article-timeout", "1ns"}, strings.NewReader(""), &out, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("run took %s", d)
	}
	m := regexp.MustCompile(`published (\d+) article\(s\).*dead letters (\d+);`).FindStringSubmatch(errb.String())
	if m == nil || m[1] == "0" || m[1] != m[2] {
		t.Errorf("want every published article dead-lettered:\n%s", errb.String())
	}
	if !strings.Contains(out.String(), "0 deal(s)") {
		t.Errorf("deals indexed past the deadline:\n%s", out.String())
	}
}

// TestServeTokenPrintedOnce: the first start creates the token file (0600,
// a digest only) and prints the token once; the next start prints none and
// accepts that token; a write without it is refused.
func TestServeTokenPrintedOnce(t *testing.T) {
	ledgerPath := sampleLedger(t, 5)
	tokens := filepath.Join(t.TempDir(), "state", "serve-tokens")
	serveOnce := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		var out syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, []string{"serve", "--addr", addr, "--ledger", ledgerPath, "--tokens", tokens, "--reviewer", "ana", "--no-alerts"}, strings.NewReader(""), &out, io.Discard)
		}()
		defer func() { cancel(); <-done }()
		for i := 0; i < 100 && !strings.Contains(out.String(), "mwledger serve: http://"); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		return out.String()
	}
	first := serveOnce()
	m := regexp.MustCompile(`review token for ana .*:\n(\S+)\n`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first start printed no token:\n%s", first)
	}
	tok := m[1]
	st, err := os.Stat(tokens)
	b, _ := os.ReadFile(tokens)
	if err != nil || st.Mode().Perm() != 0o600 || strings.Contains(string(b), tok) {
		t.Errorf("token file: %v, mode %v, holds the token in clear: %v", err, st.Mode().Perm(), strings.Contains(string(b), tok))
	}
	var r web.Reviewers
	if err := web.LoadTokens(tokens, &r); err != nil {
		t.Fatal(err)
	}
	if who, ok := r.Identify(&http.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}}); !ok || who != "ana" {
		t.Errorf("the printed token is not ana's: %q %v", who, ok)
	}
	if second := serveOnce(); strings.Contains(second, tok) || strings.Contains(second, "review token") {
		t.Errorf("the second start printed a token:\n%s", second)
	}
}

// TestServeWarnsWhenExposed: a listen address other machines can reach is
// warned about (the warning names TLS and the allowed hosts).
func TestServeWarnsWhenExposed(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{{"127.0.0.1:8080", false}, {"[::1]:8080", false}, {"0.0.0.0:8080", true}, {"[::]:8080", true}, {"192.168.1.5:8080", true}} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := exposed(a); got != tc.want {
			t.Errorf("exposed(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	var errb bytes.Buffer
	warnExposed(&env{stderr: &errb, log: slog.New(slog.DiscardHandler)}, "0.0.0.0:8080", []string{"ledger.example"})
	if w := errb.String(); !strings.Contains(w, "WARNING") || !strings.Contains(w, "TLS") || !strings.Contains(w, "ledger.example") {
		t.Errorf("warning:\n%s", w)
	}
}

// TestSecretsStayOutOfErrorsAndHelp: credentials given the wrong way (in a
// --kafka broker string, in an --es URL) are not echoed by the errors that
// refuse them, and a webhook URL from the environment is not printed by -h.
// Nothing is dialled beyond 127.0.0.1:1.
func TestSecretsStayOutOfErrorsAndHelp(t *testing.T) {
	src := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(src, []byte("sources:\n  - name: a\n    urls: [https://x.example/]\n"), 0o600)
	for _, tc := range []struct {
		args []string
		leak string
	}{
		{[]string{"crawl", "--kafka", "alice:s3cretpw@127.0.0.1:1", "--sources", src, "--once"}, "s3cretpw"},
		{[]string{"index", "--es", "http://elastic:p4ssw0rd-x@127.0.0.1:1", "--kafka", "127.0.0.1:1"}, "p4ssw0rd-x"},
		{[]string{"search", "--store", "es", "--es", "http://elastic:p4ssw0rd-y@127.0.0.1:1"}, "p4ssw0rd-y"},
	} {
		var out, errb bytes.Buffer
		err := Run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		if all := err.Error() + out.String() + errb.String(); strings.Contains(all, tc.leak) {
			t.Errorf("%v: the secret %q is printed:\n%s", tc.args, tc.leak, all)
		}
	}
	t.Setenv("MWLEDGER_ALERT_WEBHOOK", "https://hooks.example/services/T1/B2/S3cretHookPath")
	var errb bytes.Buffer
	Run(context.Background(), []string{"index", "-h"}, strings.NewReader(""), io.Discard, &errb)
	if h := errb.String(); !strings.Contains(h, "alert-webhook") || strings.Contains(h, "S3cretHookPath") {
		t.Errorf("index -h prints the webhook's secret path:\n%s", h)
	}
}

// TestHostileNamesPrintSafely: ANSI and OSC sequences in stored names and
// places (anyone who can publish to the contracts topic can put them there)
// never reach the terminal from search tables, CSV, aggregations or the
// review list, and CSV cells that a spreadsheet would run stay text, the NUL
// and full-width forms included.
func TestHostileNamesPrintSafely(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	b, err := app.OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := testkit.SampleContracts("tty", 6, 4)
	recs[0].Operator.Name = "Evil\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eCorp"
	recs[0].Location = ptrS("Texas\x1b[8m hidden")
	recs[0].Confidence = 0.1 // in the review queue
	recs[1].Operator.Name = "\x00=HYPERLINK(\"http://evil.example\")"
	recs[2].Operator.Name = "＝1+1"
	for _, err := range b.Upsert(context.Background(), recs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	for _, args := range [][]string{
		{"search"}, {"search", "--csv"}, {"search", "--agg", "by-operator"}, {"search", "--agg", "by-operator", "--csv"},
		{"search", "--agg", "tiers"}, {"review", "list"}, {"review", "list", "--csv"},
	} {
		out, err := runCLI(t, append(args, "--ledger", path)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if strings.ContainsAny(out, "\x1b\x07\x00\u009b\u202e") {
			t.Errorf("%v prints control characters: %q", args, out)
		}
		if !strings.Contains(out, "pwned") && !strings.Contains(out, "Evil") {
			t.Errorf("%v: the hostile deal is missing:\n%s", args, out)
		}
		if strings.Contains(strings.Join(args, " "), "csv") {
			for _, f := range []string{`"=HYPERLINK`, ",=HYPERLINK", ",＝1+1", "\n＝1+1", "\n=HYPERLINK"} {
				if strings.Contains(out, f) {
					t.Errorf("%v: a formula cell %q is not guarded:\n%s", args, f, out)
				}
			}
		}
	}
}

func ptrS(s string) *string { return &s }

// TestFixturesNeverTouchLocalFiles: a deal whose stored source URL is a local
// path (anyone who can publish to the contracts topic can write one) does not
// make `review correct --fixture` copy that file; and neither fixture command
// writes through a symlink in the fixture directory (a dangling one used to
// create its target).
func TestFixturesNeverTouchLocalFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "id_rsa")
	os.WriteFile(secret, []byte("-----BEGIN OPENSSH PRIVATE KEY----- SECRET"), 0o600)
	for _, src := range []string{secret, "file://" + secret, "javascript:alert(1)"} {
		path := filepath.Join(t.TempDir(), "ledger.db")
		b, err := app.OpenLedger(path)
		if err != nil {
			t.Fatal(err)
		}
		recs := testkit.SampleContracts("fs", 1, 9)
		for i := range recs {
			recs[i].Source.URL = src // every source: nothing here may be fetched
		}
		for _, err := range b.Upsert(context.Background(), recs) {
			if err != nil {
				t.Fatal(err)
			}
		}
		res, _ := b.Search(context.Background(), ledger.Query{})
		b.Close()
		fixtures := filepath.Join(t.TempDir(), "review")
		_, err = runCLI(t, "review", "correct", res.Deals[0].ID, "capacity_mw=100", "--by", "ana", "--no-alerts",
			"--ledger", path, "--fixture", "case", "--fixture-dir", fixtures)
		if err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
			t.Errorf("source %q: err %v, want a refusal", src, err)
		}
		filepath.WalkDir(fixtures, func(p string, d os.DirEntry, _ error) error {
			if b, _ := os.ReadFile(p); d != nil && !d.IsDir() && strings.Contains(string(b), "SECRET") {
				t.Errorf("source %q: the local file was copied to %s", src, p)
			}
			return nil
		})
	}

	// fixture record into a directory holding a dangling symlink at the case's path.
	fdir := t.TempDir()
	target := filepath.Join(t.TempDir(), "created-elsewhere")
	os.Symlink(target, filepath.Join(fdir, "case.html"))
	page := filepath.Join(t.TempDir(), "page.html")
	os.WriteFile(page, []byte("<html><body><p>IREN signed a $9.7 billion contract with Microsoft for 200 MW.</p></body></html>"), 0o600)
	for _, force := range []bool{false, true} {
		args := []string{"fixture", "record", "--name", "case", "--dir", fdir, page}
		if force {
			args = append(args[:2], append([]string{"--force"}, args[2:]...)...)
		}
		if _, err := runCLI(t, args...); err == nil {
			t.Errorf("force=%v: fixture record wrote through a symlink", force)
		}
		if _, err := os.Lstat(target); err == nil {
			t.Fatalf("force=%v: the symlink's target %s was created", force, target)
		}
	}
}

// TestFixtureRecordDecompressionBomb: `fixture record --max-body 100000 URL`
// reached 6.9 GB reading a 1 GiB gzip robots.txt; it now refuses it after
// 512 KiB inflated, allocating less than 64 MiB, in under 10 s, nothing written.
func TestFixtureRecordDecompressionBomb(t *testing.T) {
	var member bytes.Buffer
	z, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	z.Write(make([]byte, 1<<20))
	z.Close()
	bomb := bytes.Repeat(member.Bytes(), 1024) // 1 GiB inflated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	}))
	defer srv.Close()
	dir := t.TempDir()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := runCLI(t, "fixture", "record", "--max-body", "100000", "--allow-private", "--dir", dir, "--name", "bomb", srv.URL+"/story")
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "robots_txt_too_large") {
		t.Errorf("err %v, want robots_txt_too_large", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("allocated %d MiB, want < 64 MiB", n>>20)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s, want < 10s", d)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %d file(s)", len(entries))
	}
}
