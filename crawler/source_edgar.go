package crawler

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"

	"github.com/mwledger/mwledger/schemas"
)

// SEC EDGAR as a source. A source of kind edgar reads, for each company and
// form type, the company's filings Atom feed (browse-edgar … output=atom),
// opens each filing's index page, and fetches the filing's main document and
// its press-release exhibits (EX-99.*), which are published as articles with
// the filing's form type, date and accession number (schemas.Filing). The
// indexer gives them the authority of a filing because of the host they were
// fetched from (sec.gov), not because of anything they say.
//
// The SEC's fair-access rules: every request names the organisation and a
// contact address in its User-Agent (required, a source without one is
// refused), and all EDGAR sources of a crawler together make at most
// RequestsPerSecond (≤ 10) requests per second, robots.txt, retries and
// redirects included (edgarTransport).

// KindEdgar is the Source.Kind of SEC EDGAR sources.
const KindEdgar = "edgar"

// Request kinds of EDGAR sources.
const (
	kindEdgarFeed  = "edgar_feed"
	kindEdgarIndex = "edgar_index"
)

// EdgarMaxRequestsPerSecond is the SEC's published ceiling.
const EdgarMaxRequestsPerSecond = 10

// EdgarSource configures a source of kind edgar.
type EdgarSource struct {
	// UserAgent names the organisation and a contact e-mail address, as the
	// SEC asks ("Example Research LLC research@example.com"). Required.
	UserAgent string `yaml:"user_agent"`
	// CIKs are the companies' Central Index Keys (digits, leading zeros optional).
	CIKs []string `yaml:"ciks"`
	// Tickers are company tickers of the entities file (extractor/data/entities.yaml);
	// EDGAR resolves a ticker to its company. A ticker not in the entities
	// file is refused when the crawl starts (Config.Tickers).
	Tickers []string `yaml:"tickers"`
	// Forms are the form types read. Default [8-K, 6-K]. Amendments (8-K/A)
	// come with their form.
	Forms []string `yaml:"forms"`
	// Exhibits are the exhibit type prefixes followed besides the main
	// document. Default [EX-99] (press releases: EX-99.1, EX-99.2, …).
	Exhibits []string `yaml:"exhibits"`
	// Count is the number of latest filings of each feed read. Default 20 (1–100).
	Count int `yaml:"count"`
	// RequestsPerSecond bounds the requests of all EDGAR sources together.
	// Default 5; at most 10.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// BaseURL is EDGAR's address. Default https://www.sec.gov (tests point it
	// at a local site).
	BaseURL string `yaml:"base_url"`
}

var (
	cikRe    = regexp.MustCompile(`^[0-9]{1,10}$`)
	tickerRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.\-]{0,9}$`)
	formRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ./\-]{0,19}$`)
)

func (e *EdgarSource) withDefaults() EdgarSource {
	out := *e
	if len(out.Forms) == 0 {
		out.Forms = []string{"8-K", "6-K"}
	}
	if len(out.Exhibits) == 0 {
		out.Exhibits = []string{"EX-99"}
	}
	if out.Count == 0 {
		out.Count = 20
	}
	if out.RequestsPerSecond == 0 {
		out.RequestsPerSecond = 5
	}
	if out.BaseURL == "" {
		out.BaseURL = "https://www.sec.gov"
	}
	out.BaseURL = strings.TrimRight(out.BaseURL, "/")
	return out
}

// validateEdgar checks a source of kind edgar.
func (s *Source) validateEdgar() error {
	e := s.Edgar
	if e == nil {
		return fmt.Errorf("%s: kind edgar needs an edgar block (user_agent, ciks or tickers, forms)", s.Name)
	}
	if len(s.Feeds)+len(s.Sitemaps)+len(s.Listings)+len(s.URLs) > 0 {
		return fmt.Errorf("%s: a source of kind edgar takes no feeds, sitemaps, listings or urls: its start points are the companies' filings feeds", s.Name)
	}
	if err := checkEdgarUserAgent(e.UserAgent); err != nil {
		return fmt.Errorf("%s: edgar user_agent: %w", s.Name, err)
	}
	if len(e.CIKs)+len(e.Tickers) == 0 {
		return fmt.Errorf("%s: edgar needs ciks or tickers", s.Name)
	}
	for _, c := range e.CIKs {
		if !cikRe.MatchString(c) {
			return fmt.Errorf("%s: edgar cik %q must be 1 to 10 digits", s.Name, c)
		}
	}
	for _, t := range e.Tickers {
		if !tickerRe.MatchString(t) {
			return fmt.Errorf("%s: edgar ticker %q is not a ticker (letters, digits, . and -)", s.Name, t)
		}
	}
	for _, f := range e.Forms {
		if !formRe.MatchString(f) {
			return fmt.Errorf("%s: edgar form %q is not a form type like 8-K or 6-K", s.Name, f)
		}
	}
	for _, x := range e.Exhibits {
		if !strings.HasPrefix(strings.ToUpper(x), "EX-") {
			return fmt.Errorf("%s: edgar exhibit %q must start with EX- (e.g. EX-99)", s.Name, x)
		}
	}
	if e.Count < 0 || e.Count > 100 {
		return fmt.Errorf("%s: edgar count must be from 1 to 100 (0 or absent: 20)", s.Name)
	}
	if e.RequestsPerSecond < 0 || e.RequestsPerSecond > EdgarMaxRequestsPerSecond {
		return fmt.Errorf("%s: edgar requests_per_second must be above 0 and at most %d, the SEC's fair-access limit (0 or absent: 5)", s.Name, EdgarMaxRequestsPerSecond)
	}
	if e.BaseURL != "" {
		u, err := url.Parse(e.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("%s: edgar base_url %q must be a scheme and host like https://www.sec.gov", s.Name, e.BaseURL)
		}
	}
	return nil
}

