package es

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// Alias is the name searches and writes use; the index behind it is versioned
// (IndexPrefix + N). MappingVersion is the first version whose mapping this code
// writes: an alias on an older index is migrated by a reindex (reindex.go).
const (
	Alias          = "mwledger-contracts"
	IndexPrefix    = Alias + "-v"
	MappingVersion = 6
	IndexVersion   = IndexPrefix + "4"
	templateName   = "mwledger-contracts"
)

// Config says how to reach Elasticsearch.
type Config struct {
	// Addresses of the nodes, e.g. http://127.0.0.1:19200. Required.
	Addresses []string
	// Username and Password for basic auth, or APIKey (the base64 "encoded" form
	// Elasticsearch returns, sent as "Authorization: ApiKey …"). Never logged,
	// never in an error message. Default: none.
	Username, Password, APIKey string
	// CAFile is a PEM file of the certificate authorities trusted for https://
	// addresses, instead of the system roots (a self-managed cluster's
	// config/certs/http_ca.crt). Default: the system roots.
	CAFile string
	// CertFingerprint pins the server's certificate: the SHA-256 fingerprint, in
	// hex (colons allowed), of its certificate or of a CA in the chain it presents,
	// as Elasticsearch prints it at its first start. Without CAFile it replaces
	// the verification against the roots (a pinned CA must still have signed the
	// server's certificate; host names are not checked); with CAFile both apply.
	// Default: none.
	CertFingerprint string
	// Timeout of one request. Default 30s.
	Timeout time.Duration
	// DialContext, when set, replaces the dialer (tests refuse non-loopback addresses with it).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Log receives the store's logs (migrations, reindex). Default: discard.
	Log *slog.Logger
	// MaxCandidates bounds the deals one search for identity candidates may
	// return: more is the permanent error too_many_candidates, never a
	// silent cut. Default DefaultMaxCandidates (10,000).
	MaxCandidates int
	// Alias is the alias searches and writes use; its indices are named
	// Alias + "-vN" (the index template matches mwledger-contracts-*, so an alias
	// must start with "mwledger-contracts"). Default mwledger-contracts.
	Alias string
	// OnBulk, when set, hears of every bulk request sent (each attempt): its
	// time until the response headers and its HTTP status (0: no response).
	// Metrics. Default: none.
	OnBulk func(took time.Duration, status int)
	// OnRequest, when set, hears of every request sent (each attempt): its
	// kind (RequestKind), its time until the response headers and its HTTP
	// status (0: no response). Metrics: how many searches, refreshes, bulk
	// requests and mgets a batch costs. Default: none.
	OnRequest func(kind string, took time.Duration, status int)
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	if len(c.Addresses) == 0 {
		return errors.New("elasticsearch: Addresses is empty (set --es or MWLEDGER_ES, e.g. http://127.0.0.1:19200)")
	}
	anyHTTPS := false
	for _, a := range c.Addresses {
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("elasticsearch: address %q must be an http:// or https:// URL", redactURL(a))
		}
		if u.User != nil {
			return fmt.Errorf("elasticsearch: address %s carries credentials: give them as Username/Password or APIKey (MWLEDGER_ES_USERNAME, MWLEDGER_ES_PASSWORD, MWLEDGER_ES_API_KEY), which are never printed", u.Redacted())
		}
		anyHTTPS = anyHTTPS || u.Scheme == "https"
	}
	if (c.CAFile != "" || c.CertFingerprint != "") && !anyHTTPS {
		return errors.New("elasticsearch: CAFile or CertFingerprint is set but no address is https://")
	}
	if c.CertFingerprint != "" {
		if _, err := parseFingerprint(c.CertFingerprint); err != nil {
			return err
		}
	}
	if (c.Username == "") != (c.Password == "") {
		return errors.New("elasticsearch: give both Username and Password (MWLEDGER_ES_USERNAME, MWLEDGER_ES_PASSWORD), or neither")
	}
	if c.Alias != "" && !strings.HasPrefix(c.Alias, Alias) {
		return fmt.Errorf("elasticsearch: Alias %q must start with %q (the index template's pattern)", c.Alias, Alias)
	}
	if c.APIKey != "" && c.Username != "" {
		return errors.New("elasticsearch: set either APIKey or Username/Password, not both")
	}
	return nil
}

