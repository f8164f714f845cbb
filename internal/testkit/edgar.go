package testkit

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// EdgarHost is the host name the EDGAR-shaped site answers to (through its
// Dial only): the crawler fetches "www.sec.gov" on loopback and the indexer
// ranks what it fetched there as a filing.
const EdgarHost = "www.sec.gov"

// EdgarRequest is one request the EDGAR site received.
type EdgarRequest struct {
	At        time.Time
	Path      string // path and query
	UserAgent string
}

// EdgarFiling is one filing the site serves.
type EdgarFiling struct {
	CIK, Company, Form, Date, Accession string
	// Docs are the rows of the filing index: Type, file name, body (HTML);
	// a file name of the main document starting with "ix:" is linked through
	// the inline XBRL viewer (/ix?doc=…).
	Docs []EdgarDoc
}

// EdgarDoc is a document of a filing.
type EdgarDoc struct {
	Type, Name, Body string
}

// Path is the document's address on the site.
func (f EdgarFiling) Path(name string) string {
	return fmt.Sprintf("/Archives/edgar/data/%s/%s/%s", strings.TrimLeft(f.CIK, "0"), strings.ReplaceAll(f.Accession, "-", ""), strings.TrimPrefix(name, "ix:"))
}

// IndexPath is the filing index page's address.
func (f EdgarFiling) IndexPath() string { return f.Path(f.Accession + "-index.htm") }

// EdgarSite serves EDGAR-shaped pages written for the tests: each company's
// filings Atom feed (/cgi-bin/browse-edgar?action=getcompany&CIK=…&type=…&output=atom,
// by CIK or by ticker), filing index pages and their documents.
type EdgarSite struct {
	srv     *httptest.Server
	filings []EdgarFiling
	tickers map[string]string // ticker → CIK

	mu       sync.Mutex
	requests []EdgarRequest
	refused  []string
}

// press is a press-release exhibit of our own invention.
func press(title string, paras ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<html><head><title>%s</title></head><body>\n<p align=\"center\"><b>%s</b></p>\n", html.EscapeString(title), html.EscapeString(title))
	for _, p := range paras {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(p))
	}
	b.WriteString("<p>Forward-looking statements: this release contains statements about future events that involve risks and uncertainties; actual results may differ materially.</p>\n</body></html>\n")
	return b.String()
}

