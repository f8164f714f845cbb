package schemas

import (
	"encoding/base64"
	"fmt"
	"time"
	"unicode/utf8"
)

// Article is one fetched page, the message on mwledger.articles (key = CanonicalURL).
type Article struct {
	SchemaVersion int               `json:"schema_version"`
	CanonicalURL  string            `json:"canonical_url"`
	URL           string            `json:"url"`
	FetchedAt     time.Time         `json:"fetched_at"`
	Status        int               `json:"status"`
	Headers       map[string]string `json:"headers,omitempty"`
	HTML          string            `json:"html"`
	HTMLBase64    bool              `json:"html_base64,omitempty"`
	ContentHash   string            `json:"content_hash"`
	Source        string            `json:"source"`
	// Version counts the distinct contents published under CanonicalURL: 1 for the
	// first, 2 after the page changed, and so on. Optional (absent in messages of
	// crawlers that predate it); schema_version stays 1.
	Version int `json:"version,omitempty"`
	// Filing is set on the documents of a regulatory filing (SEC EDGAR
	// sources): its form type, filing date and accession number. Optional.
	Filing *Filing `json:"filing,omitempty"`
}

// Filing describes the regulatory filing an article is a document of.
type Filing struct {
	// FormType is the form: 8-K, 6-K, 8-K/A, 10-Q, …
	FormType string `json:"form_type"`
	// FilingDate is the date the filing was accepted, YYYY-MM-DD.
	FilingDate string `json:"filing_date,omitempty"`
	// AccessionNumber identifies the filing (0001234567-25-000012).
	AccessionNumber string `json:"accession_number,omitempty"`
	// DocumentType is the document's type within the filing: the form for
	// the main document, EX-99.1 for a press-release exhibit.
	DocumentType string `json:"document_type,omitempty"`
	// CIK and Company name the filer as EDGAR does.
	CIK     string `json:"cik,omitempty"`
	Company string `json:"company,omitempty"`
}

// SetBody stores the raw body, base64-encoded when it is not valid UTF-8 (JSON strings
// cannot carry arbitrary bytes without mangling them).
func (a *Article) SetBody(b []byte) {
	if utf8.Valid(b) {
		a.HTML, a.HTMLBase64 = string(b), false
		return
	}
	a.HTML, a.HTMLBase64 = base64.StdEncoding.EncodeToString(b), true
}

// Body returns the raw body bytes as fetched.
func (a *Article) Body() ([]byte, error) {
	if !a.HTMLBase64 {
		return []byte(a.HTML), nil
	}
	b, err := base64.StdEncoding.DecodeString(a.HTML)
	if err != nil {
		return nil, fmt.Errorf("decoding html_base64 of %s: %w", a.CanonicalURL, err)
	}
	return b, nil
}
