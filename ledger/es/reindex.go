package es

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/stream"
)

// ReindexStats says what a reindex did.
type ReindexStats struct {
	From, To string
	Copied   int
	// CaughtUp counts deals written to the old index by other indexers during the
	// copy and copied again after the swap.
	CaughtUp int
	Took     time.Duration
}

// aliasIndex returns the index behind the alias ("" when the alias does not exist).
func (s *Store) aliasIndex(ctx context.Context) (string, error) {
	res, err := s.es.Indices.GetAlias(s.es.Indices.GetAlias.WithName(s.alias), s.es.Indices.GetAlias.WithContext(ctx))
	if err != nil {
		return "", stream.Retryable("index", "es_unavailable", fmt.Errorf("reading alias %s: %w", s.alias, err))
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err := check0(res, nil); err != nil {
		return "", err
	}
	var out map[string]struct {
		Aliases map[string]struct {
			IsWriteIndex *bool `json:"is_write_index"`
		} `json:"aliases"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("decoding alias %s: %w", s.alias, err)
	}
	best := ""
	for idx, a := range out {
		al := a.Aliases[s.alias]
		if len(out) == 1 || (al.IsWriteIndex != nil && *al.IsWriteIndex) {
			best = idx
		}
	}
	if best == "" {
		return "", fmt.Errorf("alias %s points to %d indices and none is the write index", s.alias, len(out))
	}
	return best, nil
}

// indexVersion parses N out of <alias>-vN (0 when it is not such a name).
func (s *Store) indexVersion(index string) int {
	prefix := s.alias + "-v"
	n, err := strconv.Atoi(strings.TrimPrefix(index, prefix))
	if err != nil || !strings.HasPrefix(index, prefix) {
		return 0
	}
	return n
}

// Reindex moves the ledger to the next index version with no downtime: it
// creates mwledger-contracts-v(N+1) from the current template, copies every deal
// of vN into it in id order (search_after, bulk), then swaps the alias in one
// _aliases call (remove from vN, add to vN+1 as write index). Searches are served
// by vN until the swap and by vN+1 after it. Deals that other indexers wrote to
// vN during the copy (indexed_at after it started) are copied again after the
// swap, unless vN+1 already holds a newer write. The old index is kept (delete it
// by hand once satisfied). Indexers in this process should not be writing.
func (s *Store) Reindex(ctx context.Context) (ReindexStats, error) {
	start := time.Now().UTC()
	from, err := s.aliasIndex(ctx)
	if err != nil {
		return ReindexStats{}, err
	}
	if from == "" {
		return ReindexStats{}, fmt.Errorf("reindex: alias %s does not exist yet (run mwledger index once)", s.alias)
	}
	to := s.indexName(max(s.indexVersion(from)+1, MappingVersion))
	st := ReindexStats{From: from, To: to}
	res, err := s.es.Indices.Create(to, s.es.Indices.Create.WithContext(ctx))
	if err := check(res, err, "creating index "+to); err != nil {
		return st, err
	}
	s.log.Info("reindex: copying", "from", from, "to", to)
	st.Copied, err = s.copyDeals(ctx, from, to, nil, false)
	if err != nil {
		return st, err
	}
	// Make the copy searchable before the alias points at it: a search right after
	// the swap must not see an empty index.
	res, err = s.es.Indices.Refresh(s.es.Indices.Refresh.WithIndex(to), s.es.Indices.Refresh.WithContext(ctx))
	if err := check(res, err, "refreshing "+to); err != nil {
		return st, err
	}
	body := fmt.Sprintf(`{"actions":[{"remove":{"index":%q,"alias":%q}},{"add":{"index":%q,"alias":%q,"is_write_index":true}}]}`, from, s.alias, to, s.alias)
	res, err = s.es.Indices.UpdateAliases(strings.NewReader(body), s.es.Indices.UpdateAliases.WithContext(ctx))
	if err := check(res, err, "swapping alias "+s.alias); err != nil {
		return st, err
	}
	s.mu.Lock()
	s.dirty = true
	s.mu.Unlock()
	// Catch up with what was written to the old index while we copied.
	since := start.Add(-2 * time.Second)
	st.CaughtUp, err = s.copyDeals(ctx, from, to, &since, true)
	if err != nil {
		return st, err
	}
	st.Took = time.Since(start)
	s.log.Info("reindex: alias swapped", "alias", s.alias, "from", from, "to", to, "deals", st.Copied, "caught_up", st.CaughtUp, "took", st.Took)
	return st, nil
}

// copyDeals copies the deals of index from into index to, in id order by
// search_after; since limits it to deals indexed after a time. With
// onlyNewer, a deal is written only when to does not hold a later version.
func (s *Store) copyDeals(ctx context.Context, from, to string, since *time.Time, onlyNewer bool) (int, error) {
	var after []any
	n := 0
	for {
		q := m{"size": 500, "sort": []any{m{"id": "asc"}}, "query": m{"match_all": m{}}}
		if since != nil {
			q["query"] = m{"range": m{"indexed_at": m{"gte": since.Format(time.RFC3339Nano)}}}
		}
		if after != nil {
			q["search_after"] = after
		}
		body, _ := json.Marshal(q)
		res, err := s.es.Search(s.es.Search.WithIndex(from), s.es.Search.WithBody(bytes.NewReader(body)), s.es.Search.WithContext(ctx))
		if err := check0(res, err); err != nil {
			return n, err
		}
		var sr struct {
			Hits struct {
				Hits []struct {
					ID     string          `json:"_id"`
					Source json.RawMessage `json:"_source"`
					Sort   []any           `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		err = json.NewDecoder(res.Body).Decode(&sr)
		res.Body.Close()
		if err != nil {
			return n, fmt.Errorf("reindex: decoding page: %w", err)
		}
		hits := sr.Hits.Hits
		if len(hits) == 0 {
			return n, nil
		}
		var newer map[string]stored
		if onlyNewer {
			ids := make([]string, len(hits))
			for i, h := range hits {
				ids[i] = h.ID
			}
			if newer, err = s.getIn(ctx, to, ids); err != nil {
				return n, err
			}
		}
		var buf bytes.Buffer
		k := 0
		for _, h := range hits {
			if cur, ok := newer[h.ID]; ok {
				var old ledger.Deal
				if json.Unmarshal(h.Source, &old) == nil && !old.IndexedAt.After(cur.deal.IndexedAt) {
					continue
				}
			}
			doc, err := withAggFields(h.Source)
			if err != nil {
				doc = h.Source // unreadable: copied as it is (aggregations then run in Go)
			}
			fmt.Fprintf(&buf, `{"index":{"_index":%q,"_id":%q}}`+"\n", to, h.ID)
			buf.Write(doc)
			buf.WriteByte('\n')
			k++
		}
		if k > 0 {
			items, err := s.bulk(ctx, buf.Bytes(), k)
			if err != nil {
				return n, err
			}
			for _, it := range items {
				if it.Status < 200 || it.Status >= 300 {
					return n, fmt.Errorf("reindex: deal %s: status %d: %s", it.ID, it.Status, it.Error)
				}
			}
			n += k
		}
		after = hits[len(hits)-1].Sort
	}
}
