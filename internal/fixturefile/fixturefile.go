// Package fixturefile records golden fixtures: the article behind a reviewed
// deal with the records a reviewer says it holds (SaveFixture, `mwledger
// review --fixture`), and fixture files written without following links
// (WriteFile, also `mwledger fixture`).
package fixturefile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/eval"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// FixtureRequest says where a corrected article is saved as a fixture.
type FixtureRequest struct {
	// Name of the case: lower-case letters, digits and dashes.
	Name string
	// Dir receives <Name>.html, <Name>.golden.jsonl and <Name>.review.json.
	Dir string
	// Article is a saved page (a file) or a URL; default the deal's shown source.
	Article string
	// AllowPrivate lets the fetch reach loopback/private addresses (test sites).
	AllowPrivate bool
	// Fetch overrides how a URL is fetched (tests); default crawler.FetchArticle.
	Fetch func(ctx context.Context, url string, allowPrivate bool) (schemas.Article, error)
	// Force overwrites an existing case.
	Force bool
}

var caseName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Sidecar is <case>.review.json: where a reviewed fixture came from.
type Sidecar struct {
	DealID           string              `json:"deal_id"`
	SourceURL        string              `json:"source_url"`
	RecordID         string              `json:"record_id,omitempty"`
	Reviewer         string              `json:"reviewer"`
	ReviewedAt       time.Time           `json:"reviewed_at"`
	Note             string              `json:"note,omitempty"`
	Corrections      []ledger.Correction `json:"corrections"`
	ExtractorVersion string              `json:"extractor_version"`
	// ExtractorMatched says whether the extractor found the record at all (false:
	// the golden record was written from the corrected deal alone).
	ExtractorMatched bool `json:"extractor_matched"`
}

// SaveFixture saves the article behind a corrected deal as a fixture whose
// golden file holds what the extractor reads from it, with the deal's record
// corrected as the reviewer said. The other records are the extractor's draft:
// the reviewer checks them before committing. It returns the paths written.
func SaveFixture(ctx context.Context, d ledger.Deal, req FixtureRequest) ([]string, error) {
	if d.Review == nil || len(d.Review.Corrections) == 0 {
		return nil, errors.New("the deal has no corrections to save")
	}
	if !caseName.MatchString(req.Name) {
		return nil, fmt.Errorf("case name %q: use lower-case letters, digits and dashes", req.Name)
	}
	if req.Dir == "" {
		req.Dir = filepath.Join("fixtures", "review")
	}
	paths := []string{filepath.Join(req.Dir, req.Name+".html"), filepath.Join(req.Dir, req.Name+".golden.jsonl"), filepath.Join(req.Dir, req.Name+".review.json")}
	if !req.Force {
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				return nil, fmt.Errorf("%s exists (choose another name)", p)
			}
		}
	}
	// The source the deal shows, or the one the article flag names. A URL
	// from the ledger is data anyone who can publish a record wrote: it is
	// fetched only when it is http(s), never read as a file.
	src := d.Source.URL
	article := req.Article
	if article == "" {
		if !IsWebURL(src) {
			return nil, fmt.Errorf("the deal's source URL %q is not an http(s) URL: give --article FILE with the saved page", src)
		}
		article = src
	} else if IsWebURL(article) {
		src = article
	}
	var recordID string
	for _, s := range d.Sources {
		if s.URL == src && s.RecordID != "" {
			recordID = s.RecordID
		}
	}
	body, contentType, err := readArticle(ctx, article, req)
	if err != nil {
		return nil, err
	}
	page, err := extractor.ReadHTML(body, contentType)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", article, err)
	}
	x, err := extractor.New()
	if err != nil {
		return nil, err
	}
	records := x.FromPage(page, src)
	match := -1
	for i, c := range records {
		if c.ID == recordID || contains(d.RecordIDs, c.ID) {
			match = i
			break
		}
	}
	if match < 0 {
		for i, c := range records {
			if strings.EqualFold(c.Operator.Name, fieldWas(d, "operator")) && strings.EqualFold(c.Counterparty.Label(), labelWas(d)) {
				match = i
				break
			}
		}
	}
	var golden []eval.Golden
	for i, c := range records {
		if i == match {
			continue
		}
		golden = append(golden, eval.FromContract(c))
	}
	var fixed schemas.Contract
	if match >= 0 {
		fixed = records[match]
		ledger.ApplyCorrections(&fixed, d.Review.Corrections)
	} else {
		fixed = d.Contract // the extractor missed it: the corrected deal is the record
	}
	golden = append(golden, eval.FromContract(fixed))
	side := Sidecar{DealID: d.ID, SourceURL: src, RecordID: recordID, Reviewer: d.Review.By, ReviewedAt: d.Review.At, Note: d.Review.Note,
		Corrections: d.Review.Corrections, ExtractorVersion: extractor.Version, ExtractorMatched: match >= 0}
	sj, _ := json.MarshalIndent(side, "", "  ")
	if err := os.MkdirAll(req.Dir, 0o755); err != nil {
		return nil, err
	}
	for i, b := range [][]byte{body, eval.WriteGolden(golden), append(sj, '\n')} {
		if err := WriteFile(paths[i], b, req.Force); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// IsWebURL says whether s is an absolute http(s) URL with a host.
func IsWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// WriteFile writes a fixture file without following a symlink at path (a
// dangling one would create its target elsewhere): it refuses one, and
// refuses an existing file unless overwrite.
func WriteFile(path string, data []byte, overwrite bool) error {
	flags := os.O_WRONLY | os.O_CREATE | syscall.O_NOFOLLOW
	if overwrite {
		flags |= os.O_TRUNC
	} else {
		flags |= os.O_EXCL
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symlink: not written", path)
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("%s is not a regular file: not written", path)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readArticle(ctx context.Context, article string, req FixtureRequest) ([]byte, string, error) {
	if !IsWebURL(article) {
		// Only ever req.Article, the reviewer's own --article FILE (SaveFixture
		// checked a URL from the ledger).
		b, err := os.ReadFile(article)
		if err != nil {
			return nil, "", fmt.Errorf("the article: %w (give --article FILE with the saved page)", err)
		}
		return b, "", nil
	}
	fetch := req.Fetch
	if fetch == nil {
		fetch = func(ctx context.Context, url string, allowPrivate bool) (schemas.Article, error) {
			return crawler.FetchArticle(ctx, crawler.Config{Timeout: 30 * time.Second, MaxBodyBytes: 10 << 20}, url, allowPrivate)
		}
	}
	a, err := fetch(ctx, article, req.AllowPrivate)
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s: %w (or give --article FILE with the saved page)", article, err)
	}
	body, err := a.Body()
	if err != nil {
		return nil, "", err
	}
	return body, a.Headers["Content-Type"], nil
}

// fieldWas is the value the sources gave for a corrected field (the deal's
// value when it was not corrected).
func fieldWas(d ledger.Deal, field string) string {
	for _, c := range d.Review.Corrections {
		if c.Field == field {
			return c.Was
		}
	}
	return ledger.FieldValue(d.Contract, field)
}

// labelWas is the counterparty label the sources gave.
func labelWas(d ledger.Deal) string {
	return strings.TrimPrefix(fieldWas(d, "counterparty"), "undisclosed: ")
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
