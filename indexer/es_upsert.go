package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// maxConflictRounds bounds how often a batch is re-read after version conflicts.
const maxConflictRounds = 5

// Upsert resolves each record to its deal (identity.go), merges it (merge.go),
// raises alerts, and writes the changed deals in one bulk request, reporting per
// record. The deals of the batch's operators are read first with their sequence
// numbers, and each is written only if nobody changed it meanwhile (create for a
// new deal): on a conflict, the records of that operator are resolved and merged
// again against a fresh read. (The integ-test Elasticsearch has no Painless,
// and this way both stores share one merge.) The alerts a change raises are part
// of the same conditional write, so they exist exactly when the change does.
func (s *ESStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	errs := make([]error, len(cs))
	todo := make([]int, len(cs))
	for i := range cs {
		todo[i] = i
	}
	for round := 0; len(todo) > 0; round++ {
		if round == maxConflictRounds {
			for _, i := range todo {
				errs[i] = stream.Retryable("index", "conflict", fmt.Errorf("deal of record %s: still conflicting after %d attempts", cs[i].ID, round))
			}
			break
		}
		redo, err := s.upsertOnce(ctx, cs, todo, errs)
		if err != nil {
			for _, i := range todo {
				errs[i] = err
			}
			break
		}
		todo = redo
	}
	return errs
}

type versioned struct{ seqNo, primTerm int64 }

// prepare starts, in the background, the refresh the next Upsert needs when
// anything was written since the last one, so that Elasticsearch refreshes
// while the stage decodes the batch. The stage calls it as soon as it has a
// batch; what is written after it started is refreshed by Upsert itself.
func (s *ESStore) prepare(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty || s.refreshing != nil {
		return
	}
	s.dirty = false
	done := make(chan error, 1)
	s.refreshing = done
	go func() { done <- s.Refresh(ctx) }()
}

// upsertOnce handles the records todo (indexes into cs) and returns those to try again.
func (s *ESStore) upsertOnce(ctx context.Context, cs []schemas.Contract, todo []int, errs []error) ([]int, error) {
	// Candidates are found by search, which sees only refreshed writes: wait
	// for the refresh prepare started, and refresh (again) if anything was
	// written since it started.
	s.mu.Lock()
	started := s.refreshing
	s.refreshing = nil
	s.mu.Unlock()
	if started != nil {
		if err := <-started; err != nil {
			s.mu.Lock()
			s.dirty = true
			s.mu.Unlock()
			return nil, err
		}
	}
	s.mu.Lock()
	dirty, policy, notify := s.dirty, s.policy, s.notify
	s.dirty = false
	s.mu.Unlock()
	if dirty {
		if err := s.Refresh(ctx); err != nil {
			s.mu.Lock()
			s.dirty = true
			s.mu.Unlock()
			return nil, err
		}
	}
	recs := make([]schemas.Contract, len(todo))
	for k, i := range todo {
		recs[k] = cs[i]
	}
	w, versions, err := s.loadWorking(ctx, recs)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	recordsOf := map[string][]int{} // deal id → records merged into it
	for _, i := range todo {
		id := w.apply(cs[i], now)
		recordsOf[id] = append(recordsOf[id], i)
	}
	write := w.finish(policy, now)
	for _, i := range todo {
		errs[i] = nil
	}
	if len(write) == 0 {
		return nil, nil
	}
	docs := make([][]byte, len(write))
	docErrs := make([]error, len(write))
	parallel(len(write), func(k int) { docs[k], docErrs[k] = ESDocument(w.deals[write[k]]) })
	var sent []string // the deals sent, in order
	for k, id := range write {
		if docErrs[k] != nil {
			for _, i := range recordsOf[id] {
				errs[i] = stream.Permanent("index", "encode", docErrs[k])
			}
			continue
		}
		sent = append(sent, id)
	}
	if len(sent) == 0 {
		return nil, nil
	}
	docOf := make(map[string][]byte, len(write))
	for k, id := range write {
		docOf[id] = docs[k]
	}
	// Whatever happens to the request, some of it may be written: the next
	// candidate searches must refresh first.
	s.mu.Lock()
	s.dirty = true
	s.mu.Unlock()
	var buf bytes.Buffer
	for _, id := range sent {
		if v, ok := versions[id]; ok {
			fmt.Fprintf(&buf, `{"index":{"_index":%q,"_id":%q,"if_seq_no":%d,"if_primary_term":%d}}`, s.alias, id, v.seqNo, v.primTerm)
		} else {
			fmt.Fprintf(&buf, `{"create":{"_index":%q,"_id":%q}}`, s.alias, id)
		}
		buf.WriteByte('\n')
		buf.Write(docOf[id])
		buf.WriteByte('\n')
	}
	items, err := s.bulk(ctx, buf.Bytes(), len(sent))
	if err != nil {
		return nil, err
	}
	conflictOps := map[string]bool{}
	var alerted []string
	for k, id := range sent {
		it := items[k]
		var e error
		switch {
		case it.Status >= 200 && it.Status < 300:
			if len(w.deals[id].Alerts) > alertCount(w.before[id]) {
				alerted = append(alerted, id)
			}
		case it.Status == http.StatusConflict:
			conflictOps[schemas.Key(w.deals[id].Operator.Name)] = true
		case it.Status == 429 || it.Status >= 500:
			e = stream.Retryable("index", "es_unavailable", fmt.Errorf("deal %s: status %d: %s", id, it.Status, it.Error))
		default:
			e = stream.Permanent("index", "es_rejected", fmt.Errorf("deal %s: status %d: %s", id, it.Status, it.Error))
		}
		for _, i := range recordsOf[id] {
			errs[i] = e
		}
	}
	var redo []int
	for _, i := range todo {
		if conflictOps[schemas.Key(cs[i].Operator.Name)] {
			redo = append(redo, i)
		}
	}
	if len(alerted) > 0 && notify != nil {
		notify(alerted)
	}
	return redo, nil
}