// EdgarFilings are the filings of the test site: two of a company known by
// its ticker (IREN, CIK 9990001), one of a foreign issuer by CIK (9990002),
// and a filing of another form in the same feed.
func EdgarFilings() []EdgarFiling {
	return []EdgarFiling{
		{CIK: "0009990001", Company: "IREN Ltd", Form: "8-K", Date: "2025-11-03", Accession: "0009990001-25-000041", Docs: []EdgarDoc{
			{"8-K", "ix:iren-20251103.htm", press("Current Report on Form 8-K",
				"Item 7.01 Regulation FD Disclosure. On November 3, 2025 the Company issued the press release furnished as Exhibit 99.1 and the presentation furnished as Exhibit 99.2 to this report.",
				"Item 9.01 Financial Statements and Exhibits. The exhibits listed in the index below are furnished with this report and are not deemed filed.")},
			{"EX-99.1", "ex991.htm", press("IREN signs seven-year colocation agreement with Anthropic",
				"IREN announced today that it has signed a seven-year colocation agreement with Anthropic for 150 MW of critical IT load at its Sweetwater campus in Texas.",
				"The agreement has a total contract value of approximately $2.1 billion, and the first 50 MW are scheduled to be delivered in the second half of 2026.",
				"The customer will pay a prepayment of $210 million on signing.")},
			{"EX-99.2", "ex992.htm", press("Investor presentation",
				"The Sweetwater campus is planned for 2 GW of grid connection, of which 150 MW are now contracted under the colocation agreement announced today.",
				"Management will discuss the agreement on a conference call for analysts and investors.")},
			{"EX-10.1", "ex101.htm", press("Colocation Services Agreement", "This agreement is made between the parties named on the signature page.")},
			{"GRAPHIC", "logo.jpg", "\xff\xd8\xff\xe0 not really a picture"},
		}},
		{CIK: "0009990001", Company: "IREN Ltd", Form: "8-K/A", Date: "2025-11-10", Accession: "0009990001-25-000043", Docs: []EdgarDoc{
			{"8-K/A", "iren-8ka.htm", press("Amendment No. 1 on Form 8-K/A",
				"This amendment corrects the date of the conference call mentioned in Exhibit 99.1 of the report filed on November 3, 2025. No other information in that report is changed by this amendment.")},
			{"EX-99.1", "ex991a.htm", press("IREN updates conference call date",
				"IREN will hold its conference call on the colocation agreement with Anthropic on November 12, 2025 instead of the date given earlier. Dial-in details are on the investor website.")},
		}},
		{CIK: "0009990001", Company: "IREN Ltd", Form: "SC 13G", Date: "2025-10-20", Accession: "0009990001-25-000039", Docs: []EdgarDoc{
			{"SC 13G", "sc13g.htm", press("Schedule 13G", "A statement of beneficial ownership filed by a holder of more than five percent of the shares of the Company, repeated here at length so that the page has enough text.")},
		}},
		{CIK: "0009990002", Company: "Northwind Compute plc", Form: "6-K", Date: "2025-09-15", Accession: "0009990002-25-000007", Docs: []EdgarDoc{
			{"6-K", "nw6k.htm", press("Report of Foreign Private Issuer on Form 6-K",
				"On September 15, 2025 the registrant published the announcement attached to this report as Exhibit 99.1, which is incorporated here by reference.")},
			{"EX-99.1", "nw-ex991.htm", press("Northwind Compute agrees GPU cloud contract with Microsoft",
				"Northwind Compute said it has agreed a five-year GPU cloud services contract with Microsoft worth about $1.4 billion, served from 60 MW of capacity at its campus in Norway.")},
		}},
	}
}

// NewEdgarSite starts the site on a loopback port.
func NewEdgarSite() *EdgarSite {
	s := &EdgarSite{filings: EdgarFilings(), tickers: map[string]string{"IREN": "0009990001"}}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/cgi-bin/browse-edgar", s.feed)
	mux.HandleFunc("/Archives/", s.archive)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, EdgarRequest{At: time.Now(), Path: r.URL.RequestURI(), UserAgent: r.UserAgent()})
		s.mu.Unlock()
		if !strings.EqualFold(r.Host, EdgarHost) {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return s
}

// Close stops the site.
func (s *EdgarSite) Close() { s.srv.Close() }

// Requests returns the requests received so far.
func (s *EdgarSite) Requests() []EdgarRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]EdgarRequest(nil), s.requests...)
}

// Refused returns the addresses Dial refused.
func (s *EdgarSite) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// Dial connects EdgarHost:80 to the site's loopback listener, and records
// and refuses every other address: nothing leaves 127.0.0.1.
func (s *EdgarSite) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil && strings.EqualFold(host, EdgarHost) && port == "80" {
		return (&net.Dialer{}).DialContext(ctx, network, s.srv.Listener.Addr().String())
	}
	s.mu.Lock()
	s.refused = append(s.refused, addr)
	s.mu.Unlock()
	return nil, fmt.Errorf("edgar test site: %s refused (only %s:80 is served)", addr, EdgarHost)
}

