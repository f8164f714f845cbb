package alert

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mwledger/mwledger/ledger"
)

// Kinds of alert (Message.Kind): new, counterparty_disclosed, or an event type.

// Policy decides which deal changes alert. It implements ledger.AlertPolicy.
type Policy struct {
	rules Rules
	sinks []string
}

var _ ledger.AlertPolicy = (*Policy)(nil)

// NewPolicy returns a policy; sinks are the names of the sinks each new alert
// must reach (e.g. "log", "webhook", "kafka").
func NewPolicy(r Rules, sinks []string) (*Policy, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if len(sinks) == 0 {
		return nil, fmt.Errorf("alert policy: no sinks")
	}
	return &Policy{rules: r, sinks: append([]string(nil), sinks...)}, nil
}

// Evaluate raises, for the deal after a change:
//   - "new" the first time the deal matches a rule on new;
//   - "disclosed" when a deal already alerted as new had an undisclosed
//     counterparty and now has a name, and a rule on counterparty_disclosed matches;
//   - "event:<id>" for each lifecycle event whose type a matching rule lists.
//
// The indexer drops keys the deal already carries, so Evaluate may raise them again.
func (p *Policy) Evaluate(before, after *ledger.Deal, now time.Time) []ledger.Alert {
	var out []ledger.Alert
	has := func(key string) bool {
		for _, a := range after.Alerts {
			if a.Key == key {
				return true
			}
		}
		return false
	}
	add := func(key, kind string, rule Rule, ev *ledger.DealEvent) {
		msg := buildMessage(after, kind, rule.Name, ev, now)
		msg.AlertID = after.ID + "/" + key
		payload, err := json.Marshal(msg)
		if err != nil {
			return
		}
		out = append(out, ledger.Alert{Key: key, Kind: kind, Rule: rule.Name, CreatedAt: now,
			Pending: append([]string(nil), p.sinks...), Delivered: []ledger.Delivery{}, Payload: payload})
	}
	if !has("new") {
		if r, ok := p.match(after, OnNew); ok {
			add("new", OnNew, r, nil)
			return out // a first alert already says everything the deal says now
		}
	}
	if has("new") && before != nil && before.Counterparty.Name == nil && after.Counterparty.Name != nil && !has("disclosed") {
		if r, ok := p.match(after, OnCounterpartyDisclosed); ok {
			add("disclosed", OnCounterpartyDisclosed, r, nil)
		}
	}
	for i := range after.Events {
		e := &after.Events[i]
		key := "event:" + e.ID
		if has(key) {
			continue
		}
		if r, ok := p.match(after, e.Type); ok {
			add(key, e.Type, r, e)
		}
	}
	return out
}

// match returns the first rule on change that the deal satisfies.
func (p *Policy) match(d *ledger.Deal, change string) (Rule, bool) {
	for _, r := range p.rules.Rules {
		if !slices.Contains(r.On, change) {
			continue
		}
		if len(r.ContractTypes) > 0 && !slices.Contains(r.ContractTypes, d.ContractType) {
			continue
		}
		if !bigEnough(d, r) || p.hyperscalerRole(d, r.Roles) == "" {
			continue
		}
		return r, true
	}
	return Rule{}, false
}

func bigEnough(d *ledger.Deal, r Rule) bool {
	if r.MinMW <= 0 && r.MinValueUSD <= 0 {
		return true
	}
	mw, usd := d.CapacityMW, d.TotalValueUSD
	if d.Current != nil {
		if d.Current.CapacityMW != nil {
			mw = d.Current.CapacityMW
		}
		if d.Current.TotalValueUSD != nil {
			usd = d.Current.TotalValueUSD
		}
	}
	return (r.MinMW > 0 && mw != nil && *mw >= r.MinMW) || (r.MinValueUSD > 0 && usd != nil && *usd >= r.MinValueUSD)
}

// hyperscalerRole returns the first role in roles held by a hyperscaler, or "".
func (p *Policy) hyperscalerRole(d *ledger.Deal, roles []string) string {
	for _, role := range roles {
		switch role {
		case RoleCounterparty:
			if d.Counterparty.Name != nil && p.isHyperscaler(*d.Counterparty.Name) {
				return role
			}
			if d.Counterparty.Name == nil && d.Counterparty.Descriptor != nil {
				desc := strings.ToLower(*d.Counterparty.Descriptor)
				for _, k := range p.rules.DescriptorKeywords {
					if strings.Contains(desc, strings.ToLower(k)) {
						return role
					}
				}
			}
		case RoleGuarantor:
			if d.Guarantor != nil && p.isHyperscaler(d.Guarantor.Name) {
				return role
			}
		case RoleEndUser:
			if d.EndUser != nil && p.isHyperscaler(d.EndUser.Name) {
				return role
			}
		}
	}
	return ""
}

func (p *Policy) isHyperscaler(name string) bool {
	for _, h := range p.rules.Hyperscalers {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}