func alertCount(d *Deal) int {
	if d == nil {
		return 0
	}
	return len(d.Alerts)
}

type bulkItem struct {
	ID     string          `json:"_id"`
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// bulk sends a bulk body of n actions and returns their results in order.
func (s *ESStore) bulk(ctx context.Context, body []byte, n int) ([]bulkItem, error) {
	res, err := s.es.Bulk(bytes.NewReader(body), s.es.Bulk.WithContext(ctx))
	if err := check0(res, err); err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var br struct {
		Items []map[string]bulkItem `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&br); err != nil {
		return nil, stream.Retryable("index", "es_bad_response", fmt.Errorf("decoding bulk response: %w", err))
	}
	if len(br.Items) != n {
		return nil, stream.Retryable("index", "es_bad_response", fmt.Errorf("bulk response has %d items for %d requests", len(br.Items), n))
	}
	out := make([]bulkItem, n)
	for k, it := range br.Items {
		for _, v := range it {
			out[k] = v
		}
	}
	return out, nil
}

// loadWorking reads what identity resolution needs for the records cs, with
// the sequence numbers: the deals of their ids, those records with their ids
// resolved to, the deals candidate may accept for one of them and the groups
// aggregate linking must see whole (see "Candidates" in identity.go;
// es_candidates.go builds the searches, one msearch per step). A search that
// matches more than maxCandidates deals is the error too_many_candidates.
func (s *ESStore) loadWorking(ctx context.Context, cs []schemas.Contract) (*working, map[string]versioned, error) {
	src := newESCandidates(ctx, s, cs)
	w, err := loadCandidates(src, cs)
	if err != nil {
		return nil, nil, err
	}
	return w, src.versions, nil
}

// PendingAlerts returns alerts some sink has not acknowledged, oldest first:
// those of dealIDs (read in real time) or, when dealIDs is empty, any (by search).
func (s *ESStore) PendingAlerts(ctx context.Context, dealIDs []string, limit int) ([]PendingAlert, error) {
	var deals []Deal
	if len(dealIDs) > 0 {
		got, err := s.get(ctx, dealIDs)
		if err != nil {
			return nil, err
		}
		for _, g := range got {
			deals = append(deals, *g.deal)
		}
	} else {
		q := m{"size": max(limit, 1), "_source": false, "query": m{"nested": m{"path": "alerts", "query": m{"exists": m{"field": "alerts.pending"}}}},
			"sort": []any{m{"indexed_at": "asc"}}}
		body, _ := json.Marshal(q)
		res, err := s.es.Search(s.es.Search.WithIndex(s.alias), s.es.Search.WithBody(bytes.NewReader(body)), s.es.Search.WithContext(ctx))
		if err := check0(res, err); err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var sr struct {
			Hits struct {
				Hits []struct {
					ID string `json:"_id"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
			return nil, fmt.Errorf("decoding pending alerts: %w", err)
		}
		if len(sr.Hits.Hits) == 0 {
			return nil, nil
		}
		// Search is near-real-time: read the deals again in real time, so that an
		// alert acknowledged a moment ago is not delivered twice.
		ids := make([]string, len(sr.Hits.Hits))
		for i, h := range sr.Hits.Hits {
			ids[i] = h.ID
		}
		got, err := s.get(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if g, ok := got[id]; ok {
				deals = append(deals, *g.deal)
			}
		}
	}
	return pendingOf(deals, limit), nil
}