func (s *EdgarSite) feed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("action") != "getcompany" || q.Get("output") != "atom" {
		http.Error(w, "not an atom company feed", http.StatusBadRequest)
		return
	}
	cik := q.Get("CIK")
	if c, ok := s.tickers[strings.ToUpper(cik)]; ok {
		cik = c
	}
	cik = strings.TrimLeft(cik, "0")
	form := strings.ToUpper(q.Get("type"))
	base := "http://" + EdgarHost
	var name, fullCIK string
	var entries strings.Builder
	for _, f := range s.filings {
		if strings.TrimLeft(f.CIK, "0") != cik {
			continue
		}
		name, fullCIK = f.Company, f.CIK
		// EDGAR's type filter is a prefix; the SC 13G stands in for the
		// other forms a feed may hold.
		if form != "" && !strings.HasPrefix(f.Form, form) && f.Form != "SC 13G" {
			continue
		}
		fmt.Fprintf(&entries, `<entry>
<category label="form type" scheme="%[1]s/" term="%[2]s"/>
<content type="text/xml">
<accession-number>%[3]s</accession-number>
<filing-date>%[4]s</filing-date>
<filing-href>%[1]s%[5]s</filing-href>
<filing-type>%[2]s</filing-type>
<form-name>%[2]s report</form-name>
</content>
<id>urn:tag:sec.gov,2008:accession-number=%[3]s</id>
<link href="%[1]s%[5]s" rel="alternate" type="text/html"/>
<title>%[2]s - report of %[4]s</title>
<updated>%[4]sT16:30:00-05:00</updated>
</entry>
`, base, html.EscapeString(f.Form), f.Accession, f.Date, f.IndexPath())
	}
	w.Header().Set("Content-Type", "application/atom+xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="ISO-8859-1" ?>
<feed xmlns="http://www.w3.org/2005/Atom">
<company-info><cik>%s</cik><conformed-name>%s</conformed-name></company-info>
<title>filings</title>
<updated>2025-11-10T00:00:00-05:00</updated>
%s</feed>
`, fullCIK, html.EscapeString(name), entries.String())
}

func (s *EdgarSite) archive(w http.ResponseWriter, r *http.Request) {
	for _, f := range s.filings {
		if r.URL.Path == f.IndexPath() {
			s.index(w, f)
			return
		}
		for _, d := range f.Docs {
			if r.URL.Path == f.Path(d.Name) {
				if strings.HasSuffix(d.Name, ".jpg") {
					w.Header().Set("Content-Type", "image/jpeg")
				} else {
					w.Header().Set("Content-Type", "text/html")
				}
				fmt.Fprint(w, d.Body)
				return
			}
		}
	}
	http.NotFound(w, r)
}

func (s *EdgarSite) index(w http.ResponseWriter, f EdgarFiling) {
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>EDGAR Filing Documents for %[1]s</title></head><body>
<div id="PageTitle">Filing Detail</div>
<div id="formDiv"><div id="formHeader"><div id="formName"><strong>Form %[2]s</strong> - report:</div>
<div id="secNum"><strong>SEC Accession No.</strong> %[1]s</div></div>
<div class="formContent"><div class="formGrouping"><div class="infoHead">Filing Date</div><div class="info">%[3]s</div>
<div class="infoHead">Accepted</div><div class="info">%[3]s 16:29:58</div></div></div>
<div id="formDiv"><table class="tableFile" summary="Document Format Files">
<tr><th scope="col">Seq</th><th scope="col">Description</th><th scope="col">Document</th><th scope="col">Type</th><th scope="col">Size</th></tr>
`, f.Accession, html.EscapeString(f.Form), f.Date)
	for i, d := range f.Docs {
		href := f.Path(d.Name)
		if strings.HasPrefix(d.Name, "ix:") {
			href = "/ix?doc=" + href
		}
		fmt.Fprintf(w, `<tr><td scope="row">%d</td><td scope="row">%s</td><td scope="row"><a href="%s">%s</a></td><td scope="row">%s</td><td scope="row">%d</td></tr>
`, i+1, html.EscapeString(d.Type), href, strings.TrimPrefix(d.Name, "ix:"), html.EscapeString(d.Type), len(d.Body))
	}
	fmt.Fprint(w, `</table></div>
<div id="formDiv"><table class="tableFile" summary="Data Files"><tr><th>Seq</th><th>Description</th><th>Document</th><th>Type</th><th>Size</th></tr>
<tr><td>6</td><td>XBRL</td><td><a href="/Archives/edgar/data/x.xml">x.xml</a></td><td>EX-101.SCH</td><td>10</td></tr></table></div>
</div></body></html>
`)
}