// checkEdgarUserAgent wants an organisation and a contact e-mail address.
func checkEdgarUserAgent(ua string) error {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return fmt.Errorf("required: the SEC asks every automated client to name its organisation and a contact address, e.g. \"Example Research LLC research@example.com\"")
	}
	var email string
	var rest []string
	for _, f := range strings.Fields(ua) {
		if a, err := mail.ParseAddress(strings.Trim(f, "<>(),;")); err == nil && strings.Contains(a.Address, ".") && email == "" {
			email = a.Address
			continue
		}
		rest = append(rest, f)
	}
	if email == "" {
		return fmt.Errorf("%q has no contact e-mail address (e.g. \"Example Research LLC research@example.com\")", ua)
	}
	if !strings.ContainsFunc(strings.Join(rest, " "), func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }) {
		return fmt.Errorf("%q names no organisation besides the address (e.g. \"Example Research LLC %s\")", ua, email)
	}
	if strings.ContainsAny(ua, "\r\n") {
		return fmt.Errorf("must be one line")
	}
	return nil
}

// edgarFeeds are the Atom feed URLs of an edgar source: one per company and form.
func (s Source) edgarFeeds() []string {
	if s.Edgar == nil {
		return nil
	}
	e := s.Edgar.withDefaults()
	var out []string
	for _, c := range append(append([]string{}, e.CIKs...), e.Tickers...) {
		for _, f := range e.Forms {
			q := url.Values{"action": {"getcompany"}, "CIK": {c}, "type": {f}, "dateb": {""}, "owner": {"include"},
				"count": {fmt.Sprint(e.Count)}, "output": {"atom"}}
			out = append(out, e.BaseURL+"/cgi-bin/browse-edgar?"+q.Encode())
		}
	}
	return out
}

// checkTickers refuses tickers that the entities file does not know.
func (s Source) checkTickers(known map[string]string) error {
	if s.Edgar == nil || known == nil {
		return nil
	}
	for _, t := range s.Edgar.Tickers {
		if _, ok := known[strings.ToUpper(t)]; !ok {
			return fmt.Errorf("%s: edgar ticker %q is not in the entities file (give the company's cik, or add it to extractor/data/entities.yaml)", s.Name, t)
		}
	}
	return nil
}

// edgarFiling is one entry of a company's filings feed.
type edgarFiling struct {
	Form, Date, Accession, IndexURL, CIK, Company string
}

