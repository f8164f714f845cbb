package es

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// DefaultMaxCandidates is Config.MaxCandidates's default.
const DefaultMaxCandidates = 10000

// Searches per request of the candidate msearch: records (or groups) per search.
const (
	recordsPerSearch = 16
	groupsPerSearch  = 32
)

// An operator with at most max(wholeOperatorMin, wholeOperatorPerRecord × its
// records in the batch) deals (and at most Config.MaxCandidates) is read whole: one
// search of light documents costs less than a search per record.
const (
	wholeOperatorMin       = 500
	wholeOperatorPerRecord = 50
)

// esCandidates is the ledger.CandidateSource of one round of Store.Upsert:
// one msearch per step (see "Candidates" in ledger/identity.go). As the full
// read it replaces did, it reads only deals whose operator.name is one of the
// batch's (exactly), and those found by record id.
type esCandidates struct {
	s        *Store
	ctx      context.Context
	names    map[string][]string // operator key → the batch's spellings of it
	versions map[string]versioned
	light    map[string]bool // deals read partially (partialSource)
	whole    map[string]bool // operator keys whose deals were all read
}

// partialSource is what the searches for candidates and groups read of a
// deal: what candidate, resolve and linkAggregates need (see
// ledger.CandidateSource.Partial). Deals the batch writes are then read whole.
var partialSource = []string{"id", "operator.name", "counterparty", "aggregate", schemas.FieldCapacityMW, schemas.FieldTotalValueUSD, "current",
	"events.new_capacity_mw", "events.new_total_value_usd", "provenance.field", "provenance.number",
	"sources.url", "sources.role", "record_ids", "parts", "part_of"}

var _ ledger.CandidateSource = (*esCandidates)(nil)

func newESCandidates(ctx context.Context, s *Store, cs []schemas.Contract) *esCandidates {
	e := &esCandidates{s: s, ctx: ctx, names: map[string][]string{}, versions: map[string]versioned{}, light: map[string]bool{},
		whole: map[string]bool{}}
	for _, c := range cs {
		op := schemas.Key(c.Operator.Name)
		if !slices.Contains(e.names[op], c.Operator.Name) {
			e.names[op] = append(e.names[op], c.Operator.Name)
		}
	}
	for _, ns := range e.names {
		sort.Strings(ns)
	}
	return e
}

func exists(field string) m { return m{"exists": m{"field": field}} }

func orQ(qs ...any) m { return m{"bool": m{"should": qs, "minimum_should_match": 1}} }

// labelQuery matches the deals whose counterparty label (the name, else the
// descriptor) has the key key (schemas.Key, stored as counterparty.key).
func labelQuery(key string) m {
	q := m{"term": m{"counterparty.key": key}}
	if key == "" {
		return orQ(q, m{"bool": m{"must_not": exists("counterparty.key")}})
	}
	return q
}

// figureKnown matches the deals with a known value (knownFigures) of field in [lo, hi].
func figureKnown(field string, lo, hi float64) m {
	r := m{}
	if !math.IsInf(lo, 0) {
		r["gte"] = lo
	}
	if !math.IsInf(hi, 0) {
		r["lte"] = hi
	}
	rng := func(f string) m {
		if len(r) == 0 {
			return exists(f)
		}
		return m{"range": m{f: r}}
	}
	return orQ(rng(field), rng("current."+field),
		m{"nested": m{"path": "events", "query": rng("events.new_" + field)}},
		m{"nested": m{"path": "provenance", "query": m{"bool": m{"filter": []any{m{"term": m{"provenance.field": field}}, rng("provenance.number")}}}}})
}

// figureNone matches the deals with no known value of field.
func figureNone(field string) m {
	return m{"bool": m{"must_not": []any{exists(field), exists("current." + field),
		m{"nested": m{"path": "events", "query": exists("events.new_" + field)}},
		m{"nested": m{"path": "provenance", "query": m{"bool": m{"filter": []any{m{"term": m{"provenance.field": field}}, exists("provenance.number")}}}}}}}}
}

// operatorQuery matches the deals of the operators with these keys
// (schemas.Key, stored as operator.key).
func operatorQuery(keys ...string) m {
	if len(keys) == 1 {
		return m{"term": m{"operator.key": keys[0]}}
	}
	return m{"terms": m{"operator.key": keys}}
}

