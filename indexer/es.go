package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/mwledger/mwledger/internal/pipeline"
	"github.com/mwledger/mwledger/schemas"
)

// Alias is the name searches and writes use; the index behind it is versioned.
const (
	Alias        = "mwledger-contracts"
	IndexVersion = "mwledger-contracts-v1"
	templateName = "mwledger-contracts"
)

// ESConfig says how to reach Elasticsearch.
type ESConfig struct {
	// Addresses of the nodes, e.g. http://127.0.0.1:19200. Required.
	Addresses []string
	// Username and Password for basic auth, or APIKey. Default: none.
	Username, Password, APIKey string
	// Timeout of one request. Default 30s.
	Timeout time.Duration
	// DialContext, when set, replaces the dialer (tests refuse non-loopback addresses with it).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Validate names the first bad field.
func (c *ESConfig) Validate() error {
	if len(c.Addresses) == 0 {
		return errors.New("elasticsearch: Addresses is empty (set --es or MWLEDGER_ES, e.g. http://127.0.0.1:19200)")
	}
	for _, a := range c.Addresses {
		if !strings.HasPrefix(a, "http://") && !strings.HasPrefix(a, "https://") {
			return fmt.Errorf("elasticsearch: address %q must start with http:// or https://", a)
		}
	}
	if c.APIKey != "" && c.Username != "" {
		return errors.New("elasticsearch: set either APIKey or Username/Password, not both")
	}
	return nil
}

// ESStore is the ledger in Elasticsearch.
type ESStore struct {
	es    *elasticsearch.Client
	alias string
}

var _ Store = (*ESStore)(nil)

// NewESStore connects (lazily) to Elasticsearch.
func NewESStore(cfg ESConfig) (*ESStore, error) {
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
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: cfg.Addresses,
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		// The client retries whole requests on these; per-item bulk retries are ours.
		RetryOnStatus: []int{429, 502, 503, 504},
		MaxRetries:    3,
		RetryBackoff:  func(attempt int) time.Duration { return time.Duration(attempt*attempt) * 100 * time.Millisecond },
		Transport: &http.Transport{
			DialContext:           dial,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   8,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	return &ESStore{es: es, alias: Alias}, nil
}

// Client exposes the underlying client (tests and search use it).
func (s *ESStore) Client() *elasticsearch.Client { return s.es }

// EnsureIndex installs the index template and creates the first versioned index
// behind the alias when the alias does not exist yet.
func (s *ESStore) EnsureIndex(ctx context.Context) error {
	res, err := s.es.Indices.PutIndexTemplate(templateName, bytes.NewReader(schemas.IndexTemplate()), s.es.Indices.PutIndexTemplate.WithContext(ctx))
	if err := check(res, err, "installing index template"); err != nil {
		return err
	}
	res, err = s.es.Indices.ExistsAlias([]string{s.alias}, s.es.Indices.ExistsAlias.WithContext(ctx))
	if err != nil {
		return pipeline.Retryable("index", "es_unavailable", fmt.Errorf("checking alias %s: %w", s.alias, err))
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		return nil
	}
	body := fmt.Sprintf(`{"aliases":{%q:{"is_write_index":true}}}`, s.alias)
	res, err = s.es.Indices.Create(IndexVersion, s.es.Indices.Create.WithBody(strings.NewReader(body)), s.es.Indices.Create.WithContext(ctx))
	if err == nil && res.StatusCode == http.StatusBadRequest {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if bytes.Contains(b, []byte("resource_already_exists_exception")) {
			return nil // created by another indexer at the same moment
		}
		return fmt.Errorf("creating index %s: %s", IndexVersion, b)
	}
	return check(res, err, "creating index "+IndexVersion)
}

// check turns a response into an error (retryable for 429, 5xx and transport errors).
func check(res *esapi.Response, err error, what string) error {
	if err != nil {
		return pipeline.Retryable("index", "es_unavailable", fmt.Errorf("%s: %w", what, err))
	}
	defer res.Body.Close()
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		e := fmt.Errorf("%s: %s: %s", what, res.Status(), b)
		if res.StatusCode == 429 || res.StatusCode >= 500 {
			return pipeline.Retryable("index", "es_unavailable", e)
		}
		return pipeline.Permanent("index", "es_rejected", e)
	}
	return nil
}

// mergeScript merges a record into the stored deal in Elasticsearch, the same way
// merge does for the embedded store: fields from the record, the source list
// kept, one entry per URL, sorted.
const mergeScript = `
def srcs = new ArrayList();
if (ctx._source.containsKey('sources') && ctx._source.sources != null) {
  for (s in ctx._source.sources) { if (s.url != params.src.url) { srcs.add(s); } }
}
srcs.add(params.src);
srcs.sort((a, b) -> a.url.compareTo(b.url));
ctx._source.clear();
ctx._source.putAll(params.rec);
ctx._source.sources = srcs;
ctx._source.indexed_at = params.now;
`

// Upsert writes the records in one bulk request and reports per record.
func (s *ESStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	errs := make([]error, len(cs))
	if len(cs) == 0 {
		return errs
	}
	var buf bytes.Buffer
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i, c := range cs {
		rec, err := json.Marshal(c)
		if err != nil {
			errs[i] = pipeline.Permanent("index", "encode", err)
			continue
		}
		src, _ := json.Marshal(sourceOf(c))
		meta := fmt.Sprintf(`{"update":{"_index":%q,"_id":%q,"retry_on_conflict":5}}`, s.alias, c.ID)
		buf.WriteString(meta)
		buf.WriteByte('\n')
		fmt.Fprintf(&buf, `{"scripted_upsert":true,"upsert":{},"script":{"lang":"painless","source":%q,"params":{"rec":%s,"src":%s,"now":%q}}}`,
			mergeScript, rec, src, now)
		buf.WriteByte('\n')
	}
	res, err := s.es.Bulk(bytes.NewReader(buf.Bytes()), s.es.Bulk.WithContext(ctx))
	if err := check0(res, err); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	defer res.Body.Close()
	var br struct {
		Items []map[string]struct {
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&br); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = pipeline.Retryable("index", "es_bad_response", fmt.Errorf("decoding bulk response: %w", err))
			}
		}
		return errs
	}
	// Items come back in request order, one per record we sent.
	k := 0
	for i := range cs {
		if errs[i] != nil {
			continue
		}
		if k >= len(br.Items) {
			errs[i] = pipeline.Retryable("index", "es_bad_response", errors.New("bulk response has fewer items than the request"))
			continue
		}
		for _, it := range br.Items[k] {
			switch {
			case it.Status >= 200 && it.Status < 300:
			case it.Status == 429 || it.Status >= 500:
				errs[i] = pipeline.Retryable("index", "es_unavailable", fmt.Errorf("deal %s: status %d: %s", cs[i].ID, it.Status, it.Error))
			default:
				errs[i] = pipeline.Permanent("index", "es_rejected", fmt.Errorf("deal %s: status %d: %s", cs[i].ID, it.Status, it.Error))
			}
		}
		k++
	}
	return errs
}

