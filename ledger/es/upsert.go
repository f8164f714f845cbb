package es

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// maxConflictRounds bounds how often a batch is re-read after version conflicts.
const maxConflictRounds = 5

// Upsert resolves each record to its deal, merges it and raises alerts
// (ledger.ApplyBatch, over the candidates candidates.go searches for), and
// writes the changed deals in one bulk request, reporting per record. The
// candidate deals are read with their sequence numbers, and each deal is
// written only if nobody changed it meanwhile (create for a new deal): on a
// conflict, the records of that operator are resolved and merged again
// against a fresh read. (The integ-test Elasticsearch has no Painless, and
// this way both stores share one merge.) The alerts a change raises are part
// of the same conditional write, so they exist exactly when the change does.
// A search for candidates that matches more than Config.MaxCandidates deals
// is the permanent error too_many_candidates.
func (s *Store) Upsert(ctx context.Context, cs []schemas.Contract) []error {
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

// Prepare starts, in the background, the refresh the next Upsert needs when
// anything was written since the last one, so that Elasticsearch refreshes
// while the stage decodes the batch. The stage calls it as soon as it has a
// batch; what is written after it started is refreshed by Upsert itself.
func (s *Store) Prepare(ctx context.Context) {
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
func (s *Store) upsertOnce(ctx context.Context, cs []schemas.Contract, todo []int, errs []error) ([]int, error) {
	// Candidates are found by search, which sees only refreshed writes: wait
	// for the refresh Prepare started, and refresh (again) if anything was
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
	src := newESCandidates(ctx, s, recs)
	changes, err := ledger.ApplyBatch(src, recs, policy, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	for _, i := range todo {
		errs[i] = nil
	}
	if len(changes) == 0 {
		return nil, nil
	}
	// The records merged into each change, as indexes into cs.
	for k := range changes {
		for j, r := range changes[k].Records {
			changes[k].Records[j] = todo[r]
		}
	}
	docs := make([][]byte, len(changes))
	docErrs := make([]error, len(changes))
	ledger.Parallel(len(changes), func(k int) { docs[k], docErrs[k] = Document(changes[k].Deal) })
	var sent []int // the changes sent, in order
	for k, ch := range changes {
		if docErrs[k] != nil {
			for _, i := range ch.Records {
				errs[i] = stream.Permanent("index", "encode", docErrs[k])
			}
			continue
		}
		sent = append(sent, k)
	}
	if len(sent) == 0 {
		return nil, nil
	}
	// Whatever happens to the request, some of it may be written: the next
	// candidate searches must refresh first.
	s.mu.Lock()
	s.dirty = true
	s.mu.Unlock()
	var buf bytes.Buffer
	for _, k := range sent {
		id := changes[k].Deal.ID
		if v, ok := src.versions[id]; ok {
			fmt.Fprintf(&buf, `{"index":{"_index":%q,"_id":%q,"if_seq_no":%d,"if_primary_term":%d}}`, s.alias, id, v.seqNo, v.primTerm)
		} else {
			fmt.Fprintf(&buf, `{"create":{"_index":%q,"_id":%q}}`, s.alias, id)
		}
		buf.WriteByte('\n')
		buf.Write(docs[k])
		buf.WriteByte('\n')
	}
	items, err := s.bulk(ctx, buf.Bytes(), len(sent))
	if err != nil {
		return nil, err
	}
	conflictOps := map[string]bool{}
	var alerted []string
	for n, k := range sent {
		ch, it := changes[k], items[n]
		id := ch.Deal.ID
		var e error
		switch {
		case it.Status >= 200 && it.Status < 300:
			if ch.NewAlerts() {
				alerted = append(alerted, id)
			}
		case it.Status == http.StatusConflict:
			conflictOps[schemas.Key(ch.Deal.Operator.Name)] = true
		case it.Status == 429 || it.Status >= 500:
			e = stream.Retryable("index", "es_unavailable", fmt.Errorf("deal %s: status %d: %s", id, it.Status, it.Error))
		default:
			e = stream.Permanent("index", "es_rejected", fmt.Errorf("deal %s: status %d: %s", id, it.Status, it.Error))
		}
		for _, i := range ch.Records {
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

type bulkItem struct {
	ID     string          `json:"_id"`
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// bulk sends a bulk body of n actions and returns their results in order.
func (s *Store) bulk(ctx context.Context, body []byte, n int) ([]bulkItem, error) {
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

// PendingAlerts returns alerts some sink has not acknowledged, oldest first:
// those of dealIDs (read in real time) or, when dealIDs is empty, any (by search).
func (s *Store) PendingAlerts(ctx context.Context, dealIDs []string, limit int) ([]ledger.PendingAlert, error) {
	var deals []ledger.Deal
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
	return ledger.PendingAlertsOf(deals, limit), nil
}

type stored struct {
	deal          *ledger.Deal
	seqNo, primTm int64
}

// get reads deals by id in real time, with their sequence numbers.
func (s *Store) get(ctx context.Context, ids []string) (map[string]stored, error) {
	return s.getIn(ctx, s.alias, ids)
}

// getIn reads deals by id from one index or alias.
func (s *Store) getIn(ctx context.Context, index string, ids []string) (map[string]stored, error) {
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
		var deal ledger.Deal
		if err := json.Unmarshal(d.Source, &deal); err != nil {
			return nil, fmt.Errorf("reading deal %s: %w", d.ID, err)
		}
		out[d.ID] = stored{&deal, d.SeqNo, d.PrimaryTerm}
	}
	return out, nil
}

// Get returns one deal by id (nil when absent), read in real time.
func (s *Store) Get(ctx context.Context, id string) (*ledger.Deal, error) {
	got, err := s.get(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if g, ok := got[id]; ok {
		return g.deal, nil
	}
	return nil, nil
}