// recordQuery matches (at least) the deals candidate may accept for c among
// those of its operator (by key). Every figure c states must be
// unknown or agree; then either one agrees (and the label is c's or one side
// is undisclosed) or none is known (and the label is c's). It is written as
// branches each led by a selective clause (a figure range, the label), so that
// Elasticsearch does not walk all the operator's deals: branch i has figure i
// agree, the figures before it unknown and those after it unknown or agreeing.
func recordQuery(c schemas.Contract) m {
	op := operatorQuery(schemas.Key(c.Operator.Name))
	label := labelQuery(schemas.Key(c.Counterparty.Label()))
	figs := ledger.FigureRanges(c)
	var branches []any
	for i, f := range figs {
		if !f.OK {
			continue
		}
		filter := []any{figureKnown(f.Field, f.Lo, f.Hi), op}
		for j, g := range figs {
			switch {
			case j < i || !g.OK:
				filter = append(filter, figureNone(g.Field))
			case j > i:
				filter = append(filter, orQ(figureNone(g.Field), figureKnown(g.Field, g.Lo, g.Hi)))
			}
		}
		b := m{"filter": filter}
		if c.Counterparty.Name != nil {
			// A named record: the same label, or an undisclosed deal.
			b["should"] = []any{label, m{"bool": m{"must_not": exists("counterparty.name")}}}
			b["minimum_should_match"] = 1
		}
		branches = append(branches, m{"bool": b})
	}
	filter := []any{label, op}
	for _, g := range figs {
		filter = append(filter, figureNone(g.Field))
	}
	branches = append(branches, m{"bool": m{"filter": filter}})
	return orQ(branches...)
}

func (e *esCandidates) groupQuery(g ledger.DealGroup, aggregatesOnly bool) m {
	filter := []any{operatorQuery(g.Op), labelQuery(g.Label)}
	if aggregatesOnly {
		filter = append(filter, m{"term": m{"aggregate": true}})
	}
	return m{"bool": m{"filter": filter}}
}

// named is a query whose hits report its name; what says what it looks for.
type named struct {
	name, what string
	q          m
}

// chunks cuts qs into searches of at most n queries.
func chunks(qs []named, n int) [][]named {
	var out [][]named
	for i := 0; i < len(qs); i += n {
		out = append(out, qs[i:min(i+n, len(qs))])
	}
	return out
}

// esSearch is one search of a candidate msearch: deals matching any of qs,
// read partially (partialSource) unless whole; or, with count, no deals but
// how many each of these operator spellings has.
type esSearch struct {
	qs    []named
	whole bool
	count []string
}

func searchesOf(chunks [][]named) []esSearch {
	out := make([]esSearch, len(chunks))
	for i, qs := range chunks {
		out[i] = esSearch{qs: qs}
	}
	return out
}