// Store is the ledger in Elasticsearch.
type Store struct {
	es            *elasticsearch.Client
	alias         string
	log           *slog.Logger
	maxCandidates int

	mu    sync.Mutex
	dirty bool // written since the last refresh: searches for candidates must refresh first
	// refreshing, when not nil, receives the result of a refresh that
	// Prepare started (Upsert waits for it before its searches).
	refreshing chan error
	policy     ledger.AlertPolicy
	notify     func(dealIDs []string)
}

var (
	_ ledger.Store            = (*Store)(nil)
	_ ledger.Outbox           = (*Store)(nil)
	_ ledger.Scanner          = (*Store)(nil)
	_ ledger.SummaryScanner   = (*Store)(nil)
	_ ledger.NativeAggregator = (*Store)(nil)
	_ ledger.Preparer         = (*Store)(nil)
)

// New connects (lazily) to Elasticsearch.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	dial := dialer.DialContext
	if cfg.DialContext != nil {
		dial = cfg.DialContext
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Username != "" || cfg.APIKey != "" {
		for _, a := range cfg.Addresses {
			if u, _ := url.Parse(a); u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
				log.Warn("elasticsearch credentials are sent in clear text: use an https:// address", "address", a)
			}
		}
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: cfg.Addresses,
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		// The client retries whole requests on these; per-item bulk retries are ours.
		RetryOnStatus: []int{429, 502, 503, 504},
		MaxRetries:    3,
		RetryBackoff:  func(attempt int) time.Duration { return time.Duration(attempt*attempt) * 100 * time.Millisecond },
		// Refused credentials and untrusted certificates do not get better by
		// themselves within a request: the caller's backoff retries them.
		RetryOnError: func(_ *http.Request, err error) bool { return !isConfigError(err) },
		Transport: newESTransport(&http.Transport{
			DialContext:           dial,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   8,
			TLSClientConfig:       tlsCfg,
			TLSHandshakeTimeout:   10 * time.Second,
		}, cfg),
	})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	alias := cfg.Alias
	if alias == "" {
		alias = Alias
	}
	maxCand := cfg.MaxCandidates
	if maxCand <= 0 {
		maxCand = DefaultMaxCandidates
	}
	return &Store{es: es, alias: alias, log: log, maxCandidates: maxCand}, nil
}

// SetAlerts makes every Upsert evaluate policy on the deals it changes and store
// the alerts it raises in the same write; notify (may be nil) is called with the
// ids of the deals that got new alerts, after they were written.
func (s *Store) SetAlerts(policy ledger.AlertPolicy, notify func(dealIDs []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy, s.notify = policy, notify
}

// AliasName is the alias this store reads and writes.
func (s *Store) AliasName() string { return s.alias }

// indexName is the name of version n of the index behind the alias.
func (s *Store) indexName(n int) string { return s.alias + "-v" + strconv.Itoa(n) }

// Client exposes the underlying client (tests and search use it).
func (s *Store) Client() *elasticsearch.Client { return s.es }

// EnsureIndex installs the index template and creates the first versioned index
// behind the alias when the alias does not exist yet. When the alias points to
// an index older than MappingVersion, it migrates: a reindex into the next
// version, then an atomic alias swap (see Reindex).
func (s *Store) EnsureIndex(ctx context.Context) error {
	res, err := s.es.Indices.PutIndexTemplate(templateName, bytes.NewReader(schemas.IndexTemplate()), s.es.Indices.PutIndexTemplate.WithContext(ctx))
	if err := check(res, err, "installing index template"); err != nil {
		return err
	}
	cur, err := s.aliasIndex(ctx)
	if err != nil {
		return err
	}
	if cur != "" {
		if v := s.indexVersion(cur); v < MappingVersion {
			s.log.Info("index mapping is older than this indexer's, migrating", "index", cur, "mapping_version", MappingVersion)
			_, err := s.Reindex(ctx)
			return err
		}
		return nil
	}
	body := fmt.Sprintf(`{"aliases":{%q:{"is_write_index":true}}}`, s.alias)
	first := s.indexName(MappingVersion)
	res, err = s.es.Indices.Create(first, s.es.Indices.Create.WithBody(strings.NewReader(body)), s.es.Indices.Create.WithContext(ctx))
	if err == nil && res.StatusCode == http.StatusBadRequest {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if bytes.Contains(b, []byte("resource_already_exists_exception")) {
			return nil // created by another indexer at the same moment
		}
		return fmt.Errorf("creating index %s: %s", first, b)
	}
	return check(res, err, "creating index "+first)
}

// check turns a response into an error (retryable for 429, 5xx and transport errors).
func check(res *esapi.Response, err error, what string) error {
	if err != nil {
		return stream.Retryable("index", "es_unavailable", fmt.Errorf("%s: %w", what, err))
	}
	defer res.Body.Close()
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		e := fmt.Errorf("%s: %s: %s", what, res.Status(), b)
		if res.StatusCode == 429 || res.StatusCode >= 500 {
			return stream.Retryable("index", "es_unavailable", e)
		}
		return stream.Permanent("index", "es_rejected", e)
	}
	return nil
}

