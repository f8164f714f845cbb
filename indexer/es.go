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

// Upsert merges the records into their deals and writes them in one bulk request,
// reporting per record. The merge runs here, in Go (the same merge as the embedded
// store), with optimistic concurrency: each deal is read with its sequence number
// and written only if nobody changed it meanwhile; a conflict is read and merged
// again. (The integ-test distribution of Elasticsearch has no Painless, so a
// scripted upsert is not an option, and this way both stores share one merge.)
func (s *ESStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	errs := make([]error, len(cs))
	// Records of one deal in one batch are folded together first, in order.
	byID := map[string][]int{}
	var ids []string
	for i, c := range cs {
		if _, ok := byID[c.ID]; !ok {
			ids = append(ids, c.ID)
		}
		byID[c.ID] = append(byID[c.ID], i)
	}
	todo := ids
	for attempt := 0; len(todo) > 0; attempt++ {
		if attempt == 5 {
			for _, id := range todo {
				for _, i := range byID[id] {
					errs[i] = pipeline.Retryable("index", "conflict", fmt.Errorf("deal %s: still conflicting after %d attempts", id, attempt))
				}
			}
			break
		}
		conflicts, err := s.writeDeals(ctx, todo, byID, cs, errs)
		if err != nil {
			for _, id := range todo {
				for _, i := range byID[id] {
					errs[i] = err
				}
			}
			break
		}
		todo = conflicts
	}
	return errs
}

type stored struct {
	deal          *Deal
	seqNo, primTm int64
}

// writeDeals reads, merges and writes the deals in ids; it returns the ids that
// hit a version conflict and must be tried again.
func (s *ESStore) writeDeals(ctx context.Context, ids []string, byID map[string][]int, cs []schemas.Contract, errs []error) ([]string, error) {
	current, err := s.read(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	var buf bytes.Buffer
	var sent []string
	for _, id := range ids {
		cur := current[id]
		d := cur.deal
		for _, i := range byID[id] {
			m := merge(d, cs[i], now)
			d = &m
		}
		doc, err := json.Marshal(d)
		if err != nil {
			for _, i := range byID[id] {
				errs[i] = pipeline.Permanent("index", "encode", err)
			}
			continue
		}
		if cur.deal == nil {
			fmt.Fprintf(&buf, `{"create":{"_index":%q,"_id":%q}}`, s.alias, id)
		} else {
			fmt.Fprintf(&buf, `{"index":{"_index":%q,"_id":%q,"if_seq_no":%d,"if_primary_term":%d}}`, s.alias, id, cur.seqNo, cur.primTm)
		}
		buf.WriteByte('\n')
		buf.Write(doc)
		buf.WriteByte('\n')
		sent = append(sent, id)
	}
	if len(sent) == 0 {
		return nil, nil
	}
	res, err := s.es.Bulk(bytes.NewReader(buf.Bytes()), s.es.Bulk.WithContext(ctx))
	if err := check0(res, err); err != nil {
		return nil, err
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
		return nil, pipeline.Retryable("index", "es_bad_response", fmt.Errorf("decoding bulk response: %w", err))
	}
	if len(br.Items) != len(sent) {
		return nil, pipeline.Retryable("index", "es_bad_response", fmt.Errorf("bulk response has %d items for %d requests", len(br.Items), len(sent)))
	}
	var conflicts []string
	for k, id := range sent {
		for _, it := range br.Items[k] {
			var e error
			switch {
			case it.Status >= 200 && it.Status < 300:
			case it.Status == http.StatusConflict:
				conflicts = append(conflicts, id)
			case it.Status == 429 || it.Status >= 500:
				e = pipeline.Retryable("index", "es_unavailable", fmt.Errorf("deal %s: status %d: %s", id, it.Status, it.Error))
			default:
				e = pipeline.Permanent("index", "es_rejected", fmt.Errorf("deal %s: status %d: %s", id, it.Status, it.Error))
			}
			for _, i := range byID[id] {
				errs[i] = e
			}
		}
	}
	return conflicts, nil
}

// read fetches the stored deals with their sequence numbers.
func (s *ESStore) read(ctx context.Context, ids []string) (map[string]stored, error) {
	body, _ := json.Marshal(map[string]any{"ids": ids})
	res, err := s.es.Mget(bytes.NewReader(body), s.es.Mget.WithIndex(s.alias), s.es.Mget.WithContext(ctx))
	if err := check0(res, err); err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var mr struct {
		Docs []struct {
			ID          string          `json:"_id"`
			Found       bool            `json:"found"`
			SeqNo       int64           `json:"_seq_no"`
			PrimaryTerm int64           `json:"_primary_term"`
			Source      json.RawMessage `json:"_source"`
			Error       json.RawMessage `json:"error"`
		} `json:"docs"`
	}
	if err := json.NewDecoder(res.Body).Decode(&mr); err != nil {
		return nil, pipeline.Retryable("index", "es_bad_response", fmt.Errorf("decoding mget response: %w", err))
	}
	out := map[string]stored{}
	for _, d := range mr.Docs {
		if len(d.Error) > 0 {
			return nil, pipeline.Retryable("index", "es_unavailable", fmt.Errorf("reading deal %s: %s", d.ID, d.Error))
		}
		if !d.Found {
			continue
		}
		var deal Deal
		if err := json.Unmarshal(d.Source, &deal); err != nil {
			deal = Deal{} // an unreadable stored deal is replaced, as in the embedded store
		}
		out[d.ID] = stored{&deal, d.SeqNo, d.PrimaryTerm}
	}
	return out, nil
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
