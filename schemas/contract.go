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
}

// Counterparty is the customer / lessee. Name is nil when undisclosed; Descriptor
// then holds the article's description ("investment-grade hyperscaler").
type Counterparty struct {
	Name        *string `json:"name"`
	Descriptor  *string `json:"descriptor"`
	Hyperscaler bool    `json:"hyperscaler"`
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
	URL         string  `json:"url"`
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
	return &u
}
