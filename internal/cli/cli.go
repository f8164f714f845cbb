// Package cli implements the mwledger subcommands.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/mwledger/mwledger/redact"
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every subcommand gets: streams and a logger.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

func commands() []command {
	return []command{
		{"extract", "read saved article HTML files and print their contract records as JSONL (no services needed); --consume runs the extractor stage on Kafka", runExtract},
		{"crawl", "fetch the articles of the configured sources and publish them to Kafka", runCrawl},
		{"index", "consume contract records from Kafka and write them to Elasticsearch", runIndex},
		{"backfill", "read web archives (WARC files, e.g. Common Crawl CC-NEWS) and publish the pages about the beat as articles (Kafka, or --embedded)", runBackfill},
		{"run", "the whole pipeline in one process on embedded defaults (no Kafka, no Elasticsearch), then print the deals", runRun},
		{"search", "query the ledger (Elasticsearch or the embedded store)", runSearch},
		{"serve", "serve the JSON API (api/openapi.yaml) and the web page over the ledger (embedded or es)", runServe},
		{"review", "the review queue (list) and a reviewer's verdict on a deal: accept, correct FIELD=VALUE, reset", runReview},
		{"migrate", "copy a bbolt ledger (written before SQLite became the embedded store) into a new SQLite ledger", runMigrate},
		{"eval", "compare the extractor with the golden fixtures: precision, recall and F1 per field", runEval},
		{"reprocess", "replay the archived articles (mwledger.articles) through the current extractor into mwledger.contracts", runReprocess},
		{"fixture", "record URL|FILE: save a page into fixtures/ with a drafted golden; update --yes: rewrite the goldens", runFixture},
	}
}

// Run executes one mwledger command line. Its error is redacted (see
// redact): it is printed.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return redact.Error(run(ctx, args, stdin, stdout, stderr))
}

// secretEnv are the environment variables whose values are secrets.
var secretEnv = []string{"MWLEDGER_ES_PASSWORD", "MWLEDGER_ES_API_KEY", "MWLEDGER_KAFKA_PASSWORD", "MWLEDGER_SERVE_PASSWORD"}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	for _, k := range secretEnv {
		redact.Secret(os.Getenv(k))
	}
	if v := os.Getenv("MWLEDGER_ALERT_WEBHOOK"); v != "" {
		redact.SecretURL(v)
	}
	// The logger (from any goroutine) and the commands' own lines (a crawl's
	// progress, a run's summary) share stderr: one write at a time when it is
	// not a file (a test's buffer is not safe for concurrent use).
	if _, ok := stderr.(*os.File); !ok {
		stderr = &lockedWriter{w: stderr}
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, log: newLogger(stderr)}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	usage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mwledger — a ledger of compute-infrastructure contracts read from the news")
	fmt.Fprintln(w, "\nUsage: mwledger <command> [flags]   (mwledger <command> -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEnvironment: MWLEDGER_KAFKA (brokers, default 127.0.0.1:19092), MWLEDGER_ES (URL, default http://127.0.0.1:19200),")
	fmt.Fprintln(w, "MWLEDGER_LEDGER (embedded ledger file), MWLEDGER_STORE (embedded|es), MWLEDGER_LOG_LEVEL (debug|info|warn|error,")
	fmt.Fprintln(w, "default info); Kafka TLS/SASL and Elasticsearch credentials: see README. Flags override the environment.")
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("MWLEDGER_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	// Every string and error is redacted: URL credentials, secret query
	// parameters, the webhook's path, passwords from the environment.
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redact.ReplaceAttr}))
}

// newFlags returns a flag set that prints its usage on -h and reports errors as usage errors.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(redactingWriter{e.stderr}) // -h prints defaults, some from the environment
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: mwledger %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// redactingWriter redacts what it writes (see redact).
type redactingWriter struct{ w io.Writer }

func (r redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, redact.Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