func check0(res *esapi.Response, err error) error {
	if err != nil {
		return stream.Retryable("index", "es_unavailable", fmt.Errorf("bulk request: %w", err))
	}
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		e := fmt.Errorf("bulk request: %s: %s", res.Status(), b)
		if res.StatusCode == 429 || res.StatusCode >= 500 {
			return stream.Retryable("index", "es_unavailable", e)
		}
		return stream.Permanent("index", "es_rejected", e)
	}
	return nil
}

// Refresh makes what was written searchable now (tests and batch runs).
func (s *Store) Refresh(ctx context.Context) error {
	res, err := s.es.Indices.Refresh(s.es.Indices.Refresh.WithIndex(s.alias), s.es.Indices.Refresh.WithContext(ctx))
	return check(res, err, "refreshing "+s.alias)
}

// Search runs a query in Elasticsearch.
func (s *Store) Search(ctx context.Context, q ledger.Query) (ledger.Result, error) {
	if err := q.Validate(); err != nil {
		return ledger.Result{}, err
	}
	total, hits, err := s.searchPage(ctx, esQuery(q), true)
	if err != nil {
		return ledger.Result{}, err
	}
	out := ledger.Result{Total: total, Deals: []ledger.Deal{}}
	for _, h := range hits {
		out.Deals = append(out.Deals, h.Source)
	}
	return out, nil
}

// Scan calls fn with every deal the query matches, in the query's order,
// ignoring Size and From: pages of scanBatch deals with search_after (no
// result-window limit). Aggregations read their deals with it.
func (s *Store) Scan(ctx context.Context, q ledger.Query, fn func(ledger.Deal) error) error {
	return s.scan(ctx, q, m{"excludes": []string{"sources.claims", "alerts", "record_ids"}}, false, fn)
}

// ScanSummary is Scan of ledger.SummaryFields only (what aggregations read), in id
// order rather than the query's, in larger pages.
func (s *Store) ScanSummary(ctx context.Context, q ledger.Query, fn func(ledger.Deal) error) error {
	return s.scan(ctx, q, m{"includes": ledger.SummaryFields}, true, fn)
}

func (s *Store) scan(ctx context.Context, q ledger.Query, source m, byID bool, fn func(ledger.Deal) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	body := esQuery(q)
	delete(body, "from")
	batch := scanBatch
	if byID {
		body["sort"] = []any{m{"id": "asc"}}
		batch = 5 * scanBatch
	}
	body["size"] = batch
	body["_source"] = source
	for {
		_, hits, err := s.searchPage(ctx, body, false)
		if err != nil {
			return err
		}
		for _, h := range hits {
			if err := fn(h.Source); err != nil {
				return err
			}
		}
		if len(hits) < batch {
			return nil
		}
		body["search_after"] = hits[len(hits)-1].Sort
	}
}

const scanBatch = 1000

type esHit struct {
	Source ledger.Deal `json:"_source"`
	Sort   []any       `json:"sort"`
}

func (s *Store) searchPage(ctx context.Context, query m, trackTotal bool) (int, []esHit, error) {
	body, err := json.Marshal(query)
	if err != nil {
		return 0, nil, err
	}
	res, err := s.es.Search(s.es.Search.WithIndex(s.alias), s.es.Search.WithBody(bytes.NewReader(body)),
		s.es.Search.WithContext(ctx), s.es.Search.WithTrackTotalHits(trackTotal))
	if err != nil {
		return 0, nil, fmt.Errorf("searching %s: %w", s.alias, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return 0, nil, fmt.Errorf("searching %s: %s: %s", s.alias, res.Status(), b)
	}
	var sr struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []esHit `json:"hits"`
		} `json:"hits"`
	}
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(&sr); err != nil {
		return 0, nil, fmt.Errorf("decoding search response: %w", err)
	}
	return sr.Hits.Total.Value, sr.Hits.Hits, nil
}

type m = map[string]any