func pendingOf(deals []Deal, limit int) []PendingAlert {
	var out []PendingAlert
	for _, d := range deals {
		for _, a := range d.Alerts {
			if len(a.Pending) > 0 {
				out = append(out, PendingAlert{DealID: d.ID, Alert: a})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Alert.CreatedAt.Equal(out[j].Alert.CreatedAt) {
			return out[i].Alert.CreatedAt.Before(out[j].Alert.CreatedAt)
		}
		return out[i].Alert.ID < out[j].Alert.ID
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// ackAlert removes sink from the alert's pending sinks; it reports whether the deal changed.
func ackAlert(d *Deal, alertID, sink string, at time.Time) bool {
	for i := range d.Alerts {
		a := &d.Alerts[i]
		if a.ID != alertID || !contains(a.Pending, sink) {
			continue
		}
		var keep []string
		for _, p := range a.Pending {
			if p != sink {
				keep = append(keep, p)
			}
		}
		if keep == nil {
			keep = []string{}
		}
		d.Alerts = append([]Alert(nil), d.Alerts...)
		a = &d.Alerts[i]
		a.Pending = keep
		a.Delivered = append(append([]Delivery(nil), a.Delivered...), Delivery{Sink: sink, At: at})
		return true
	}
	return false
}

type stored struct {
	deal          *Deal
	seqNo, primTm int64
}

// get reads deals by id in real time, with their sequence numbers.
func (s *ESStore) get(ctx context.Context, ids []string) (map[string]stored, error) {
	return s.getIn(ctx, s.alias, ids)
}

// getIn reads deals by id from one index or alias.
func (s *ESStore) getIn(ctx context.Context, index string, ids []string) (map[string]stored, error) {
	body, _ := json.Marshal(map[string]any{"ids": ids})
	res, err := s.es.Mget(bytes.NewReader(body), s.es.Mget.WithIndex(index), s.es.Mget.WithContext(ctx))
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
		return nil, stream.Retryable("index", "es_bad_response", fmt.Errorf("decoding mget response: %w", err))
	}
	out := map[string]stored{}
	for _, d := range mr.Docs {
		if len(d.Error) > 0 {
			return nil, stream.Retryable("index", "es_unavailable", fmt.Errorf("reading deal %s: %s", d.ID, d.Error))
		}
		if !d.Found {
			continue
		}
		var deal Deal
		if err := json.Unmarshal(d.Source, &deal); err != nil {
			return nil, fmt.Errorf("reading deal %s: %w", d.ID, err)
		}
		out[d.ID] = stored{&deal, d.SeqNo, d.PrimaryTerm}
	}
	return out, nil
}

// Get returns one deal by id (nil when absent), read in real time.
func (s *ESStore) Get(ctx context.Context, id string) (*Deal, error) {
	got, err := s.get(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if g, ok := got[id]; ok {
		return g.deal, nil
	}
	return nil, nil
}

var (
	_ Outbox = (*ESStore)(nil)
	_ Outbox = (*KVStore)(nil)
)
