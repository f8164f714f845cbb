// Package benchtool is shared by the scale-out and Kafka fault tests and by
// cmd/mwledger-bench: generated articles that the extractor turns into one
// contract each, a loopback news site that serves them, and a way for a new
// consumer group to skip what earlier runs left on a shared topic.
package benchtool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/schemas"
)

// Operators and Customers are companies of the extractor's gazetteer: a
// generated article names one of each, so the extractor finds its contract.
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
	// indexer's identity tolerance) in capacity or in value.
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
		Hyperscaler: p/len(Operators) < 5,
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

// Site serves generated articles over RSS feeds on a loopback listener and
// records when each article was first served (the crawler's fetch).
type Site struct {
	URL      string // http://127.0.0.1:PORT/PREFIX
	Articles int
	Feeds    int
	deal     func(int) Deal
	srv      *httptest.Server
	mu       sync.Mutex
	served   map[int]time.Time
	prefix   string
}

// NewSite starts a site of n articles over feeds feeds; deal gives article i's deal.
func NewSite(prefix string, n, feeds int, deal func(int) Deal) *Site {
	s := &Site{Articles: n, Feeds: feeds, deal: deal, served: map[int]time.Time{}, prefix: prefix}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + prefix
	return s
}

// Close stops the site.
func (s *Site) Close() { s.srv.Close() }

// FeedURLs are the site's RSS feeds.
func (s *Site) FeedURLs() []string {
	out := make([]string, s.Feeds)
	for i := range out {
		out[i] = fmt.Sprintf("%s/feed/%d.xml", s.URL, i)
	}
	return out
}

// ArticleURL is the canonical URL of article i.
func (s *Site) ArticleURL(i int) string { return fmt.Sprintf("%s/story/%d", s.URL, i) }

// ServedAt is when article i was first served (zero if never).
func (s *Site) ServedAt(i int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served[i]
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/robots.txt" {
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasPrefix(p, "/feed/"):
		f, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/feed/"), ".xml"))
		if err != nil || f < 0 || f >= s.Feeds {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>feed %d</title>`, f)
		for a := f; a < s.Articles; a += s.Feeds {
			fmt.Fprintf(&b, "<item><title>Story %d</title><link>%s</link></item>", a, s.ArticleURL(a))
		}
		b.WriteString("</channel></rss>")
		w.Write([]byte(b.String()))
	case strings.HasPrefix(p, "/story/"):
		i, err := strconv.Atoi(strings.TrimPrefix(p, "/story/"))
		if err != nil || i < 0 || i >= s.Articles {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		if _, ok := s.served[i]; !ok {
			s.served[i] = time.Now()
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(ArticleHTML(s.ArticleURL(i), s.deal(i)))
	default:
		http.NotFound(w, r)
	}
}

// SkipBacklog commits, for a consumer group that has no offsets yet, the
// current end of every partition of topic: the group then reads only what is
// published from now on, not what earlier runs left on a shared topic.
func SkipBacklog(ctx context.Context, brokers []string, group, topic string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 15 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return fmt.Errorf("metadata of %s: %v", topic, md.Topics)
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range md.Topics[0].Partitions {
		req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	var commits []kafka.OffsetCommit
	for _, po := range lo.Topics[topic] {
		if po.Error != nil {
			return fmt.Errorf("end offset of %s/%d: %w", topic, po.Partition, po.Error)
		}
		commits = append(commits, kafka.OffsetCommit{Partition: po.Partition, Offset: po.LastOffset})
	}
	// On a new broker the offsets topic (and so the coordinator) appears with
	// the first FindCoordinator: retry until it answers.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err = commitOnce(ctx, client, group, topic, commits)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func commitOnce(ctx context.Context, client *kafka.Client, group, topic string, commits []kafka.OffsetCommit) error {
	fc, err := client.FindCoordinator(ctx, &kafka.FindCoordinatorRequest{Key: group, KeyType: kafka.CoordinatorKeyTypeConsumer})
	if err != nil {
		return fmt.Errorf("finding the coordinator of %s: %w", group, err)
	}
	if fc.Error != nil {
		return fmt.Errorf("finding the coordinator of %s: %w", group, fc.Error)
	}
	cc := &kafka.Client{Addr: kafka.TCP(fmt.Sprintf("%s:%d", fc.Coordinator.Host, fc.Coordinator.Port)), Timeout: client.Timeout}
	res, err := cc.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{topic: commits}})
	if err != nil {
		return fmt.Errorf("committing the end of %s for %s: %w", topic, group, err)
	}
	for _, ps := range res.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("committing the end of %s/%d for %s: %w", topic, p.Partition, group, p.Error)
			}
		}
	}
	return nil
}

// Lag is how many messages of topic the group has not committed yet.
func Lag(ctx context.Context, brokers []string, group, topic string) (int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 {
		return 0, fmt.Errorf("metadata of %s: %v", topic, err)
	}
	var ids []int
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range md.Topics[0].Partitions {
		ids = append(ids, p.ID)
		req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return 0, err
	}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		return 0, err
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[topic] {
		committed[p.Partition] = p.CommittedOffset
	}
	var lag int64
	for _, po := range lo.Topics[topic] {
		c := committed[po.Partition]
		if c < 0 {
			c = 0
		}
		lag += max(0, po.LastOffset-c)
	}
	return lag, nil
}

// SourceCounts refreshes the store's alias and returns, for each source URL
// starting with prefix, in how many deals (and how often) it appears: a record
// indexed once is 1, a lost record is absent, a duplicated one is 2 or more.
func SourceCounts(ctx context.Context, store *indexer.ESStore, prefix string) (map[string]int, error) {
	if err := store.Refresh(ctx); err != nil {
		return nil, err
	}
	es := store.Client()
	body := fmt.Sprintf(`{"size":10000,"_source":["sources.url"],"query":{"nested":{"path":"sources","query":{"prefix":{"sources.url":%q}}}}}`, prefix)
	res, err := es.Search(es.Search.WithIndex(store.AliasName()), es.Search.WithBody(strings.NewReader(body)), es.Search.WithContext(ctx))
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
