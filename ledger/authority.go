package ledger

import (
	"net/url"
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// Authority levels of a source. When sources disagree on a field, the value shown
// is the one given by the highest level (then by more sources, then by the
// earliest publication, then by URL: the choice is deterministic).
const (
	// AuthorityReport is any other article: news, analysis, a rewrite, a blog.
	AuthorityReport = 1
	// AuthorityOperator is the operator's own announcement: a press release on a
	// newswire, a page on the operator's own domain or investor-relations site.
	AuthorityOperator = 3
	// AuthorityFiling is a regulatory filing (SEC EDGAR, SEDAR, ASX announcements).
	AuthorityFiling = 4
)

// Hosts and outlet names that carry issuers' own press releases or filings. A
// source on one of them speaks for the operator; everything else is a report.
var (
	filingHosts  = []string{"sec.gov", "sedarplus.ca", "sedar.com", "asx.com.au"}
	wireHosts    = []string{"prnewswire", "globenewswire", "businesswire", "accesswire", "newsfilecorp", "prnewsdesk", "einpresswire"}
	wireOutlets  = []string{"pr newswire", "globenewswire", "business wire", "accesswire", "newsfile", "pr newsdesk", "press release"}
	releasePaths = []string{"/press-release", "/press-releases/", "/news-release", "/releases/", "/investor-news/"}
)

// authorityOf ranks the source of a record:
//
//  1. a filing host (sec.gov, …) → AuthorityFiling;
//  2. a press-release wire (by host or outlet name), a press-release path
//     (/press-release…, /releases/), or a host that is the operator's own
//     domain (its name without spaces or punctuation is a label of the host, e.g.
//     iren.com, investors.hut8.com) → AuthorityOperator;
//  3. anything else → AuthorityReport.
//
// The rank comes from the host the page was fetched from: when the record's
// fetched_url is on another site than its url (the page named a canonical
// elsewhere), the lower of the two ranks counts, so a page cannot claim a
// filing's authority by naming sec.gov as its canonical.
func authorityOf(c schemas.Contract) (int, string) {
	auth, why := authorityOfURL(c, c.Source.URL)
	if f := c.Source.FetchedURL; f != "" && !sameHost(f, c.Source.URL) {
		if fa, fwhy := authorityOfURL(c, f); fa < auth {
			return fa, "fetched_" + fwhy
		}
	}
	return auth, why
}

// sameHost compares the hosts of two URLs, ignoring case and a leading www.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	h := func(u *url.URL) string { return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.") }
	return h(ua) == h(ub)
}

// authorityOfURL ranks a record as if its article were at rawURL.
func authorityOfURL(c schemas.Contract, rawURL string) (int, string) {
	u, err := url.Parse(rawURL)
	host, path := "", ""
	if err == nil {
		host, path = strings.ToLower(u.Hostname()), strings.ToLower(u.EscapedPath())
	}
	for _, h := range filingHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return AuthorityFiling, "filing:" + h
		}
	}
	for _, h := range wireHosts {
		if strings.Contains(host, h) {
			return AuthorityOperator, "press_release_wire:" + h
		}
	}
	if c.Source.Outlet != nil {
		o := strings.ToLower(*c.Source.Outlet)
		for _, w := range wireOutlets {
			if strings.Contains(o, w) {
				return AuthorityOperator, "press_release_outlet:" + w
			}
		}
	}
	if op := schemas.Key(c.Operator.Name); op != "" && host != "" {
		for _, label := range strings.Split(host, ".") {
			if schemas.Key(label) == op {
				return AuthorityOperator, "operator_domain:" + host
			}
		}
	}
	for _, p := range releasePaths {
		if strings.Contains(path, p) {
			return AuthorityOperator, "press_release_path"
		}
	}
	return AuthorityReport, "report"
}
