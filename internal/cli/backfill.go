package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/backfill"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

func runBackfill(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backfill", "[--embedded [--ledger FILE]] [--state FILE] [--keywords FILE] FILE.warc.gz|DIR|GLOB...")
	embedded := fs.Bool("embedded", false, "extract and index in this process into the embedded ledger (like mwledger run) instead of publishing to Kafka")
	ledger := fs.String("ledger", defaultLedger(), "embedded ledger file, with --embedded (env MWLEDGER_LEDGER)")
	state := fs.String("state", envOr("MWLEDGER_BACKFILL_STATE", ""), "backfill state file (SQLite): each WARC file's resume point and the articles published (env MWLEDGER_BACKFILL_STATE; default: beside the ledger with --embedded, else ~/.local/share/mwledger/backfill/<Kafka cluster id>.db)")
	source := fs.String("source", "warc", "source name of the published articles")
	keywordsFile := fs.String("keywords", "", "file of prefilter keywords, one a line (# comments); default: the built-in list (README, Backfill)")
	maxRecord := fs.Int("max-record", 10<<20, "largest WARC record (and decoded payload) read in bytes; larger ones are skipped (too_large)")
	var mf metricsFlags
	mf.register(fs)
	progress := fs.Duration("progress", 0, "progress: redrawn every 200ms on a terminal, else a log line this often (0: 200ms on a terminal, 30s otherwise)")
	articleTimeout := fs.Duration("article-timeout", extractor.DefaultArticleTimeout, "with --embedded, longest extraction of one article")
	var sf serviceFlags
	fs.StringVar(&sf.kafka, "kafka", envOr("MWLEDGER_KAFKA", "127.0.0.1:19092"), "Kafka bootstrap brokers, comma-separated, without --embedded (env MWLEDGER_KAFKA)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"backfill: give WARC files, directories or glob patterns"}
	}
	files, err := backfill.Files(fs.Args())
	if err != nil {
		return usageError{"backfill: " + err.Error()}
	}
	var keywords []string
	if *keywordsFile != "" {
		if keywords, err = readKeywords(*keywordsFile); err != nil {
			return err
		}
	}

	var pub stream.Publisher
	var mem *app.IndexedBus
	if *embedded {
		// A batch counts as published (and its resume point is committed)
		// once its articles are in the ledger: a killed backfill loses nothing.
		mem = app.NewIndexedBus()
		pub = mem
		if *state == "" {
			*state = *ledger + ".backfill.db"
		}
	} else {
		cfg := sf.kafkaConfig()
		if err := ensureTopics(ctx, cfg); err != nil {
			return err
		}
		if *state == "" {
			p, err := defaultCrawlState(ctx, cfg.Brokers)
			if err != nil {
				return err
			}
			*state = filepath.Join(filepath.Dir(filepath.Dir(p)), "backfill", filepath.Base(p))
		}
		kp, err := kafka.NewPublisher(cfg)
		if err != nil {
			return err
		}
		defer kp.Close()
		pub = kp
	}
	if err := os.MkdirAll(filepath.Dir(*state), 0o755); err != nil {
		return fmt.Errorf("creating the directory of the backfill state: %w", err)
	}
	st, err := backfill.OpenState(*state, e.log)
	if err != nil {
		return err
	}
	defer st.Close()
	bcfg := backfill.Config{Source: *source, Keywords: keywords, MaxRecordBytes: *maxRecord, State: st, Log: e.log}
	if *embedded {
		bcfg.BatchSize, bcfg.PublishTimeout = 16, 10*time.Minute
	}
	bf, err := backfill.New(bcfg, pub)
	if err != nil {
		return err
	}
	reg, stopMetrics, err := mf.start(e)
	if err != nil {
		return err
	}
	defer stopMetrics()
	reg.MustRegister(bf)
	stopProgress := showProgress(e, bf, *progress)
	start := time.Now()
	if !*embedded {
		err = bf.Run(ctx, files)
		stopProgress()
		printBackfillStats(e.stderr, bf.Stats(), time.Since(start))
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
	return backfillEmbedded(ctx, e, bf, mem, files, *ledger, *articleTimeout, stopProgress, start)
}

// backfillEmbedded runs the backfill into the in-process bus, and the
// extractor and indexer stages behind it into the embedded ledger.
func backfillEmbedded(ctx context.Context, e *env, bf *backfill.Backfiller, mem *app.IndexedBus, files []string, ledger string, articleTimeout time.Duration, stopProgress func(), start time.Time) error {
	if err := os.MkdirAll(filepath.Dir(ledger), 0o755); err != nil {
		return fmt.Errorf("creating ledger directory: %w", err)
	}
	store, err := app.OpenLedger(ledger)
	if err != nil {
		return err
	}
	defer store.Close()
	x, err := extractor.New()
	if err != nil {
		return err
	}
	var bfElapsed time.Duration
	st, err := app.Embedded{Store: store, Extractor: x, Extract: extractor.StageConfig{ArticleTimeout: articleTimeout},
		Finish: true, AckBus: mem, Log: e.log}.Run(ctx, func(ctx context.Context, _ stream.Publisher) error {
		err := bf.Run(ctx, files)
		bfElapsed = time.Since(start)
		stopProgress()
		return err
	})
	xst, ist, extractTime, bfErr := st.Extract, st.Index, st.ExtractTime, st.SourceErr
	printBackfillStats(e.stderr, bf.Stats(), bfElapsed)
	rate := 0.0
	if extractTime > 0 {
		rate = float64(xst.Articles) / extractTime.Seconds()
	}
	fmt.Fprintf(e.stderr, "extracted %d article(s) into %d contract record(s) (%.1f articles/s); indexed %d; dead letters %d; ledger %s\n",
		xst.Articles, xst.Contracts, rate, ist.Indexed, xst.DeadLetters+ist.DeadLetters, ledger)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if bfErr != nil && !errors.Is(bfErr, context.Canceled) {
		return bfErr
	}
	return nil
}

// readKeywords reads a keywords file: one keyword a line, blank lines and
// lines starting with # ignored.
func readKeywords(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading keywords: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading keywords %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("keywords file %s has no keyword", path)
	}
	return out, nil
}

