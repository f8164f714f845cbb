package crawler

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/stream"
)

// TestSourcesFileBounds: parallelism 9223372036854775807 (it panicked in
// makechan), a listing of a billion pages, and a second YAML document (it was
// silently ignored) are errors naming the field; a source built in code with
// the same parallelism is refused by Crawl without a panic.
func TestSourcesFileBounds(t *testing.T) {
	const src = "sources:\n  - name: a\n    urls: [https://x.example/]\n"
	for _, tc := range []struct {
		name, yaml, errContains string
	}{
		{"max int parallelism", src + "    parallelism: 9223372036854775807\n", "parallelism must be at most 64"},
		{"parallelism 65", src + "    parallelism: 65\n", "parallelism"},
		{"parallelism 64", src + "    parallelism: 64\n", ""},
		{"overflowing parallelism", src + "    parallelism: 99999999999999999999\n", "line 4"},
		{"listing pages", "sources:\n  - name: a\n    listings: [{url: 'https://x.example/', link_selector: a, max_pages: 1000000000}]\n", "max_pages"},
		{"second document", src + "---\nsources:\n  - name: b\n    urls: [https://evil.example/]\n", "second YAML document"},
		{"second empty document", src + "---\n", "second YAML document"},
		{"trailing comment", src + "# the end\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSources("s.yaml", []byte(tc.yaml))
			if (err == nil) != (tc.errContains == "") || (err != nil && !strings.Contains(err.Error(), tc.errContains)) {
				t.Fatalf("ParseSources = %v, want error containing %q", err, tc.errContains)
			}
		})
	}
	c := New(Config{}, stream.NewMemory(), nil)
	err := c.Crawl(context.Background(), []Source{{Name: "a", URLs: []string{"https://x.example/"}, Parallelism: math.MaxInt}})
	if err == nil || !strings.Contains(err.Error(), "parallelism") {
		t.Errorf("Crawl with parallelism MaxInt: %v, want a parallelism error", err)
	}
	if err := New(Config{SourceParallelism: math.MaxInt}, stream.NewMemory(), nil).Crawl(context.Background(), nil); err == nil {
		t.Error("Config.SourceParallelism MaxInt accepted")
	}
}
