package alert

import (
	"fmt"
	"strings"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// Message is what every sink delivers: a Slack-compatible "text" plus the
// structured fields. It is built when the alert is raised and stored with it.
type Message struct {
	Text         string   `json:"text"`
	AlertID      string   `json:"alert_id"`
	Kind         string   `json:"kind"`
	Rule         string   `json:"rule"`
	DealID       string   `json:"deal_id"`
	Operator     string   `json:"operator"`
	Counterparty string   `json:"counterparty"`
	Hyperscaler  bool     `json:"hyperscaler"`
	Guarantor    *string  `json:"guarantor"`
	EndUser      *string  `json:"end_user"`
	ContractType string   `json:"contract_type"`
	CapacityMW   *float64 `json:"capacity_mw"`
	// TotalValueUSD, TermYears and USDPerMWYear are the deal's figures as shown.
	TotalValueUSD *float64 `json:"total_value_usd"`
	TermYears     *float64 `json:"term_years"`
	USDPerMWYear  *float64 `json:"usd_per_mw_year"`
	// Current are the figures after lifecycle events, when they differ.
	Current     *ledger.Figures   `json:"current,omitempty"`
	Status      string            `json:"status"`
	Location    *string           `json:"location"`
	AnnouncedOn *string           `json:"announced_on"`
	Event       *ledger.DealEvent `json:"event,omitempty"`
	Conflicts   []string          `json:"conflicts"`
	Sources     []SourceLink      `json:"sources"`
	RaisedAt    time.Time         `json:"raised_at"`
}

// SourceLink is an article behind the alert.
type SourceLink struct {
	URL    string  `json:"url"`
	Outlet *string `json:"outlet"`
	Title  *string `json:"title"`
}

func buildMessage(d *ledger.Deal, kind, rule string, ev *ledger.DealEvent, now time.Time) Message {
	m := Message{Kind: kind, Rule: rule, DealID: d.ID, Operator: d.Operator.Name, Counterparty: d.Counterparty.Label(),
		Hyperscaler: d.Counterparty.Hyperscaler, ContractType: d.ContractType, CapacityMW: d.CapacityMW,
		TotalValueUSD: d.TotalValueUSD, TermYears: d.TermYears, USDPerMWYear: d.USDPerMWYear, Current: d.Current,
		Status: d.Status, Location: d.Location, AnnouncedOn: d.AnnouncedOn, Event: ev, Conflicts: d.Conflicts,
		Sources: []SourceLink{}, RaisedAt: now}
	if d.Guarantor != nil {
		m.Guarantor = &d.Guarantor.Name
	}
	if d.EndUser != nil {
		m.EndUser = &d.EndUser.Name
	}
	for _, s := range d.Sources {
		m.Sources = append(m.Sources, SourceLink{URL: s.URL, Outlet: s.Outlet, Title: s.Title})
	}
	m.Text = text(m)
	return m
}

// text is the one-paragraph human summary (Slack mrkdwn links).
func text(m Message) string {
	var b strings.Builder
	head := map[string]string{
		OnNew: "New hyperscaler deal", OnCounterpartyDisclosed: "Counterparty disclosed",
		schemas.EventUpsize: "Deal upsized", schemas.EventExtension: "Deal extended", schemas.EventAmendment: "Deal amended",
		schemas.EventGuaranteeAdded: "Guarantee added", schemas.EventCancellation: "Deal cancelled",
	}[m.Kind]
	fmt.Fprintf(&b, "%s: %s – %s", head, m.Operator, m.Counterparty)
	if m.Guarantor != nil {
		fmt.Fprintf(&b, " (guaranteed by %s)", *m.Guarantor)
	}
	fmt.Fprintf(&b, ", %s: %s, %s", strings.ReplaceAll(m.ContractType, "_", " "), mw(m.CapacityMW), usd(m.TotalValueUSD))
	if m.TermYears != nil {
		fmt.Fprintf(&b, " over %g years", *m.TermYears)
	}
	if m.USDPerMWYear != nil {
		fmt.Fprintf(&b, " (%s/MW/year)", usd(m.USDPerMWYear))
	}
	if m.Event != nil {
		if m.Event.AddedMW != nil {
			fmt.Fprintf(&b, "; adds %s", mw(m.Event.AddedMW))
		}
		if m.Event.On != nil {
			fmt.Fprintf(&b, " on %s", *m.Event.On)
		}
	}
	if m.Current != nil {
		fmt.Fprintf(&b, "; now %s, %s", mw(m.Current.CapacityMW), usd(m.Current.TotalValueUSD))
	}
	if len(m.Conflicts) > 0 {
		fmt.Fprintf(&b, "; sources disagree on %s", strings.Join(m.Conflicts, ", "))
	}
	b.WriteString(". Sources:")
	for _, s := range m.Sources {
		label := s.URL
		if s.Outlet != nil {
			label = *s.Outlet
		}
		fmt.Fprintf(&b, " <%s|%s>", s.URL, label)
	}
	return b.String()
}

func mw(p *float64) string {
	if p == nil {
		return "MW n/a"
	}
	return fmt.Sprintf("%g MW", *p)
}

func usd(p *float64) string {
	switch {
	case p == nil:
		return "value n/a"
	case *p >= 1e9:
		return fmt.Sprintf("$%.2fB", *p/1e9)
	case *p >= 1e6:
		return fmt.Sprintf("$%.2fM", *p/1e6)
	}
	return fmt.Sprintf("$%.0f", *p)
}
