package schemas

import "math"

// Contract is one contract as read from one article: the message on
// mwledger.contracts (key = ID) and the Elasticsearch document (_id = ID).
type Contract struct {
	SchemaVersion        int               `json:"schema_version"`
	ID                   string            `json:"id"`
	Operator             Operator          `json:"operator"`
	Counterparty         Counterparty      `json:"counterparty"`
	EndUser              *Party            `json:"end_user"`
	Guarantor            *Party            `json:"guarantor"`
	ContractType         string            `json:"contract_type"`
	CapacityMW           *float64          `json:"capacity_mw"`
	TotalValueUSD        *float64          `json:"total_value_usd"`
	TermYears            *float64          `json:"term_years"`
	USDPerMWYear         *float64          `json:"usd_per_mw_year"`
	ReportedUSDPerMWYear *float64          `json:"reported_usd_per_mw_year"`
	PrepaymentUSD        *float64          `json:"prepayment_usd"`
	GuaranteeUSD         *float64          `json:"guarantee_usd"`
	Terms                []string          `json:"terms"`
	Location             *string           `json:"location"`
	Hardware             *string           `json:"hardware"`
	AnnouncedOn          *string           `json:"announced_on"`
	Aggregate            bool              `json:"aggregate"`
	Source               Source            `json:"source"`
	Evidence             []string          `json:"evidence"`
	FieldEvidence        map[string]string `json:"field_evidence,omitempty"`
	Warnings             []string          `json:"warnings,omitempty"`
	Confidence           float64           `json:"confidence"`
	ExtractorVersion     string            `json:"extractor_version"`
	// Event, when set, says the article reports a change to an existing deal
	// (upsize, extension, amendment, added guarantee, cancellation) rather than a
	// new deal. Optional: records without it are ordinary deal reports.
	Event *Event `json:"event,omitempty"`
}

// Event types of Contract.Event.
const (
	EventUpsize         = "upsize"
	EventExtension      = "extension"
	EventAmendment      = "amendment"
	EventGuaranteeAdded = "guarantee_added"
	EventCancellation   = "cancellation"
)

// EventTypes lists every event type, in a stable order.
var EventTypes = []string{EventUpsize, EventExtension, EventAmendment, EventGuaranteeAdded, EventCancellation}

// Event is a change to an existing deal as one article reports it. In a record
// that carries an Event, the top-level operator and counterparty name the deal
// that changed and the top-level figures (capacity_mw, total_value_usd,
// term_years, announced_on, location) restate the ORIGINAL deal as the article
// gives it (null when not restated): the indexer uses them only to find the deal.
// The change itself is described here. Every field but Type is optional.
type Event struct {
	// Type is one of upsize, extension, amendment, guarantee_added, cancellation.
	Type string `json:"type"`
	// On is when the change was announced or takes effect (YYYY-MM-DD or YYYY-MM).
	On *string `json:"on,omitempty"`
	// AddedMW, AddedValueUSD and AddedTermYears are what the change adds
	// ("an option for 150 MW more" → AddedMW 150).
	AddedMW        *float64 `json:"added_mw,omitempty"`
	AddedValueUSD  *float64 `json:"added_value_usd,omitempty"`
	AddedTermYears *float64 `json:"added_term_years,omitempty"`
	// NewCapacityMW, NewTotalValueUSD and NewTermYears are the deal's totals after
	// the change, when the article states them ("bringing the lease to 350 MW").
	NewCapacityMW    *float64 `json:"new_capacity_mw,omitempty"`
	NewTotalValueUSD *float64 `json:"new_total_value_usd,omitempty"`
	NewTermYears     *float64 `json:"new_term_years,omitempty"`
	// Guarantor and GuaranteeUSD describe an added guarantee.
	Guarantor    *Party   `json:"guarantor,omitempty"`
	GuaranteeUSD *float64 `json:"guarantee_usd,omitempty"`
	// Summary is the sentence that reports the change.
	Summary *string `json:"summary,omitempty"`
}

// Contract types.
const (
	TypeColocation    = "colocation"
	TypeBareMetal     = "bare_metal"
	TypeCloudServices = "cloud_services"
	TypeUnknown       = "unknown"
)

// Terms a contract may carry.
const (
	TermPrepayment      = "prepayment"
	TermTripleNet       = "triple_net"
	TermTakeOrPay       = "take_or_pay"
	TermGuarantee       = "guarantee"
	TermEquityWarrants  = "equity_warrants"
	TermExpansionOption = "expansion_option"
	TermNoNegotiation   = "no_negotiation"
)

// Operator is the provider / lessor.
type Operator struct {
	Name   string  `json:"name"`
	Ticker *string `json:"ticker"`
	// Key is Key(Name), set by the ledger when it writes the deal; records
	// on mwledger.contracts leave it out.
	Key string `json:"key,omitempty"`
}

// Counterparty is the customer / lessee. Name is nil when undisclosed; Descriptor
// then holds the article's description ("investment-grade hyperscaler").
type Counterparty struct {
	Name        *string `json:"name"`
	Descriptor  *string `json:"descriptor"`
	Hyperscaler bool    `json:"hyperscaler"`
	// Key is Key(Label()): of the name, or of the descriptor when the name
	// is undisclosed. The ledger sets it when it writes the deal and looks
	// deals up by it; records on mwledger.contracts leave it out.
	Key string `json:"key,omitempty"`
}

// Label is the name, or the descriptor when the name is undisclosed.
func (c Counterparty) Label() string {
	if c.Name != nil {
		return *c.Name
	}
	if c.Descriptor != nil {
		return *c.Descriptor
	}
	return ""
}

// Party is an end user or guarantor.
type Party struct {
	Name string `json:"name"`
}

// Source is the article a record came from.
type Source struct {
	// URL is the article's URL: its rel=canonical when the crawler trusted it
	// (within the fetched site), else the URL it was fetched from.
	URL string `json:"url"`
	// FetchedURL is the URL the crawler actually fetched the page from (the
	// article's url), set by the extractor stage; authority comes from its
	// host. Optional: absent in records of older stages and of saved files.
	FetchedURL  string  `json:"fetched_url,omitempty"`
	Title       *string `json:"title"`
	Outlet      *string `json:"outlet"`
	PublishedAt *string `json:"published_at"`
}

// DerivedUSDPerMWYear is total_value_usd / (capacity_mw × term_years), rounded to
// the dollar, or nil when an input is missing or zero.
func DerivedUSDPerMWYear(value, mw, years *float64) *float64 {
	if value == nil || mw == nil || years == nil || *mw <= 0 || *years <= 0 {
		return nil
	}
	u := math.Round(*value / (*mw * *years))
	if math.IsInf(u, 0) || math.IsNaN(u) {
		return nil // a hostile record's 1e-300 MW: no price rather than one JSON cannot write
	}
	return &u
}
