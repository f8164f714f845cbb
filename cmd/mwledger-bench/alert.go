package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// The points an article passes between the crawler's fetch and the webhook.
const (
	hopServed    = iota // the site served the page (the crawler's fetch)
	hopArticle          // mwledger.articles acknowledged the article
	hopExtractIn        // the extractor fetched it
	hopContract         // mwledger.contracts acknowledged its contract
	hopIndexIn          // the indexer fetched the contract
	hopStored           // the deal and its alert were written (the store's notify hook)
	hopWebhook          // the webhook received the alert
	nHops
)

var hopNames = [nHops]string{"fetch", "articles topic", "extractor", "contracts topic", "indexer", "deal + alert stored", "webhook"}

// timeline records when each article (by URL) passed each point.
type timeline struct {
	mu   sync.Mutex
	at   map[string]*[nHops]time.Time
	deal map[string]string // contract id → article URL
}

func newTimeline() *timeline {
	return &timeline{at: map[string]*[nHops]time.Time{}, deal: map[string]string{}}
}

// mark records the first time url passed hop.
func (t *timeline) mark(url string, hop int, at time.Time) {
	if url == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.at[url]
	if h == nil {
		h = new([nHops]time.Time)
		t.at[url] = h
	}
	if h[hop].IsZero() {
		h[hop] = at
	}
}

func (t *timeline) get(url string) [nHops]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.at[url]; h != nil {
		return *h
	}
	return [nHops]time.Time{}
}

// contractURL is the source URL of a message on mwledger.contracts (and
// remembers its contract id: a new deal takes the id of its first record).
func (t *timeline) contractURL(m stream.Message) string {
	if m.Topic != "" && m.Topic != schemas.TopicContracts {
		return ""
	}
	var c schemas.Contract
	if json.Unmarshal(m.Value, &c) != nil {
		return ""
	}
	t.mu.Lock()
	t.deal[c.ID] = c.Source.URL
	t.mu.Unlock()
	return c.Source.URL
}

func articleURL(m stream.Message) string {
	if m.Topic != schemas.TopicArticles {
		return ""
	}
	return string(m.Key)
}

// stampPublisher marks hop for each message once the bus acknowledged it.
type stampPublisher struct {
	stream.Publisher
	t   *timeline
	hop int
	url func(stream.Message) string
}

func (p stampPublisher) Publish(ctx context.Context, msgs ...stream.Message) error {
	if err := p.Publisher.Publish(ctx, msgs...); err != nil {
		return err
	}
	now := time.Now()
	for _, m := range msgs {
		p.t.mark(p.url(m), p.hop, now)
	}
	return nil
}

// stampConsumer marks hop for each message it hands to the stage.
type stampConsumer struct {
	stream.Consumer
	t   *timeline
	hop int
	url func(stream.Message) string
}

func (c stampConsumer) Fetch(ctx context.Context) (stream.Message, error) {
	m, err := c.Consumer.Fetch(ctx)
	if err == nil {
		c.t.mark(c.url(m), c.hop, time.Now())
	}
	return m, err
}

// callStats times the calls of one kind.
type callStats struct {
	mu           sync.Mutex
	n            int
	total, worst time.Duration
}

func (c *callStats) since(start time.Time) {
	d := time.Since(start)
	c.mu.Lock()
	c.n++
	c.total += d
	c.worst = max(c.worst, d)
	c.mu.Unlock()
}

func (c *callStats) mean() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return 0
	}
	return c.total / time.Duration(c.n)
}

func (c *callStats) String() string {
	c.mu.Lock()
	n, worst := c.n, c.worst
	c.mu.Unlock()
	return fmt.Sprintf("%d× %s (max %s)", n, c.mean().Round(time.Millisecond/10), worst.Round(time.Millisecond))
}

// timedOutbox times the dispatcher's reads and acknowledgements.
type timedOutbox struct {
	ledger.Outbox
	pending, ack callStats
}

func (o *timedOutbox) PendingAlerts(ctx context.Context, dealIDs []string, limit int) ([]ledger.PendingAlert, error) {
	defer o.pending.since(time.Now())
	return o.Outbox.PendingAlerts(ctx, dealIDs, limit)
}

func (o *timedOutbox) AckAlerts(ctx context.Context, acks []ledger.Ack) error {
	defer o.ack.since(time.Now())
	return o.Outbox.AckAlerts(ctx, acks)
}

// timedSink times the deliveries.
type timedSink struct {
	alert.Sink
	send callStats
}