// search runs the searches in a single msearch, loads the hits into w, and
// returns for each query name the ids of the deals it matched, and the counts
// asked for.
func (e *esCandidates) search(w *ledger.Working, searches []esSearch, what string) (map[string][]string, map[string]int, error) {
	var body bytes.Buffer
	var sent []esSearch
	for _, sr := range searches {
		var q m
		switch {
		case len(sr.count) > 0:
			q = m{"size": 0, "query": m{"terms": m{"operator.key": sr.count}},
				"aggs": m{"ops": m{"terms": m{"field": "operator.key", "include": sr.count, "size": len(sr.count)}}}}
		case len(sr.qs) > 0:
			var should []any
			for _, nq := range sr.qs {
				b := m{}
				for k, v := range nq.q["bool"].(m) {
					b[k] = v
				}
				b["_name"] = nq.name
				should = append(should, m{"bool": b})
			}
			q = m{"size": e.s.maxCandidates, "track_total_hits": e.s.maxCandidates + 1, "seq_no_primary_term": true,
				"sort": []any{"_doc"}, "query": orQ(should...)}
			if !sr.whole {
				q["_source"] = partialSource
			}
		default:
			continue
		}
		hdr, _ := json.Marshal(m{"index": e.s.alias})
		req, err := json.Marshal(q)
		if err != nil {
			return nil, nil, stream.Permanent("index", "encode", fmt.Errorf("candidate search: %w", err))
		}
		body.Write(hdr)
		body.WriteByte('\n')
		body.Write(req)
		body.WriteByte('\n')
		sent = append(sent, sr)
	}
	if len(sent) == 0 {
		return nil, nil, nil
	}
	res, err := e.s.es.Msearch(&body, e.s.es.Msearch.WithContext(e.ctx))
	if err := check0(res, err); err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	var mr struct {
		Responses []struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
			Hits   struct {
				Total struct {
					Value int `json:"value"`
				} `json:"total"`
				Hits []struct {
					ID          string          `json:"_id"`
					SeqNo       int64           `json:"_seq_no"`
					PrimaryTerm int64           `json:"_primary_term"`
					Source      json.RawMessage `json:"_source"`
					Matched     []string        `json:"matched_queries"`
				} `json:"hits"`
			} `json:"hits"`
			Aggregations struct {
				Ops struct {
					Buckets []struct {
						Key   string `json:"key"`
						Count int    `json:"doc_count"`
					} `json:"buckets"`
				} `json:"ops"`
			} `json:"aggregations"`
		} `json:"responses"`
	}
	if err := json.NewDecoder(res.Body).Decode(&mr); err != nil {
		return nil, nil, stream.Retryable("index", "es_bad_response", fmt.Errorf("decoding candidate search: %w", err))
	}
	if len(mr.Responses) != len(sent) {
		return nil, nil, stream.Retryable("index", "es_bad_response", fmt.Errorf("candidate search: %d responses for %d searches", len(mr.Responses), len(sent)))
	}
	matched, counts := map[string][]string{}, map[string]int{}
	type newHit struct {
		id            string
		seqNo, primTm int64
		src           json.RawMessage
		light         bool
	}
	var fresh []newHit // deals to load, in the order of the responses
	seen := map[string]bool{}
	for k, r := range mr.Responses {
		if len(r.Error) > 0 {
			e := fmt.Errorf("candidate search: status %d: %s", r.Status, r.Error)
			if r.Status == 429 || r.Status >= 500 {
				return nil, nil, stream.Retryable("index", "es_unavailable", e)
			}
			return nil, nil, stream.Permanent("index", "es_rejected", e)
		}
		if len(sent[k].count) > 0 {
			for _, b := range r.Aggregations.Ops.Buckets {
				counts[b.Key] = b.Count
			}
			continue
		}
		if r.Hits.Total.Value > e.s.maxCandidates {
			return nil, nil, stream.Permanent("index", "too_many_candidates",
				fmt.Errorf("%d candidate deals for %s (%d queries from %s): more than %d", r.Hits.Total.Value, what, len(sent[k].qs), sent[k].qs[0].what, e.s.maxCandidates))
		}
		for _, h := range r.Hits.Hits {
			for _, name := range h.Matched {
				matched[name] = append(matched[name], h.ID)
			}
			if w.Has(h.ID) || seen[h.ID] {
				continue
			}
			seen[h.ID] = true
			fresh = append(fresh, newHit{h.ID, h.SeqNo, h.PrimaryTerm, h.Source, !sent[k].whole})
		}
	}
	deals := make([]ledger.Deal, len(fresh))
	ledger.Parallel(len(fresh), func(i int) {
		if err := json.Unmarshal(fresh[i].src, &deals[i]); err != nil {
			deals[i] = ledger.Deal{} // an unreadable stored deal is replaced, as in the embedded store
		}
		deals[i].ID = fresh[i].id
	})
	for i, h := range fresh {
		w.Load(&deals[i])
		e.versions[h.id] = versioned{h.seqNo, h.primTm}
		e.light[h.id] = h.light
	}
	return matched, counts, nil
}

