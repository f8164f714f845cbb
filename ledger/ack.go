package ledger

import (
	"sort"
	"time"
)

// Ack says that Sink delivered alert AlertID of deal DealID at At.
type Ack struct {
	DealID, AlertID, Sink string
	At                    time.Time
}

// AcksByDeal groups acknowledgements by deal, deal ids sorted.
func AcksByDeal(acks []Ack) ([]string, map[string][]Ack) {
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

// ApplyAcks records acks in d; false when none changed it (already recorded).
func ApplyAcks(d *Deal, acks []Ack) bool {
	changed := false
	for _, a := range acks {
		changed = ackAlert(d, a.AlertID, a.Sink, a.At) || changed
	}
	return changed
}

// PendingAlertsOf lists the alerts of deals with a pending sink, oldest
// first (then by id), at most limit (0: all).
func PendingAlertsOf(deals []Deal, limit int) []PendingAlert {
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
