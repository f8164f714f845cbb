// Package backfill reads web archives (WARC files, as Common Crawl's CC-NEWS
// publishes them) and publishes the pages that mention the beat as articles
// on mwledger.articles, with the archive's target URI and date: the history
// before the crawler started.
//
// Each record is judged on its raw bytes first (record type, truncation, HTTP
// status, content type, then a keyword prefilter, prefilter.go) so that the
// great majority is rejected without HTML parsing. An article already
// published (same canonical URL or same content hash) is not published again,
// and each file's resume point is committed with the articles published
// before it (state.go): a backfill stopped and started again goes on where it
// stopped.
package backfill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/internal/warc"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// Config of a backfill. The zero value is usable except for State.
type Config struct {
	// Source names the articles' source. Default "warc".
	Source string
	// Keywords of the prefilter. Default DefaultKeywords.
	Keywords []string
	// MaxRecordBytes is the largest content block read (and the largest
	// payload once its Content-Encoding is removed); larger records are
	// skipped (too_large). Default 10 MiB.
	MaxRecordBytes int
	// MaxSkipBytes: a record declaring a larger block ends its file
	// (record_too_large), so that a small hostile file cannot keep the
	// backfill inflating. Default 1 GiB.
	MaxSkipBytes int64
	// BatchSize is the number of articles published together. Default 64.
	BatchSize int
	// CheckpointEvery is the longest time between two commits of a file's
	// resume point when no batch fills up. Default 2s.
	CheckpointEvery time.Duration
	// PublishTimeout bounds the publication of one batch, retries included;
	// a stop (ctx) does not cut it short. Default 30s.
	PublishTimeout time.Duration
	// State remembers resume points and published articles. Required.
	State *State
	// Log receives a line per file. Default: discarded.
	Log *slog.Logger
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.State == nil:
		return errors.New("backfill config: State is required")
	case c.MaxRecordBytes < 0, c.MaxSkipBytes < 0, c.BatchSize < 0, c.CheckpointEvery < 0, c.PublishTimeout < 0:
		return errors.New("backfill config: MaxRecordBytes, MaxSkipBytes, BatchSize, CheckpointEvery and PublishTimeout must not be negative (0 means the default)")
	case c.BatchSize > 10000:
		return errors.New("backfill config: BatchSize must be at most 10000")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Source == "" {
		c.Source = "warc"
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = warc.DefaultMaxBlock
	}
	if c.MaxSkipBytes == 0 {
		c.MaxSkipBytes = warc.DefaultMaxSkipBytes
	}
	if c.BatchSize == 0 {
		c.BatchSize = 64
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 2 * time.Second
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 30 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Stats counts what a backfill did.
type Stats struct {
	// Files counts files finished (read to their end or to a break);
	// FilesTotal the files given; FilesSkipped those finished by an earlier run.
	Files, FilesTotal, FilesSkipped int
	// File is the file being read.
	File string
	// Bytes counts compressed bytes read (of this run), BytesTotal the sizes
	// of the files still to read when the run started.
	Bytes, BytesTotal int64
	// Records counts records read; Matches the pages that passed every check
	// and the prefilter; Published the articles published (matches that were
	// not duplicates).
	Records, Matches, Published int64
	// Skipped counts records not published by reason: warcinfo, request,
	// metadata, revisit, resource, other_type, truncated, too_large,
	// not_http, http_status, not_html, content_encoding, bad_uri,
	// no_keyword, duplicate.
	Skipped map[string]int64
	// Broken counts files given up before their end, by reason
	// (truncated_eof, format, record_too_large, corrupt_gzip, read_error).
	Broken map[string]int
	// Started is when the run started.
	Started time.Time
}

// Backfiller reads WARC files into the pipeline.
type Backfiller struct {
	cfg    Config
	pub    stream.Publisher
	filter *Prefilter

	mu    sync.Mutex
	stats Stats
}

// New returns a backfiller publishing to pub.
func New(cfg Config, pub stream.Publisher) (*Backfiller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	f, err := NewPrefilter(cfg.Keywords)
	if err != nil {
		return nil, fmt.Errorf("backfill keywords: %w", err)
	}
	return &Backfiller{cfg: cfg, pub: pub, filter: f,
		stats: Stats{Skipped: map[string]int64{}, Broken: map[string]int{}}}, nil
}

// Stats returns a copy of the counters.
func (b *Backfiller) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Skipped = make(map[string]int64, len(b.stats.Skipped))
	for k, v := range b.stats.Skipped {
		s.Skipped[k] = v
	}
	s.Broken = make(map[string]int, len(b.stats.Broken))
	for k, v := range b.stats.Broken {
		s.Broken[k] = v
	}
	return s
}

// Files expands the arguments of a backfill: files, directories (their
// *.warc.gz and *.warc files, sorted) and glob patterns.
func Files(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) error {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		if !seen[abs] {
			seen[abs] = true
			out = append(out, abs)
		}
		return nil
	}
	for _, a := range args {
		st, err := os.Stat(a)
		switch {
		case err == nil && st.IsDir():
			var names []string
			for _, pat := range []string{"*.warc.gz", "*.warc"} {
				m, _ := filepath.Glob(filepath.Join(a, pat))
				names = append(names, m...)
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("directory %s holds no *.warc.gz or *.warc file", a)
			}
			slices.Sort(names)
			for _, n := range names {
				if err := add(n); err != nil {
					return nil, err
				}
			}
		case err == nil:
			if err := add(a); err != nil {
				return nil, err
			}
		default:
			m, gerr := filepath.Glob(a)
			if gerr != nil || len(m) == 0 {
				return nil, fmt.Errorf("no WARC file %s: %w", a, err)
			}
			slices.Sort(m)
			for _, n := range m {
				if err := add(n); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// Run reads the files one after the other. It returns when every file was
// read, or ctx ended (after publishing what was ready and committing where it
// stopped: the next run goes on from there), or a batch could not be
// published (not committed: it is read again next run).
func (b *Backfiller) Run(ctx context.Context, files []string) error {
	b.mu.Lock()
	b.stats.Started = time.Now()
	b.stats.FilesTotal = len(files)
	b.mu.Unlock()
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			fs, ok, _ := b.cfg.State.File(f)
			left := st.Size()
			if ok && fs.Size == st.Size() {
				left -= fs.Offset
				if fs.Done {
					left = 0
				}
			}
			b.mu.Lock()
			b.stats.BytesTotal += max(left, 0)
			b.mu.Unlock()
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.file(ctx, f); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// pending is an article ready to publish.
type pending struct {
	msg stream.Message
	key seenKey
}

func (b *Backfiller) file(ctx context.Context, path string) error {
	log := b.cfg.Log.With("file", path)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening WARC file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("opening WARC file: %w", err)
	}
	size := st.Size()
	fs, known, err := b.cfg.State.File(path)
	if err != nil {
		return err
	}
	if known && fs.Done && fs.Size == size {
		b.mu.Lock()
		b.stats.Files++
		b.stats.FilesSkipped++
		b.mu.Unlock()
		log.Debug("already read")
		return nil
	}
	if !known || fs.Size > size || fs.Offset > size {
		fs = FileState{}
	}
	fs.Size, fs.Done, fs.Broken = size, false, ""
	if fs.Offset > 0 {
		if _, err := f.Seek(fs.Offset, io.SeekStart); err != nil {
			return fmt.Errorf("seeking %s to %d: %w", path, fs.Offset, err)
		}
		log.Info("resuming", "offset", fs.Offset, "skip", fs.Skip, "records_before", fs.Records)
	}
	b.mu.Lock()
	b.stats.File = path
	b.mu.Unlock()
	startOff := fs.Offset
	r, err := warc.NewReader(f, fs.Offset, fs.Skip, warc.Options{MaxBlockBytes: b.cfg.MaxRecordBytes, MaxSkipBytes: b.cfg.MaxSkipBytes})
	if err != nil {
		return b.broken(path, fs, log, err, nil)
	}
	var (
		batch      []pending
		inBatch    = map[string]bool{}
		lastCommit = time.Now()
		lastOff    = startOff
	)
	flush := func() error {
		if err := b.publish(ctx, batch); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		keys := make([]seenKey, len(batch))
		for i, p := range batch {
			keys[i] = p.key
		}
		if err := b.cfg.State.Commit(path, fs, keys); err != nil {
			return fmt.Errorf("recording the backfill of %s: %w", path, err)
		}
		b.mu.Lock()
		b.stats.Published += int64(len(batch))
		b.mu.Unlock()
		batch, lastCommit = batch[:0], time.Now()
		clear(inBatch)
		return nil
	}
	for {
		if ctx.Err() != nil {
			if err := flush(); err != nil {
				return err
			}
			log.Info("stopped; the next run resumes here", "offset", fs.Offset, "skip", fs.Skip)
			return ctx.Err()
		}
		rec, err := r.Next()
		if err == io.EOF {
			fs.Done = true
			if err := flush(); err != nil {
				return err
			}
			b.doneFile(size - lastOff)
			log.Info("file read", "records", fs.Records)
			return nil
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return b.broken(path, fs, log, err, func() { b.doneFile(size - lastOff) })
		}
		fs.Records++
		fs.Offset, fs.Skip = rec.End, rec.EndSkip
		reason, msg, key := b.consider(rec)
		b.mu.Lock()
		b.stats.Records++
		b.stats.Bytes += rec.End - lastOff
		if reason == "" {
			b.stats.Matches++
		}
		b.mu.Unlock()
		lastOff = rec.End
		if reason == "" {
			seen, err := b.cfg.State.Seen(key.url, key.hash)
			if err != nil {
				return fmt.Errorf("reading the backfill state: %w", err)
			}
			if seen || inBatch[key.url] || inBatch[key.hash] {
				reason = "duplicate"
			} else {
				inBatch[key.url], inBatch[key.hash] = true, true
				batch = append(batch, pending{msg: msg, key: key})
			}
		}
		if reason != "" {
			b.mu.Lock()
			b.stats.Skipped[reason]++
			b.mu.Unlock()
		}
		if len(batch) >= b.cfg.BatchSize || time.Since(lastCommit) >= b.cfg.CheckpointEvery {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// doneFile counts a finished file and the bytes after its last record.
func (b *Backfiller) doneFile(rest int64) {
	b.mu.Lock()
	b.stats.Files++
	b.stats.Bytes += max(rest, 0)
	b.mu.Unlock()
}

// broken records that a file was given up at a break (what came before it
// was published), counts it, and goes on with the next file.
func (b *Backfiller) broken(path string, fs FileState, log *slog.Logger, cause error, done func()) error {
	reason := warc.Reason(cause)
	fs.Done, fs.Broken = true, reason
	if err := b.cfg.State.Commit(path, fs, nil); err != nil {
		return fmt.Errorf("recording the backfill of %s: %w", path, err)
	}
	b.mu.Lock()
	b.stats.Broken[reason]++
	b.mu.Unlock()
	if done != nil {
		done()
	} else {
		b.doneFile(0)
	}
	log.Warn("file given up at a broken record; what came before it was read", "reason", reason, "offset", fs.Offset, "err", cause)
	return nil
}

func (b *Backfiller) publish(ctx context.Context, batch []pending) error {
	if len(batch) == 0 {
		return nil
	}
	msgs := make([]stream.Message, len(batch))
	for i, p := range batch {
		msgs[i] = p.msg
	}
	// What was read before a stop is still published (and committed).
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.PublishTimeout)
	defer cancel()
	backoff := stream.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	err := stream.Retry(pctx, &backoff, func(err error, wait time.Duration) {
		b.cfg.Log.Warn("publish failed, retrying", "articles", len(msgs), "wait", wait, "err", err)
	}, func() error { return b.pub.Publish(pctx, msgs...) })
	if err != nil {
		return fmt.Errorf("publishing %d articles: %w", len(msgs), err)
	}
	return nil
}

// consider judges one record: a reason to skip it, or the article message.
func (b *Backfiller) consider(rec *warc.Record) (reason string, msg stream.Message, key seenKey) {
	switch rec.Type {
	case "response":
	case "warcinfo", "request", "metadata", "revisit", "resource", "conversion", "continuation":
		return rec.Type, msg, key
	default:
		return "other_type", msg, key
	}
	if rec.Truncated != "" {
		return "truncated", msg, key
	}
	if rec.TooLarge {
		return "too_large", msg, key
	}
	resp, err := warc.ParseHTTP(rec.Block)
	if err != nil {
		return "not_http", msg, key
	}
	if resp.Status != http.StatusOK {
		return "http_status", msg, key
	}
	ct := resp.Header["content-type"]
	if !htmlType(ct, resp.Body) {
		return "not_html", msg, key
	}
	body, err := resp.Decode(b.cfg.MaxRecordBytes)
	if err != nil {
		if errors.Is(err, warc.ErrBodyTooLarge) {
			return "too_large", msg, key
		}
		return "content_encoding", msg, key
	}
	if _, ok := b.filter.Match(body); !ok {
		return "no_keyword", msg, key
	}
	if !strings.HasPrefix(rec.TargetURI, "http://") && !strings.HasPrefix(rec.TargetURI, "https://") {
		return "bad_uri", msg, key
	}
	canon, err := crawler.Canonical(rec.TargetURI)
	if err != nil {
		return "bad_uri", msg, key
	}
	sum := sha256.Sum256(body)
	hash := "sha256:" + hex.EncodeToString(sum[:])
	fetched := rec.Date
	if fetched.IsZero() {
		fetched = time.Now().UTC()
	}
	headers := map[string]string{}
	for _, h := range []string{"Content-Type", "Last-Modified", "ETag", "Content-Language"} {
		if v := resp.Header[strings.ToLower(h)]; v != "" {
			headers[h] = v
		}
	}
	a := schemas.Article{
		SchemaVersion: schemas.Version,
		CanonicalURL:  canon,
		URL:           rec.TargetURI,
		FetchedAt:     fetched,
		Status:        resp.Status,
		Headers:       headers,
		ContentHash:   hash,
		Source:        b.cfg.Source,
		Version:       1,
	}
	a.SetBody(body)
	v, err := json.Marshal(a)
	if err != nil {
		return "bad_uri", msg, key
	}
	return "", stream.Message{Topic: schemas.TopicArticles, Key: []byte(canon), Value: v,
		Headers: map[string]string{"source": b.cfg.Source}}, seenKey{url: canon, hash: hash}
}

// htmlType accepts text/html and application/xhtml+xml, and sniffs a payload
// sent without a type or with a generic one.
func htmlType(contentType string, body []byte) bool {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err == nil {
			switch mt {
			case "text/html", "application/xhtml+xml":
				return true
			case "application/octet-stream", "text/plain", "binary/octet-stream":
			default:
				return false
			}
		}
	}
	head := body[:min(len(body), 1024)]
	return strings.HasPrefix(http.DetectContentType(head), "text/html") || bytes.Contains(bytes.ToLower(head), []byte("<html"))
}
