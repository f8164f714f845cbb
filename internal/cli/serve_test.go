package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mwledger/mwledger/internal/web"
	"github.com/mwledger/mwledger/ledger"
)

const chromiumPath = "/usr/bin/chromium"

// serveTokens holds reviewer ana's token of each server startServe started.
var serveTokens sync.Map

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `mwledger serve` on a free loopback port over ledgerPath and
// returns its base URL; it stops with the test. Reviewer ana's token is
// serveToken[base].
func startServe(t *testing.T, ledgerPath string) string {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens")
	tok, err := web.AddTokenToFile(tokens, "ana")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out syncBuffer
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", addr, "--store", "embedded", "--ledger", ledgerPath, "--tokens", tokens}, strings.NewReader(""), &out, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + addr
	for i := 0; i < 100; i++ {
		if res, err := http.Get(base + "/api/deals?limit=1"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				serveTokens.Store(base, tok)
				return base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not answer on %s: %s", addr, out.String())
	return ""
}

func TestServeAnswers(t *testing.T) {
	base := startServe(t, sampleLedger(t, 20))
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), "/static/app.js") || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("page: %d %q", res.StatusCode, b)
	}
}

// chromium runs headless Chromium on url with the given output flag and returns
// its stdout.
func chromium(t *testing.T, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
		"--user-data-dir=" + t.TempDir(), "--window-size=1200,900", "--virtual-time-budget=5000"}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, chromiumPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

// TestServeInChromium loads the page in a real headless Chromium: the deal
// table after a search, a deal page, and a screenshot that is not blank.
// It runs when /usr/bin/chromium exists (scripts/install-chromium.sh) and is
// required under CI=true.
func TestServeInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI=true: the browser test must run; run scripts/install-chromium.sh)", chromiumPath)
		}
		t.Skipf("%s is missing: run scripts/install-chromium.sh", chromiumPath)
	}
	base := startServe(t, sampleLedger(t, 40))

	// A search: the page reads it from the URL and fills the table.
	dom := chromium(t, base+"/#/?q=texas&hyperscaler=true", "--dump-dom")
	if !strings.Contains(dom, "matching “texas”") || !strings.Contains(dom, "<tr data-id=") {
		t.Fatalf("search page did not render results:\n%s", head2k(dom))
	}
	// A deal page with its sources and evidence.
	id := between(dom, `<tr data-id="`, `"`)
	dom = chromium(t, base+"/#/deal/"+id, "--dump-dom")
	for _, want := range []string{"Sources (", "class=\"evidence\"", "Deal id", id} {
		if !strings.Contains(dom, want) {
			t.Fatalf("deal page lacks %q:\n%s", want, head2k(dom))
		}
	}
	// A screenshot of the search page with its charts.
	shot := filepath.Join(t.TempDir(), "page.png")
	chromium(t, base+"/", "--screenshot="+shot, "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := colours(img); n < 16 {
		t.Fatalf("screenshot has %d distinct colours: blank page?", n)
	} else {
		t.Logf("screenshot %s: %v, %d distinct colours", shot, img.Bounds().Size(), n)
	}
	if dir := os.Getenv("MWLEDGER_SCREENSHOT_DIR"); dir != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(dir, "mwledger-page.png"), b, 0o644)
	}
}

func colours(img image.Image) int {
	seen := map[uint64]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[uint64(r)<<48|uint64(g)<<32|uint64(bl)<<16|uint64(a)] = true
		}
	}
	return len(seen)
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}

func head2k(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

// TestReviewInChromium corrects a deal through the page in a real headless
// Chromium driven over the DevTools protocol: it opens the review queue, opens
// the first deal, fills the reviewer's form, saves, and checks that the page
// and the ledger show the correction and the queue shrank.
func TestReviewInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI=true: the browser test must run; run scripts/install-chromium.sh)", chromiumPath)
		}
		t.Skipf("%s is missing: run scripts/install-chromium.sh", chromiumPath)
	}
	ledgerPath := sampleLedger(t, 40)
	base := startServe(t, ledgerPath)
	// Not t.TempDir: Chromium's helper processes may still write to the
	// profile for a moment after the browser exits, and a failed removal would
	// fail the test. Removed last, best effort.
	profile, err := os.MkdirTemp("", "mwledger-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.UserDataDir(profile), chromedp.WindowSize(1200, 900), chromedp.Flag("disable-component-update", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	var before, after, id, review string
	var found bool
	tok, _ := serveTokens.Load(base)
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/#/?needs-review=true"),
		chromedp.WaitVisible(`#deals tbody tr`, chromedp.ByQuery),
		chromedp.Text(`#page`, &before, chromedp.ByQuery),
		chromedp.AttributeValue(`#deals tbody tr`, "data-id", &id, &found, chromedp.ByQuery),
		chromedp.Click(`#deals tbody tr`, chromedp.ByQuery),
		chromedp.WaitVisible(`#review-form`, chromedp.ByQuery),
		chromedp.SendKeys(`#review-token`, tok.(string), chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("review-field").value = "capacity_mw"`, nil),
		chromedp.SendKeys(`#review-value`, "777", chromedp.ByQuery),
		chromedp.Click(`#review-add`, chromedp.ByQuery),
		chromedp.SendKeys(`#review-note`, "checked the filing", chromedp.ByQuery),
		chromedp.Click(`#review-correct`, chromedp.ByQuery),
		chromedp.WaitVisible(`#review .corrections`, chromedp.ByQuery),
		chromedp.Text(`#review`, &review, chromedp.ByQuery),
		// A new document (not a hash change, which would leave the old table
		// in place for a moment): the queue as the server has it now.
		chromedp.Navigate(base+"/?after=1#/?needs-review=true"),
		chromedp.WaitVisible(`#deals tbody tr`, chromedp.ByQuery),
		chromedp.Text(`#page`, &after, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("driving the page: %v", err)
	}
	if !strings.Contains(review, "corrected by ana") || !strings.Contains(review, "777") || !strings.Contains(review, "checked the filing") {
		t.Errorf("the deal page does not show the correction:\n%s", review)
	}
	if total(before)-1 != total(after) {
		t.Errorf("review queue %q before, %q after: want one deal fewer", before, after)
	}
	res, err := http.Get(base + "/api/deals/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d ledger.Deal
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil || d.CapacityMW == nil || *d.CapacityMW != 777 || d.Review == nil || d.Review.By != "ana" {
		t.Fatalf("the ledger after the page's correction: %v, %+v", err, d.Review)
	}
}

// total reads N from the pager's "1–50 of N".
func total(page string) int {
	_, n, _ := strings.Cut(page, " of ")
	v, _ := strconv.Atoi(strings.TrimSpace(n))
	return v
}
