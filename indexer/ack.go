package indexer

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mwledger/mwledger/stream"
)

// Ack says that Sink delivered alert AlertID of deal DealID at At.
type Ack struct {
	DealID, AlertID, Sink string
	At                    time.Time
}

// byDeal groups acknowledgements by deal, deal ids sorted.
func byDeal(acks []Ack) ([]string, map[string][]Ack) {
	groups := map[string][]Ack{}
	for _, a := range acks {
		groups[a.DealID] = append(groups[a.DealID], a)
	}
	ids := make([]string, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, groups
}

// applyAcks records acks in d; false when none changed it (already recorded).
func applyAcks(d *Deal, acks []Ack) bool {
	changed := false
	for _, a := range acks {
		changed = ackAlert(d, a.AlertID, a.Sink, a.At) || changed
	}
	return changed
}

// AckAlerts records many deliveries in one read and one bulk of conditional
// writes (deals changed meanwhile are read and written again).
func (s *ESStore) AckAlerts(ctx context.Context, acks []Ack) error {
	todo := acks
	for attempt := 0; attempt < maxConflictRounds && len(todo) > 0; attempt++ {
		ids, groups := byDeal(todo)
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
			if !applyAcks(&d, groups[id]) {
				continue
			}
			doc, err := ESDocument(&d)
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
