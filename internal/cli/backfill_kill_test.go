package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/backfill"
	"github.com/mwledger/mwledger/ledger"
)

// TestBackfillChildProcess is the process TestBackfillSurvivesKill kills.
func TestBackfillChildProcess(t *testing.T) {
	args := os.Getenv("MWLEDGER_TEST_BACKFILL_ARGS")
	if args == "" {
		t.Skip("helper process of TestBackfillSurvivesKill")
	}
	if err := Run(context.Background(), strings.Split(args, "\n"), os.Stdin, os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// TestBackfillSurvivesKill starts an embedded backfill in a child process,
// kills it (SIGKILL) once a batch is in the ledger, starts it again, and
// finds every deal page of the WARC files in the ledger and recorded once.
func TestBackfillSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	deals := writeDealWARCs(t, dir, 3, 24, 12, 4000)
	ledgerPath := filepath.Join(t.TempDir(), "ledger.db")
	args := strings.Join([]string{"backfill", "--embedded", "--ledger", ledgerPath, "--progress", "50ms", dir}, "\n")
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBackfillChildProcess$")
		cmd.Env = append(os.Environ(), "MWLEDGER_TEST_BACKFILL_ARGS="+args)
		return cmd
	}

	cmd := child()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	published := regexp.MustCompile(`published=(\d+)`)
	killedAt := -1
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := published.FindStringSubmatch(sc.Text()); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > 0 && n < deals {
				killedAt = n
				cmd.Process.Kill() // SIGKILL: no cleanup
				break
			}
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait()
	if killedAt < 0 {
		t.Fatal("the child finished before it could be killed")
	}
	t.Logf("killed after %d of %d deal pages were published", killedAt, deals)

	out, err := child().CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "3/3 file(s)") {
		t.Errorf("second run:\n%s", out)
	}

	st, err := backfill.OpenState(ledgerPath+".backfill.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := st.Published()
	st.Close()
	if n != deals {
		t.Errorf("state records %d published, want %d", n, deals)
	}
	store, err := app.OpenLedger(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	res, err := store.Search(context.Background(), ledger.Query{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]bool{}
	for _, d := range res.Deals {
		for _, s := range d.Sources {
			urls[s.URL] = true
		}
	}
	if len(urls) != deals {
		t.Errorf("%d deal pages in the ledger, want %d", len(urls), deals)
	}
}
