package ledger

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// Deal is a ledger document: one contract, however many articles reported it.
// The embedded Contract holds the values shown for the deal (per field, the value
// of the most authoritative source, see authority.go); Provenance keeps what every
// source said, Conflicts names the fields on which sources disagree, Events the
// lifecycle changes (upsize, extension, …) linked to the deal.
type Deal struct {
	schemas.Contract
	// Status is "active" or "cancelled" (after a cancellation event).
	Status string `json:"status"`
	// Current holds the figures after the lifecycle events (nil when no event changed them).
	Current *Figures `json:"current,omitempty"`
	// Sources lists every article that reported the deal or one of its events, sorted by URL.
	Sources []DealSource `json:"sources"`
	// Provenance lists, per field, each distinct value and the sources that gave it.
	Provenance []FieldClaim `json:"provenance"`
	// Conflicts names the fields with more than one distinct value.
	Conflicts []string `json:"conflicts"`
	// Events are the lifecycle changes of the deal, in the order they were first seen.
	Events []DealEvent `json:"events"`
	// Parts (of an aggregate) and PartOf (of a part) link aggregates with the
	// contracts they sum, when those are in the ledger.
	Parts  []string `json:"parts,omitempty"`
	PartOf []string `json:"part_of,omitempty"`
	// RecordIDs are the extractor ids of every record that resolved to this deal:
	// a record seen again resolves to the same deal, whatever else arrived meanwhile.
	RecordIDs []string `json:"record_ids"`
	// Alerts raised for the deal, with their delivery state (the outbox).
	Alerts []Alert `json:"alerts"`
	// Review is a reviewer's verdict (nil: never reviewed). Its corrections
	// override what the sources say, and survive every later merge.
	Review *Review `json:"review,omitempty"`
	// ReviewReasons says why the deal is in the review queue (see
	// ReviewReasons); empty when it is not.
	ReviewReasons []string  `json:"review_reasons,omitempty"`
	IndexedAt     time.Time `json:"indexed_at"`
}

// Review statuses.
const (
	ReviewAccepted  = "accepted"
	ReviewCorrected = "corrected"
)

// Review is a reviewer's verdict on a deal: accepted as shown, or corrected
// field by field. RecordCount is the number of records the deal had when it was
// reviewed: a record arriving later puts the deal back in the review queue when
// it brings warnings or conflicts of its own.
type Review struct {
	Status      string       `json:"status"`
	By          string       `json:"by"`
	At          time.Time    `json:"at"`
	Note        string       `json:"note,omitempty"`
	RecordCount int          `json:"record_count"`
	Corrections []Correction `json:"corrections,omitempty"`
}

// Correction replaces the value of one field (see ReviewFields) with Value; Was
// is the value the sources gave when the correction was made.
type Correction struct {
	Field string `json:"field"`
	Value string `json:"value"`
	Was   string `json:"was,omitempty"`
}

// Figures are a deal's size.
type Figures struct {
	CapacityMW    *float64 `json:"capacity_mw"`
	TotalValueUSD *float64 `json:"total_value_usd"`
	TermYears     *float64 `json:"term_years"`
}

// DealSource is one article that reported a deal (Role "report") or one of its
// events (Role "event"), with what it claimed.
type DealSource struct {
	URL string `json:"url"`
	// FetchedURL is where the crawler fetched the article (URL may be its
	// rel=canonical); empty for records that do not say.
	FetchedURL       string   `json:"fetched_url,omitempty"`
	Title            *string  `json:"title"`
	Outlet           *string  `json:"outlet"`
	PublishedAt      *string  `json:"published_at"`
	Evidence         []string `json:"evidence"`
	ExtractorVersion string   `json:"extractor_version"`
	// RecordID is the id the extractor gave the record.
	RecordID string `json:"record_id,omitempty"`
	// Role is "report" or "event".
	Role string `json:"role,omitempty"`
	// Authority ranks the source (see authority.go); AuthorityReason says why.
	Authority       int    `json:"authority"`
	AuthorityReason string `json:"authority_reason,omitempty"`
	// Match says how the record found this deal: id, record_id, figures, parties, new.
	Match string `json:"match,omitempty"`
	// Claims is the record as the extractor wrote it (stored, not indexed): the
	// deal is recomputed from the claims of all its sources.
	Claims *schemas.Contract `json:"claims,omitempty"`
}

// FieldClaim is one value of one field and the sources that gave it.
type FieldClaim struct {
	Field     string   `json:"field"`
	Value     string   `json:"value"`
	Number    *float64 `json:"number,omitempty"`
	Sources   []string `json:"sources"`
	Authority int      `json:"authority"`
	Shown     bool     `json:"shown"`
}

// DealEvent is a lifecycle change linked to a deal.
type DealEvent struct {
	ID string `json:"id"`
	schemas.Event
	// Sources are the URLs of the articles that reported the change.
	Sources   []string  `json:"sources"`
	FirstSeen time.Time `json:"first_seen"`
}

// Alert is one notification raised for a deal. It is written in the same
// conditional write as the deal change that raised it, and Key is unique per
// deal, so a record seen again (another outlet, a replay, a restart) never raises
// it twice. Pending lists the sinks it still has to reach: the deal document is
// also the outbox that the alert dispatcher drains.
type Alert struct {
	ID        string          `json:"id"`
	Key       string          `json:"key"`
	Kind      string          `json:"kind"`
	Rule      string          `json:"rule"`
	CreatedAt time.Time       `json:"created_at"`
	Pending   []string        `json:"pending"`
	Delivered []Delivery      `json:"delivered"`
	Payload   json.RawMessage `json:"payload"`
}

// Delivery records that a sink acknowledged an alert.
type Delivery struct {
	Sink string    `json:"sink"`
	At   time.Time `json:"at"`
}

// AlertPolicy decides which alerts a deal change raises. before is the deal as
// stored before the change (nil for a new deal). The indexer drops alerts whose
// Key the deal already carries, and fills ID.
type AlertPolicy interface {
	Evaluate(before *Deal, after *Deal, now time.Time) []Alert
}

// PendingAlert is an alert that some sink has not acknowledged yet.
type PendingAlert struct {
	DealID string
	Alert  Alert
}

// Outbox is the delivery side of the alerts stored in the deals.
type Outbox interface {
	// PendingAlerts returns up to limit alerts with a pending sink, oldest first:
	// those of the deals dealIDs when given (read in real time), else any.
	PendingAlerts(ctx context.Context, dealIDs []string, limit int) ([]PendingAlert, error)
	// AckAlerts records that sinks delivered alerts (a batch: one write per deal).
	AckAlerts(ctx context.Context, acks []Ack) error
}

// Store is where the indexer writes deals.
type Store interface {
	// Upsert writes the records and returns one error per record (nil = stored).
	// A returned error that is retryable (see stream.IsRetryable) may succeed later.
	Upsert(ctx context.Context, cs []schemas.Contract) []error
	// Search answers a query over the ledger.
	Search(ctx context.Context, q Query) (Result, error)
}

// union keeps a's order and appends what b adds.
func union(a, b []string) []string {
	out := append([]string{}, a...)
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Preparer is a store that can start work for the next Upsert while the
// indexer stage decodes a batch (ledger/es: the refresh its candidate
// searches need).
type Preparer interface{ Prepare(ctx context.Context) }
