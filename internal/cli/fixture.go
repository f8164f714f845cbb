package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/mwledger/mwledger/internal/fixturefile"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/eval"
)

func runFixture(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(e.stderr, "Usage: mwledger fixture record [flags] URL|FILE   save a page into fixtures/ with a golden drafted by the extractor")
		fmt.Fprintln(e.stderr, "       mwledger fixture update --yes [--dir DIR]  rewrite every golden file from the current extractor")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return usageError{"fixture: give record or update"}
	}
	switch args[0] {
	case "record":
		return fixtureRecord(ctx, e, args[1:])
	case "update":
		return fixtureUpdate(e, args[1:])
	}
	return usageError{fmt.Sprintf("fixture: unknown subcommand %q (record or update)", args[0])}
}

var caseName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func fixtureRecord(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "fixture record", "[--name CASE] [--dir DIR] URL|FILE")
	name := fs.String("name", "", "case name, lower-case letters, digits and dashes (default: from the URL path or file name)")
	dir := fs.String("dir", "fixtures", "fixture directory")
	force := fs.Bool("force", false, "overwrite an existing case")
	allowPrivate := fs.Bool("allow-private", false, "allow loopback and private addresses (local test sites only)")
	ua := fs.String("user-agent", envOr("MWLEDGER_USER_AGENT", ""), "User-Agent header (default mwledger/0.1 …)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of the request")
	maxBody := fs.Int("max-body", 10<<20, "largest page in bytes, counted after decompression")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"fixture record: give one URL or FILE"}
	}
	src := fs.Arg(0)
	var body []byte
	var contentType, pageURL string
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		// Through the crawler: robots.txt, the size limit and the private-address guard apply.
		a, err := crawler.FetchArticle(ctx, crawler.Config{UserAgent: *ua, Timeout: *timeout, MaxBodyBytes: *maxBody}, src, *allowPrivate)
		if err != nil {
			return err
		}
		if body, err = a.Body(); err != nil {
			return err
		}
		contentType, pageURL = a.Headers["Content-Type"], a.CanonicalURL
		if *name == "" {
			*name = slug(strings.TrimSuffix(u.Path, filepath.Ext(u.Path)))
		}
	} else {
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("fixture record: %w", err)
		}
		body = b
		if *name == "" {
			base := filepath.Base(src)
			*name = slug(strings.TrimSuffix(base, filepath.Ext(base)))
		}
	}
	if !caseName.MatchString(*name) {
		return usageError{fmt.Sprintf("fixture record: case name %q: use lower-case letters, digits and dashes (--name)", *name)}
	}
	htmlPath := filepath.Join(*dir, *name+".html")
	goldenPath := filepath.Join(*dir, *name+".golden.jsonl")
	if !*force {
		for _, p := range []string{htmlPath, goldenPath} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("fixture record: %s exists (--force to overwrite)", p)
			}
		}
	}
	page, err := extractor.ReadHTML(body, contentType)
	if err != nil {
		return fmt.Errorf("fixture record: %w", err)
	}
	if pageURL == "" {
		pageURL = page.Canonical
	}
	if pageURL == "" {
		pageURL = "https://fixtures.example/" + *name
	}
	x, err := extractor.New()
	if err != nil {
		return err
	}
	var gs []eval.Golden
	for _, c := range x.FromPage(page, pageURL) {
		gs = append(gs, eval.FromContract(c))
	}
	// Never through a symlink: a dangling one in the fixture directory would
	// create its target wherever it points.
	if err := fixturefile.WriteFile(htmlPath, body, *force); err != nil {
		return err
	}
	if err := fixturefile.WriteFile(goldenPath, eval.WriteGolden(gs), *force); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n%s\n", htmlPath, goldenPath)
	fmt.Fprintf(e.stderr, "recorded %s with %d draft record(s) from extractor %s.\n", *name, len(gs), extractor.Version)
	fmt.Fprintln(e.stderr, "Next: correct the golden file by hand (fixtures/README.md), add the case to the INDEX, and review the diff.")
	fmt.Fprintln(e.stderr, "A page from the web is someone else's text: before committing, rewrite it in our own words and move its URLs to .example hosts (fixtures/README.md).")
	return nil
}

func fixtureUpdate(e *env, args []string) error {
	fs := newFlags(e, "fixture update", "--yes [--dir DIR]")
	yes := fs.Bool("yes", false, "really rewrite every <case>.golden.jsonl from the current extractor (review `git diff` afterwards)")
	dir := fs.String("dir", "fixtures", "fixture directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*yes {
		fs.Usage()
		return usageError{"fixture update rewrites every golden file from the extractor's output: pass --yes to do it"}
	}
	x, err := extractor.New()
	if err != nil {
		return err
	}
	cases, err := eval.RunFixtures(os.DirFS(*dir), x)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		return errors.New("fixture update: no <case>.html in " + *dir)
	}
	for _, c := range cases {
		if err := fixturefile.WriteFile(filepath.Join(*dir, c.Name+".golden.jsonl"), eval.WriteGolden(c.Got), true); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "rewrote %d golden file(s) in %s from extractor %s: review `git diff %s` before committing\n", len(cases), *dir, extractor.Version, *dir)
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = nonSlug.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-")
	if len(s) > 60 {
		s = strings.Trim(s[len(s)-60:], "-")
	}
	return s
}