func check0(res *esapi.Response, err error) error {
	if err != nil {
		return pipeline.Retryable("index", "es_unavailable", fmt.Errorf("bulk request: %w", err))
	}
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		e := fmt.Errorf("bulk request: %s: %s", res.Status(), b)
		if res.StatusCode == 429 || res.StatusCode >= 500 {
			return pipeline.Retryable("index", "es_unavailable", e)
		}
		return pipeline.Permanent("index", "es_rejected", e)
	}
	return nil
}

// Refresh makes what was written searchable now (tests and batch runs).
func (s *ESStore) Refresh(ctx context.Context) error {
	res, err := s.es.Indices.Refresh(s.es.Indices.Refresh.WithIndex(s.alias), s.es.Indices.Refresh.WithContext(ctx))
	return check(res, err, "refreshing "+s.alias)
}

// Search runs a query in Elasticsearch.
func (s *ESStore) Search(ctx context.Context, q Query) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	body, err := json.Marshal(esQuery(q))
	if err != nil {
		return Result{}, err
	}
	res, err := s.es.Search(s.es.Search.WithIndex(s.alias), s.es.Search.WithBody(bytes.NewReader(body)),
		s.es.Search.WithContext(ctx), s.es.Search.WithTrackTotalHits(true))
	if err != nil {
		return Result{}, fmt.Errorf("searching %s: %w", s.alias, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return Result{}, fmt.Errorf("searching %s: %s: %s", s.alias, res.Status(), b)
	}
	var sr struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				Source Deal `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
		return Result{}, fmt.Errorf("decoding search response: %w", err)
	}
	out := Result{Total: sr.Hits.Total.Value, Deals: []Deal{}}
	for _, h := range sr.Hits.Hits {
		out.Deals = append(out.Deals, h.Source)
	}
	return out, nil
}

type m = map[string]any

// esQuery translates a Query; it must mean what Query.matches means.
func esQuery(q Query) m {
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
		}, "minimum_should_match": 1}})
	}
	if q.ContractType != "" {
		filter = append(filter, m{"term": m{"contract_type": q.ContractType}})
	}
	if q.HyperscalerOnly {
		filter = append(filter, m{"term": m{"counterparty.hyperscaler": true}})
	}
	if q.MinMW > 0 || q.MaxMW > 0 {
		r := m{}
		if q.MinMW > 0 {
			r["gte"] = q.MinMW
		}
		if q.MaxMW > 0 {
			r["lte"] = q.MaxMW
		}
		filter = append(filter, m{"range": m{"capacity_mw": r}})
	}
	var must []any
	if q.Text != "" {
		must = append(must, m{"bool": m{"should": []any{
			m{"multi_match": m{"query": q.Text, "fields": []string{"operator.name.text", "counterparty.name.text", "counterparty.descriptor.text", "evidence"}, "operator": "and"}},
			m{"nested": m{"path": "sources", "query": m{"multi_match": m{"query": q.Text, "fields": []string{"sources.title", "sources.evidence"}, "operator": "and"}}}},
		}, "minimum_should_match": 1}})
	}
	field := map[string]string{"": "total_value_usd", "value": "total_value_usd", "mw": "capacity_mw", "usd_per_mw_year": "usd_per_mw_year", "announced": "announced_on"}[q.Sort]
	return m{
		"query": m{"bool": m{"filter": filter, "must": must}},
		"sort":  []any{m{field: m{"order": "desc", "missing": "_last"}}, m{"id": "asc"}},
		"size":  q.size(),
		"from":  q.From,
	}
}