// edgarFeedFilings reads a browse-edgar Atom feed.
func edgarFeedFilings(body []byte) ([]edgarFiling, error) {
	var doc struct {
		Company struct {
			CIK  string `xml:"cik"`
			Name string `xml:"conformed-name"`
		} `xml:"company-info"`
		Entries []struct {
			Category struct {
				Term string `xml:"term,attr"`
			} `xml:"category"`
			Content struct {
				Accession string `xml:"accession-number"`
				Date      string `xml:"filing-date"`
				Href      string `xml:"filing-href"`
				Type      string `xml:"filing-type"`
			} `xml:"content"`
			Links []struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var out []edgarFiling
	for _, e := range doc.Entries {
		f := edgarFiling{Form: strings.TrimSpace(e.Content.Type), Date: strings.TrimSpace(e.Content.Date),
			Accession: strings.TrimSpace(e.Content.Accession), IndexURL: strings.TrimSpace(e.Content.Href),
			CIK: strings.TrimSpace(doc.Company.CIK), Company: strings.TrimSpace(doc.Company.Name)}
		if f.Form == "" {
			f.Form = strings.TrimSpace(e.Category.Term)
		}
		for _, l := range e.Links {
			if f.IndexURL == "" && (l.Rel == "" || l.Rel == "alternate") {
				f.IndexURL = strings.TrimSpace(l.Href)
			}
		}
		if f.IndexURL != "" {
			out = append(out, f)
		}
	}
	return out, nil
}

// edgarDoc is a document of a filing index.
type edgarDoc struct {
	URL, Type string
}

var (
	accessionRe = regexp.MustCompile(`\b\d{10}-\d{2}-\d{6}\b`)
	dateRe      = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
)

// edgarIndexDocs reads a filing index page: the rows of its document table
// (Seq, Description, Document, Type, Size), and the accession number and
// filing date it shows.
func edgarIndexDocs(body []byte) (docs []edgarDoc, accession, date, form string, err error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, "", "", "", err
	}
	table := doc.Find(`table.tableFile[summary="Document Format Files"]`)
	if table.Length() == 0 {
		table = doc.Find("table.tableFile").First()
	}
	table.Find("tr").Each(func(_ int, tr *goquery.Selection) {
		tds := tr.Find("td")
		if tds.Length() < 4 {
			return
		}
		href, ok := tds.Eq(2).Find("a[href]").First().Attr("href")
		if !ok {
			return
		}
		docs = append(docs, edgarDoc{URL: strings.TrimSpace(href), Type: strings.TrimSpace(tds.Eq(3).Text())})
	})
	accession = accessionRe.FindString(doc.Find("#secNum").Text())
	doc.Find(".infoHead").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if strings.EqualFold(strings.TrimSpace(s.Text()), "Filing Date") {
			date = dateRe.FindString(s.Next().Text())
			return false
		}
		return true
	})
	if f := strings.TrimSpace(doc.Find("#formName strong").First().Text()); strings.HasPrefix(f, "Form ") {
		form = strings.TrimSpace(strings.TrimPrefix(f, "Form "))
	}
	return docs, accession, date, form, nil
}

// edgarDocURL resolves a document link of an index page; inline XBRL
// viewer links (/ix?doc=/Archives/…) lead to the document itself.
func edgarDocURL(from *colly.Request, href string) string {
	if u, err := url.Parse(href); err == nil && (u.Path == "/ix" || strings.HasSuffix(u.Path, "/ix")) {
		if d := u.Query().Get("doc"); strings.HasPrefix(d, "/") {
			href = d
		}
	}
	return from.AbsoluteURL(href)
}

// wanted says whether a document of a filing is published: the main document
// (its type is the form) or an exhibit of a configured prefix, in HTML.
func (e EdgarSource) wanted(d edgarDoc, form string) bool {
	ext := strings.ToLower(path.Ext(strings.SplitN(d.URL, "?", 2)[0]))
	if ext != ".htm" && ext != ".html" && !strings.Contains(d.URL, "/ix?doc=") {
		return false
	}
	t := strings.ToUpper(d.Type)
	if t == strings.ToUpper(form) {
		return true
	}
	for _, x := range e.Exhibits {
		if strings.HasPrefix(t, strings.ToUpper(x)) {
			return true
		}
	}
	return false
}

// edgarFeed follows the filings of a company's feed to their index pages.
func (p *pass) edgarFeed(r *colly.Response) {
	filings, err := edgarFeedFilings(r.Body)
	if err != nil {
		p.c.event(p.s.Name, evFailed, "bad_edgar_feed")
		p.c.log.Warn("unreadable EDGAR feed", "url", r.Request.URL.String(), "err", err, "source", p.s.Name)
		return
	}
	e := p.s.Edgar.withDefaults()
	for i, f := range filings {
		if i >= e.Count {
			break
		}
		if !formWanted(e.Forms, f.Form) {
			p.c.event(p.s.Name, evSkipped, "other_form")
			continue
		}
		abs := r.Request.AbsoluteURL(f.IndexURL)
		canon, err := Canonical(abs)
		if err != nil {
			continue
		}
		ctx := newCtx(kindEdgarIndex, "filing", &schemas.Filing{FormType: f.Form, FilingDate: f.Date, AccessionNumber: f.Accession, CIK: f.CIK, Company: f.Company})
		if d, ok, err := p.c.cfg.State.Doc(canon); err == nil && ok {
			// A filing is never changed: its documents are known. Those not
			// yet published (an interrupted pass) are fetched.
			p.c.event(p.s.Name, evSkipped, "known_filing")
			for _, l := range d.Links {
				p.edgarDocument(ctx, l.URL, l.Kind)
			}
			continue
		}
		p.request(canon, ctx)
	}
}

