// Generated deals, shared by the scale-out and Kafka fault tests and by
// cmd/mwledger-bench: articles that the extractor turns into one contract
// each, naming companies of the extractor's gazetteer, and a loopback news
// site that serves them (DealSite, a Site with these pages).

package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
)

// Operators and Customers are companies of the extractor's gazetteer: a
// generated article names one of each, so the extractor finds its contract.
// The first five customers are the hyperscalers (DealOfHyperscaler).
var (
	Operators = []string{"IREN", "Hut 8", "Applied Digital", "Cipher Mining", "TeraWulf", "Core Scientific", "Bitdeer", "CleanSpark", "Bitfarms", "Nebius"}
	Customers = []string{"Microsoft", "Amazon", "Google", "Meta", "Oracle", "CoreWeave", "Fluidstack", "Anthropic", "OpenAI", "Lambda"}
)

const (
	pairs     = 100 // len(Operators) * len(Customers)
	mwSteps   = 40  // capacities 100 MW × 1.07^k
	costSteps = 25  // $/MW/year 0.9M × 1.07^k
	// Combos is how many articles have pairwise distinct deals: two of them
	// with the same operator and customer differ by more than 5% (the
	// ledger's identity tolerance) in capacity or in value.
	Combos = pairs * mwSteps * costSteps
)

// Deal is what generated article i of a run with the given seed reports.
type Deal struct {
	Operator, Customer string
	Hyperscaler        bool
	MW                 int
	ValueMillions      int
	Years              int
}

// DealOf returns the deal of article i; seed shifts the figures so that runs
// on a shared index mostly report deals of their own (two articles of one run
// never report the same deal for i < Combos).
func DealOf(seed, i int) Deal {
	k := (i + seed) % Combos
	p, rest := k%pairs, k/pairs
	mw := int(math.Round(100 * math.Pow(1.07, float64(rest%mwSteps))))
	perMWYear := 0.9 * math.Pow(1.07, float64(rest/mwSteps)) // $M
	return Deal{
		Operator: Operators[p%len(Operators)], Customer: Customers[p/len(Operators)],
		Hyperscaler: company(Customers[p/len(Operators)]).Hyperscaler,
		MW:          mw, ValueMillions: int(math.Round(float64(mw) * perMWYear * 10)), Years: 10,
	}
}

// DealOfHyperscaler is like DealOf but only ever names a hyperscaler customer.
func DealOfHyperscaler(seed, i int) Deal {
	// The first 50 pairs have a hyperscaler customer; a seed that is a multiple
	// of pairs keeps the pair of k.
	return DealOf(seed-seed%pairs, i/50*pairs+i%50)
}

// ArticleHTML renders an article about d whose canonical URL is canonical.
func ArticleHTML(canonical string, d Deal) []byte {
	title := fmt.Sprintf("%s signs %d MW lease with %s", d.Operator, d.MW, d.Customer)
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html><head><meta charset="utf-8"><title>%s</title><link rel="canonical" href="%s">`+
		`<meta property="article:published_time" content="2026-01-02T10:00:00Z"></head><body><header><nav>Home | Mining | AI</nav></header><article><h1>%s</h1>`,
		html.EscapeString(title), html.EscapeString(canonical), html.EscapeString(title))
	fmt.Fprintf(&b, "<p>%s said on Monday it had signed a ten-year, $%d million colocation lease with %s for %d MW at its campus in Texas.</p>",
		d.Operator, d.ValueMillions, d.Customer, d.MW)
	b.WriteString("<p>Bitcoin miners have been converting their sites to high-performance computing as AI cloud demand grows and hashprice falls.</p>")
	b.WriteString("<p>The lessee will pay for power and maintenance under a triple-net structure, according to the filing.</p>")
	b.WriteString(`</article><footer>© Bench News</footer></body></html>`)
	return []byte(b.String())
}

// Article is generated article i as the crawler would publish it.
func Article(base string, seed, i int) schemas.Article {
	u := fmt.Sprintf("%s/story/%d", base, i)
	body := ArticleHTML(u, DealOf(seed, i))
	sum := sha256.Sum256(body)
	a := schemas.Article{SchemaVersion: schemas.Version, URL: u, CanonicalURL: u, FetchedAt: time.Now().UTC(), Status: 200,
		Headers: map[string]string{"Content-Type": "text/html; charset=utf-8"}, ContentHash: "sha256:" + hex.EncodeToString(sum[:]), Source: "bench", Version: 1}
	a.SetBody(body)
	return a
}

// DealSite is a Site on a loopback address (for the command line, with
// allow_private) whose generated articles report DealOf-style deals: RSS
// feeds, robots.txt, and when each article was first served (ServedAt).
type DealSite struct {
	*Site
	// URL is http://127.0.0.1:PORT/PREFIX, the start of every article URL.
	URL string
}

// NewSite starts a site of n articles over feeds feeds; deal gives article i's deal.
func NewDealSite(prefix string, n, feeds int, deal func(int) Deal) *DealSite {
	s := NewSite(SiteOptions{Loopback: true, Prefix: prefix, Articles: n, Feeds: feeds,
		Page: func(canonical string, i int) []byte { return ArticleHTML(canonical, deal(i)) }})
	return &DealSite{Site: s, URL: s.Base}
}

// SourceCounts refreshes the store's alias and returns, for each source URL
// starting with prefix, in how many deals (and how often) it appears: a record
// indexed once is 1, a lost record is absent, a duplicated one is 2 or more.
func SourceCounts(ctx context.Context, store *es.Store, prefix string) (map[string]int, error) {
	if err := store.Refresh(ctx); err != nil {
		return nil, err
	}
	c := store.Client()
	body := fmt.Sprintf(`{"size":10000,"_source":["sources.url"],"query":{"nested":{"path":"sources","query":{"prefix":{"sources.url":%q}}}}}`, prefix)
	res, err := c.Search(c.Search.WithIndex(store.AliasName()), c.Search.WithBody(strings.NewReader(body)), c.Search.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.IsError() {
		return nil, fmt.Errorf("searching %s: %s", prefix, res.String())
	}
	var sr struct {
		Hits struct {
			Hits []struct {
				Source struct {
					Sources []struct {
						URL string `json:"url"`
					} `json:"sources"`
				} `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, h := range sr.Hits.Hits {
		for _, s := range h.Source.Sources {
			if strings.HasPrefix(s.URL, prefix) {
				out[s.URL]++
			}
		}
	}
	return out, nil
}