// Candidates reads, in a first msearch, the deals of the records' ids and
// those records with these ids resolved to (whole: the records will most
// likely merge into them; resolve finds them by id) and how many deals each
// operator has; then, in a second, every deal of the operators with few
// deals for their records (pooled here with candidate), and for the other
// records the deals recordQuery matches.
func (e *esCandidates) Candidates(w *ledger.Working, cs []schemas.Contract) error {
	rids := make([]string, 0, len(cs))
	records := map[string]int{} // per operator key
	var all []string
	for _, c := range cs {
		rids = append(rids, c.ID)
		records[schemas.Key(c.Operator.Name)]++
	}
	for op := range e.names {
		all = append(all, op)
	}
	sort.Strings(all)
	byID := named{"ids", "the records' ids", m{"bool": m{"should": []any{m{"ids": m{"values": rids}}, m{"terms": m{"record_ids": rids}}}, "minimum_should_match": 1}}}
	_, counts, err := e.search(w, []esSearch{{qs: []named{byID}, whole: true}, {count: all}}, "the records' ids")
	if err != nil {
		return err
	}
	// The operators read whole, in searches of at most Config.MaxCandidates deals.
	ops := make([]string, 0, len(e.names))
	for op := range e.names {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var searches []esSearch
	var keys []string
	sum := 0
	flush := func() {
		if len(keys) > 0 {
			var names []string
			for _, op := range keys {
				names = append(names, e.names[op]...)
			}
			searches = append(searches, esSearch{qs: []named{{"whole", "the deals of " + strings.Join(names, ", "),
				m{"bool": m{"filter": operatorQuery(keys...)}}}}})
		}
		keys, sum = nil, 0
	}
	for _, op := range ops {
		n := counts[op]
		if n > min(e.s.maxCandidates, max(wholeOperatorMin, wholeOperatorPerRecord*records[op])) {
			continue
		}
		e.whole[op] = true
		if sum+n > e.s.maxCandidates {
			flush()
		}
		keys = append(keys, op)
		sum += n
	}
	flush()
	var pools []string
	var qs []named
	seen := map[string]bool{}
	for _, c := range cs {
		key := ledger.PoolKey(c)
		if seen[key] || e.whole[schemas.Key(c.Operator.Name)] {
			continue
		}
		seen[key] = true
		qs = append(qs, named{strconv.Itoa(len(pools)), "record " + c.ID, recordQuery(c)})
		pools = append(pools, key)
	}
	got, _, err := e.search(w, append(searches, searchesOf(chunks(qs, recordsPerSearch))...), "records")
	if err != nil {
		return err
	}
	for i, key := range pools {
		pool := got[strconv.Itoa(i)]
		sort.Strings(pool)
		w.SetPool(key, pool)
	}
	// Operators read whole: pooled with candidate itself.
	w.PoolLoaded(cs, got["whole"], func(c schemas.Contract) bool { return e.whole[schemas.Key(c.Operator.Name)] })
	return nil
}

func (e *esCandidates) groupQueries(gs []ledger.DealGroup, aggregatesOnly bool) []esSearch {
	var qs []named
	for i, g := range gs {
		if len(e.names[g.Op]) == 0 || e.whole[g.Op] {
			continue // not an operator of the batch (its deals were never all read), or read whole
		}
		qs = append(qs, named{strconv.Itoa(i), fmt.Sprintf("group %s/%q", g.Op, g.Label), e.groupQuery(g, aggregatesOnly)})
	}
	return searchesOf(chunks(qs, groupsPerSearch))
}

func (e *esCandidates) Aggregates(w *ledger.Working, gs []ledger.DealGroup) ([]ledger.DealGroup, error) {
	got, _, err := e.search(w, e.groupQueries(gs, true), "the aggregates of groups the batch changes")
	if err != nil {
		return nil, err
	}
	var found []ledger.DealGroup
	for i, g := range gs {
		if len(got[strconv.Itoa(i)]) > 0 {
			found = append(found, g)
		}
	}
	return found, nil
}

func (e *esCandidates) Members(w *ledger.Working, gs []ledger.DealGroup) error {
	_, _, err := e.search(w, e.groupQueries(gs, false), "groups with an aggregate")
	return err
}

func (e *esCandidates) Partial(ids []string) []string {
	var out []string
	for _, id := range ids {
		if e.light[id] {
			out = append(out, id)
		}
	}
	return out
}

// Full reads deals whole (in real time). Their sequence numbers stay those of
// the partial read, which resolution used: if a deal changed in between, its
// write conflicts and the records are resolved again.
func (e *esCandidates) Full(w *ledger.Working, ids []string) error {
	got, err := e.s.get(e.ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		g, ok := got[id]
		if !ok {
			// Deleted since: resolving again will not find it.
			return stream.Retryable("index", "conflict", fmt.Errorf("deal %s vanished while its records were resolved", id))
		}
		d := g.deal
		d.ID = id
		w.Reload(d)
		e.light[id] = false
	}
	return nil
}