// esQuery translates an ledger.Query; it must mean what the embedded store's
// Query.matches means.
func esQuery(q ledger.Query) m {
	var filter []any
	if q.Operator != "" {
		filter = append(filter, m{"bool": m{"should": []any{
			m{"term": m{"operator.name": m{"value": q.Operator, "case_insensitive": true}}},
			m{"term": m{"operator.ticker": m{"value": q.Operator, "case_insensitive": true}}},
		}, "minimum_should_match": 1}})
	}
	if q.Counterparty != "" {
		filter = append(filter, m{"bool": m{"should": []any{
			m{"term": m{"counterparty.name": m{"value": q.Counterparty, "case_insensitive": true}}},
			m{"bool": m{
				"must":     []any{m{"term": m{"counterparty.descriptor": m{"value": q.Counterparty, "case_insensitive": true}}}},
				"must_not": []any{m{"exists": m{"field": "counterparty.name"}}},
			}},
			m{"nested": m{"path": "provenance", "query": m{"bool": m{"filter": []any{
				m{"term": m{"provenance.field": "counterparty"}},
				m{"bool": m{"should": []any{
					m{"term": m{"provenance.value": m{"value": q.Counterparty, "case_insensitive": true}}},
					m{"term": m{"provenance.value": m{"value": ledger.UndisclosedPrefix + q.Counterparty, "case_insensitive": true}}},
				}, "minimum_should_match": 1}},
			}}}}},
		}, "minimum_should_match": 1}})
	}
	if q.ContractType != "" {
		filter = append(filter, m{"term": m{schemas.FieldContractType: q.ContractType}})
	}
	if q.HyperscalerOnly {
		filter = append(filter, m{"term": m{"counterparty.hyperscaler": true}})
	}
	filter = appendRange(filter, schemas.FieldCapacityMW, q.MinMW, q.MaxMW)
	filter = appendRange(filter, schemas.FieldUSDPerMWYear, q.MinUSDPerMWYear, q.MaxUSDPerMWYear)
	filter = appendRange(filter, schemas.FieldTotalValueUSD, q.MinValue, q.MaxValue)
	if q.AnnouncedFrom != "" || q.AnnouncedTo != "" {
		r := m{"format": "yyyy-MM-dd"}
		from, to := q.AnnouncedDates()
		if from != "" {
			r["gte"] = from
		}
		if to != "" {
			r["lte"] = to
		}
		filter = append(filter, m{"range": m{schemas.FieldAnnouncedOn: r}})
	}
	if q.Location != "" {
		filter = append(filter, m{"wildcard": m{"location": m{"value": "*" + wildcardEscape(q.Location) + "*", "case_insensitive": true}}})
	}
	if q.Hardware != "" {
		filter = append(filter, m{"wildcard": m{"hardware": m{"value": "*" + wildcardEscape(q.Hardware) + "*", "case_insensitive": true}}})
	}
	if q.NeedsReview {
		filter = append(filter, m{"exists": m{"field": "review_reasons"}})
	}
	var must []any
	// Every word somewhere: in a party name or the deal's evidence, or in a
	// source's title or evidence (Query.matches).
	for _, w := range q.TextWords() {
		must = append(must, m{"bool": m{"should": []any{
			m{"multi_match": m{"query": w, "fields": []string{"operator.name.text", "counterparty.name.text", "counterparty.descriptor.text", "evidence"}}},
			m{"nested": m{"path": "sources", "query": m{"multi_match": m{"query": w, "fields": []string{"sources.title", "sources.evidence"}}}}},
		}, "minimum_should_match": 1}})
	}
	field := map[string]string{"": schemas.FieldTotalValueUSD, "value": schemas.FieldTotalValueUSD, "mw": schemas.FieldCapacityMW, schemas.FieldUSDPerMWYear: schemas.FieldUSDPerMWYear,
		"announced": schemas.FieldAnnouncedOn, "confidence": "confidence"}[q.Sort]
	order := "desc"
	if q.Order == "asc" {
		order = "asc"
	}
	return m{
		"query": m{"bool": m{"filter": filter, "must": must}},
		"sort":  []any{m{field: m{"order": order, "missing": "_last"}}, m{"id": "asc"}},
		"size":  q.PageSize(),
		"from":  q.From,
	}
}

func appendRange(filter []any, field string, lo, hi float64) []any {
	if lo <= 0 && hi <= 0 {
		return filter
	}
	r := m{}
	if lo > 0 {
		r["gte"] = lo
	}
	if hi > 0 {
		r["lte"] = hi
	}
	return append(filter, m{"range": m{field: r}})
}

// wildcardEscape quotes the wildcard query's special characters.
func wildcardEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`).Replace(s)
}