func (s *timedSink) Send(ctx context.Context, m alert.Message) error {
	defer s.send.since(time.Now())
	return s.Sink.Send(ctx, m)
}

// timedStore times the indexer's writes.
type timedStore struct {
	app.Store
	upsert callStats
}

func (s *timedStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	defer s.upsert.since(time.Now())
	return s.Store.Upsert(ctx, cs)
}

// alertLatency crawls n new hyperscaler deals at 20 articles/s through the
// three stages (in this process, on the real Kafka and Elasticsearch) and
// measures, per article, the time from the crawler's fetch to the webhook
// receiving its alert, and the time spent between each pair of points.
func alertLatency(ctx context.Context, kafkaAddr, esURL string, n int, trace string) ([]row, error) {
	brokers := kafka.ParseBrokers(kafkaAddr)
	cfg := kafka.Config{Brokers: brokers}
	if err := ensureTopics(ctx, cfg); err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	run := strconv.FormatInt(now, 36)
	// A fresh alias: every deal is new there, so each one raises its alert.
	alias := es.Alias + "-bench" + run
	store, err := es.New(es.Config{Addresses: esAddrs(esURL), Alias: alias})
	if err != nil {
		return nil, err
	}
	if err := store.EnsureIndex(ctx); err != nil {
		return nil, err
	}
	defer deleteIndices(store, alias)

	seed := int(now % testkit.Combos)
	site := testkit.NewDealSite("/alert-"+run, n, 1, func(i int) testkit.Deal { return testkit.DealOfHyperscaler(seed, i) })
	defer site.Close()

	tl := newTimeline()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m alert.Message
		_ = json.NewDecoder(r.Body).Decode(&m)
		at := time.Now()
		for _, s := range m.Sources {
			tl.mark(s.URL, hopWebhook, at)
		}
	}))
	defer hook.Close()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		return nil, err
	}
	defer pub.Close()
	gx, gi := "bench-alert-x-"+run, "bench-alert-i-"+run
	if err := testkit.SkipBacklog(ctx, brokers, gx, schemas.TopicArticles); err != nil {
		return nil, err
	}
	if err := testkit.SkipBacklog(ctx, brokers, gi, schemas.TopicContracts); err != nil {
		return nil, err
	}
	xin, err := kafka.NewConsumer(cfg, gx, schemas.TopicArticles)
	if err != nil {
		return nil, err
	}
	defer xin.Close()
	iin, err := kafka.NewConsumer(cfg, gi, schemas.TopicContracts)
	if err != nil {
		return nil, err
	}
	defer iin.Close()
	x, err := extractor.New()
	if err != nil {
		return nil, err
	}
	webhook, err := alert.NewWebhookSink(alert.WebhookConfig{URL: hook.URL})
	if err != nil {
		return nil, err
	}
	wh := &timedSink{Sink: webhook}
	outbox := &timedOutbox{Outbox: store}
	disp, err := alert.NewDispatcher(alert.DispatcherConfig{Outbox: outbox, Sinks: []alert.Sink{wh}, Log: log})
	if err != nil {
		return nil, err
	}
	policy, err := alert.NewPolicy(alert.DefaultRules(), disp.SinkNames())
	if err != nil {
		return nil, err
	}
	stored := func(ids []string) {
		at := time.Now()
		for _, id := range ids {
			tl.mu.Lock()
			u := tl.deal[id]
			tl.mu.Unlock()
			tl.mark(u, hopStored, at)
		}
	}
	ts := &timedStore{Store: store}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		in := stampConsumer{xin, tl, hopExtractIn, articleURL}
		out := stampPublisher{pub, tl, hopContract, tl.contractURL}
		_, _ = x.RunStage(sctx, in, out, extractor.StageConfig{Log: log})
	}()
	go func() {
		defer wg.Done()
		in := stampConsumer{iin, tl, hopIndexIn, tl.contractURL}
		ix := app.Indexer{Store: ts, Policy: policy, Dispatcher: disp, Stored: stored, Drain: -1,
			Stage: indexer.StageConfig{BatchSize: 100, FlushInterval: 5 * time.Millisecond, Log: log}}
		_, _ = ix.Run(sctx, in, pub)
	}()
	// Crawl only once both consumers own their partitions: an article
	// published before would wait for the join, which is not alert latency.
	var joined time.Duration
	for _, g := range []struct{ group, topic string }{{gx, schemas.TopicArticles}, {gi, schemas.TopicContracts}} {
		jctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		d, err := testkit.WaitForGroup(jctx, brokers, g.group, g.topic, 1)
		cancel()
		if err != nil {
			return nil, err
		}
		joined = max(joined, d)
	}
	logf("alert latency: consumers joined in %s; %d new hyperscaler deals, crawled at 20 articles/s", joined.Round(time.Millisecond), n)
	c := crawler.New(crawler.Config{}, stampPublisher{pub, tl, hopArticle, articleURL}, log)
	src := crawler.Source{Name: "bench-alert", Feeds: site.FeedURLs(), AllowPrivate: true, Delay: crawler.Duration{Duration: 50 * time.Millisecond}, Parallelism: 1}
	if err := c.Crawl(ctx, []crawler.Source{src}); err != nil {
		return nil, fmt.Errorf("crawl: %w", err)
	}
	alerted := func() int {
		k := 0
		for i := range n {
			if !tl.get(site.ArticleURL(i))[hopWebhook].IsZero() {
				k++
			}
		}
		return k
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && alerted() < n {
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	wg.Wait()

	var total []time.Duration
	var hop [nHops][]time.Duration // hop[k]: from point k-1 to point k
	for i := range n {
		u := site.ArticleURL(i)
		tl.mark(u, hopServed, site.ServedAt(i))
		h := tl.get(u)
		if h[hopServed].IsZero() || h[hopWebhook].IsZero() {
			continue
		}
		total = append(total, h[hopWebhook].Sub(h[hopServed]))
		for k := 1; k < nHops; k++ {
			if !h[k].IsZero() && !h[k-1].IsZero() {
				hop[k] = append(hop[k], h[k].Sub(h[k-1]))
			}
		}
	}
	if trace != "" {
		if err := writeTrace(trace, n, site, tl); err != nil {
			return nil, err
		}
	}
	if len(total) == 0 {
		return nil, fmt.Errorf("no alert arrived at the webhook")
	}
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	var per, slow []string
	for k := 1; k < nHops; k++ {
		if len(hop[k]) > 0 {
			per = append(per, fmt.Sprintf("→ %s %s", hopNames[k], ms(quantile(hop[k], 0.5))))
			slow = append(slow, fmt.Sprintf("→ %s %s", hopNames[k], ms(quantile(hop[k], 0.95))))
		}
	}
	return []row{
		{"alert latency", "fetch → webhook, new hyperscaler deals", fmt.Sprintf("%d of %d alerted (in-process stages on the real Kafka/ES, 20 articles/s; crawl started once both consumer groups had formed, %s)", len(total), n, ms(joined))},
		{"alert latency", "p50 / p95 / p99 / max", fmt.Sprintf("%s / %s / %s / %s", ms(quantile(total, 0.5)), ms(quantile(total, 0.95)), ms(quantile(total, 0.99)), ms(quantile(total, 1)))},
		{"alert latency", "p50 per step", "fetch " + strings.Join(per, " ")},
		{"alert latency", "p95 per step", "fetch " + strings.Join(slow, " ")},
		{"alert latency", "Elasticsearch calls", fmt.Sprintf("indexer upserts %s; dispatcher reads %s, acknowledgements %s, webhook POSTs %s",
			&ts.upsert, &outbox.pending, &outbox.ack, &wh.send)},
	}, nil
}

// writeTrace writes, per article, the milliseconds from its fetch to each point (CSV).
func writeTrace(path string, n int, site *testkit.DealSite, tl *timeline) error {
	var b strings.Builder
	b.WriteString("article,fetched_unix_ms")
	for k := 1; k < nHops; k++ {
		b.WriteString("," + strings.NewReplacer(" ", "_", "+", "and").Replace(hopNames[k]) + "_ms")
	}
	b.WriteString("\n")
	for i := range n {
		h := tl.get(site.ArticleURL(i))
		if h[hopServed].IsZero() {
			continue
		}
		fmt.Fprintf(&b, "%d,%d", i, h[hopServed].UnixMilli())
		for k := 1; k < nHops; k++ {
			if h[k].IsZero() {
				b.WriteString(",")
				continue
			}
			fmt.Fprintf(&b, ",%d", h[k].Sub(h[hopServed]).Milliseconds())
		}
		b.WriteString("\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// quantile returns the q-quantile of ds (q = 1: the largest); it sorts ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

func deleteIndices(store *es.Store, alias string) {
	c := store.Client()
	res, err := c.Indices.Delete([]string{alias + "-v*"})
	if err == nil {
		res.Body.Close()
	}
}