// isTerminal says whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// showProgress draws a progress bar on a terminal, or logs a progress line
// every interval otherwise. The returned function stops it.
func showProgress(e *env, bf *backfill.Backfiller, every time.Duration) func() {
	tty := isTerminal(e.stderr)
	if every <= 0 {
		every = 30 * time.Second
		if tty {
			every = 200 * time.Millisecond
		}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprintf(e.stderr, "\r%s\n", progressLine(bf.Stats(), 30))
				}
				return
			case <-t.C:
				s := bf.Stats()
				if tty {
					fmt.Fprintf(e.stderr, "\r%s", progressLine(s, 30))
				} else {
					e.log.Info("backfill progress", "files", fmt.Sprintf("%d/%d", s.Files, s.FilesTotal), "records", s.Records,
						"mb", fmt.Sprintf("%.1f", float64(s.Bytes)/1e6), "matches", s.Matches, "published", s.Published, "mb_per_s", fmt.Sprintf("%.1f", rateMB(s)))
				}
			}
		}
	}()
	var once bool
	return func() {
		if !once {
			once = true
			close(done)
			<-stopped
		}
	}
}

func rateMB(s backfill.Stats) float64 {
	if d := time.Since(s.Started).Seconds(); d > 0 && !s.Started.IsZero() {
		return float64(s.Bytes) / 1e6 / d
	}
	return 0
}

// progressLine is one line of a progress bar: done fraction of the bytes,
// files, records, matches and the rate.
func progressLine(s backfill.Stats, width int) string {
	frac := 1.0
	if s.BytesTotal > 0 {
		frac = min(float64(s.Bytes)/float64(s.BytesTotal), 1)
	}
	n := int(frac * float64(width))
	return fmt.Sprintf("[%s%s] %3.0f%%  files %d/%d  records %d  %.1f/%.1f MB  matches %d  published %d  %.1f MB/s ",
		strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, s.Files, s.FilesTotal, s.Records,
		float64(s.Bytes)/1e6, float64(s.BytesTotal)/1e6, s.Matches, s.Published, rateMB(s))
}

func printBackfillStats(w io.Writer, s backfill.Stats, elapsed time.Duration) {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.Bytes) / 1e6 / elapsed.Seconds()
	}
	fmt.Fprintf(w, "backfill: %d/%d file(s) (%d already read), %d record(s), %.1f MB in %s (%.1f MB/s); %d match(es), %d published; skipped %v; files broken %v\n",
		s.Files, s.FilesTotal, s.FilesSkipped, s.Records, float64(s.Bytes)/1e6, elapsed.Round(time.Millisecond), rate, s.Matches, s.Published, s.Skipped, s.Broken)
}
