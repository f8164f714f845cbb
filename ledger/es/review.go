package es

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/stream"
)

// Review applies a reviewer's action to deal id with a conditional write
// (retried on conflict); alerts the corrected deal deserves are raised in it.
func (s *Store) Review(ctx context.Context, id string, a ledger.ReviewAction) (*ledger.Deal, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	policy, notify := s.policy, s.notify
	s.mu.Unlock()
	for attempt := 0; attempt < maxConflictRounds; attempt++ {
		got, err := s.get(ctx, []string{id})
		if err != nil {
			return nil, err
		}
		cur, ok := got[id]
		if !ok {
			return nil, fmt.Errorf("review %s: %w", id, ledger.ErrNoDeal)
		}
		cur.deal.ID = id
		d := ledger.ApplyReview(cur.deal, a, policy, time.Now().UTC())
		doc, err := Document(&d)
		if err != nil {
			return nil, err
		}
		res, err := s.es.Index(s.alias, bytes.NewReader(doc), s.es.Index.WithDocumentID(id),
			s.es.Index.WithIfSeqNo(int(cur.seqNo)), s.es.Index.WithIfPrimaryTerm(int(cur.primTm)),
			s.es.Index.WithRefresh("true"), s.es.Index.WithContext(ctx))
		if err == nil && res.StatusCode == http.StatusConflict {
			res.Body.Close()
			continue
		}
		if err := check(res, err, "reviewing deal "+id); err != nil {
			return nil, err
		}
		if len(d.Alerts) > len(cur.deal.Alerts) && notify != nil {
			notify([]string{id})
		}
		return &d, nil
	}
	return nil, fmt.Errorf("review %s: the deal kept changing; try again", id)
}

// AckAlerts records many deliveries in one read and one bulk of conditional
// writes (deals changed meanwhile are read and written again).
func (s *Store) AckAlerts(ctx context.Context, acks []ledger.Ack) error {
	todo := acks
	for attempt := 0; attempt < maxConflictRounds && len(todo) > 0; attempt++ {
		ids, groups := ledger.AcksByDeal(todo)
		got, err := s.get(ctx, ids)
		if err != nil {
			return err
		}
		var body bytes.Buffer
		var written []string
		for _, id := range ids {
			cur, ok := got[id]
			if !ok {
				return fmt.Errorf("acknowledging alerts: deal %s not found", id)
			}
			d := *cur.deal
			d.ID = id
			if !ledger.ApplyAcks(&d, groups[id]) {
				continue
			}
			doc, err := Document(&d)
			if err != nil {
				return err
			}
			fmt.Fprintf(&body, `{"index":{"_index":%q,"_id":%q,"if_seq_no":%d,"if_primary_term":%d}}`+"\n", s.alias, id, cur.seqNo, cur.primTm)
			body.Write(doc)
			body.WriteByte('\n')
			written = append(written, id)
		}
		if len(written) == 0 {
			return nil
		}
		items, err := s.bulk(ctx, body.Bytes(), len(written))
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		todo = nil
		for k, it := range items {
			switch {
			case it.Status == 409:
				todo = append(todo, groups[written[k]]...)
			case it.Status >= 300:
				return stream.Retryable("index", "es_rejected", fmt.Errorf("acknowledging alerts of deal %s: %d %s", written[k], it.Status, it.Error))
			}
		}
	}
	if len(todo) > 0 {
		return stream.Retryable("index", "conflict", fmt.Errorf("acknowledging %d alert(s): still conflicting", len(todo)))
	}
	return nil
}