// formWanted: the form is one of forms, or an amendment of one (8-K/A).
func formWanted(forms []string, form string) bool {
	form = strings.ToUpper(strings.TrimSpace(form))
	for _, f := range forms {
		f = strings.ToUpper(f)
		if form == f || form == f+"/A" {
			return true
		}
	}
	return false
}

// edgarIndex follows a filing index page to its main document and exhibits.
func (p *pass) edgarIndex(r *colly.Response) {
	docs, accession, date, form, err := edgarIndexDocs(r.Body)
	if err != nil {
		p.c.event(p.s.Name, evFailed, "bad_edgar_index")
		return
	}
	f, _ := r.Ctx.GetAny("filing").(*schemas.Filing)
	if f == nil {
		f = &schemas.Filing{}
	}
	g := *f
	if g.AccessionNumber == "" {
		g.AccessionNumber = accession
	}
	if g.FilingDate == "" {
		g.FilingDate = date
	}
	if g.FormType == "" {
		g.FormType = form
	}
	e := p.s.Edgar.withDefaults()
	var links []Link
	for _, d := range docs {
		if !e.wanted(d, g.FormType) {
			continue
		}
		u := edgarDocURL(r.Request, d.URL)
		links = append(links, Link{URL: u, Kind: d.Type})
	}
	if len(links) == 0 {
		p.c.event(p.s.Name, evSkipped, "no_documents")
	}
	ctx := newCtx(kindEdgarIndex, "filing", &g)
	for _, l := range links {
		p.edgarDocument(ctx, l.URL, l.Kind)
	}
	if canon, err := Canonical(r.Request.URL.String()); err == nil {
		if err := p.c.cfg.State.PutDoc(canon, DocState{Links: links, CheckedAt: time.Now().UTC()}); err != nil {
			p.c.log.Warn("recording a filing index failed", "url", canon, "err", err)
		}
	}
}

// edgarDocument fetches one document of a filing, unless it was published.
func (p *pass) edgarDocument(ictx *colly.Context, u, docType string) {
	canon, err := Canonical(u)
	if err != nil {
		return
	}
	if e, ok, err := p.c.cfg.State.Article(canon); err == nil && ok && e.Version > 0 {
		p.c.event(p.s.Name, evSkipped, "known_filing")
		return
	}
	f, _ := ictx.GetAny("filing").(*schemas.Filing)
	g := schemas.Filing{}
	if f != nil {
		g = *f
	}
	g.DocumentType = docType
	p.request(canon, newCtx(kindArticle, "filing", &g))
}

// edgarPacer is shared by every EDGAR source of a crawler: their requests
// together stay within the slowest source's rate, with a 5% margin.
func (c *Crawler) edgarPacer(rps float64) *serialPacer {
	c.edgarMu.Lock()
	defer c.edgarMu.Unlock()
	// 5% wider than 1/rps: requests that leave on time can still arrive
	// bunched (the network), and the SEC counts arrivals.
	gap := time.Duration(1.05 * float64(time.Second) / rps)
	if c.edgarPace == nil {
		c.edgarPace = &serialPacer{gap: gap, turn: make(chan struct{}, 1)}
	} else if gap > c.edgarPace.gap {
		c.edgarPace.turn <- struct{}{}
		c.edgarPace.gap = gap
		<-c.edgarPace.turn
	}
	return c.edgarPace
}

// serialPacer lets requests start one at a time, each at least gap after the
// previous one actually started: a request whose goroutine ran late pushes
// the next ones back instead of letting them bunch up behind it (a schedule
// of start times fixed in advance did, on a loaded machine).
type serialPacer struct {
	turn chan struct{} // holds the token while a request waits for its start
	gap  time.Duration
	last time.Time
}

// wait blocks until this request may start, or ctx ends.
func (p *serialPacer) wait(ctx context.Context) error {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.turn }()
	if d := time.Until(p.last.Add(p.gap)); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.last = time.Now()
	return nil
}

// edgarTransport spaces every request an EDGAR source makes (robots.txt,
// retries and redirects included) by the shared pacer.
type edgarTransport struct {
	base http.RoundTripper
	pace *serialPacer
}

func (t *edgarTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.pace.wait(req.Context()); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// filingOf is the filing a fetched document belongs to (EDGAR sources), or nil.
func filingOf(r *colly.Response) *schemas.Filing {
	f, _ := r.Ctx.GetAny("filing").(*schemas.Filing)
	if f == nil || (f.AccessionNumber == "" && f.FormType == "") {
		return nil
	}
	g := *f
	return &g
}
