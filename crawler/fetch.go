package crawler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// FetchArticle fetches one article page the way a crawl does (robots.txt,
// size limit, redirects within the URL's host, private addresses refused unless
// allowPrivate, bot walls rejected) and returns it as the crawler would publish
// it. cfg.State is ignored: nothing is remembered.
func FetchArticle(ctx context.Context, cfg Config, rawURL string, allowPrivate bool) (schemas.Article, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return schemas.Article{}, fmt.Errorf("%q is not an http(s) URL", rawURL)
	}
	cfg.State = NewMemoryState()
	cfg.Metrics = NewMetrics()
	var cap capture
	c := New(cfg, &cap, nil)
	src := Source{Name: "fetch", URLs: []string{rawURL}, AllowPrivate: allowPrivate, Parallelism: 1, Delay: Duration{1}}
	if err := c.Crawl(ctx, []Source{src}); err != nil {
		return schemas.Article{}, err
	}
	cap.mu.Lock()
	defer cap.mu.Unlock()
	if len(cap.msgs) == 0 {
		st := c.Stats()
		var reasons []string
		for _, m := range []map[string]int{st.Failed, st.Rejected, st.Skipped} {
			for r := range m {
				reasons = append(reasons, r)
			}
		}
		sort.Strings(reasons)
		if len(reasons) == 0 {
			reasons = []string{"unknown"}
		}
		return schemas.Article{}, fmt.Errorf("%s was not fetched as an article: %s", rawURL, strings.Join(reasons, ", "))
	}
	var a schemas.Article
	if err := json.Unmarshal(cap.msgs[0].Value, &a); err != nil {
		return schemas.Article{}, err
	}
	return a, nil
}

// capture is a Publisher that keeps what it is given.
type capture struct {
	mu   sync.Mutex
	msgs []stream.Message
}

func (c *capture) Publish(_ context.Context, msgs ...stream.Message) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, msgs...)
	c.mu.Unlock()
	return nil
}
