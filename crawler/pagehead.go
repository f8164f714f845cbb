package crawler

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pageLinks are the links a page gives about itself: its rel=canonical
// claim, the next page of a story split over several (rel=next), and a meta
// refresh target. URLs are absolute (resolved against the page's URL), http(s) only.
type pageLinks struct {
	Canonical string
	Next      string
	Refresh   string
}

// maxHeadScan bounds the bytes of a page read for its links.
const maxHeadScan = 512 << 10

// readPageLinks tokenizes the page (quoted, single-quoted and unquoted
// attributes alike) for <link rel=canonical|next>, <a rel=next> and <meta
// http-equiv=refresh>.
func readPageLinks(body []byte, base *url.URL) pageLinks {
	var out pageLinks
	if len(body) > maxHeadScan {
		body = body[:maxHeadScan]
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		if !hasAttr || (a != atom.Link && a != atom.Meta && a != atom.A) {
			continue
		}
		attrs := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			attrs[string(k)] = string(v)
			if !more {
				break
			}
		}
		rels := strings.Fields(strings.ToLower(attrs["rel"]))
		has := func(r string) bool {
			for _, x := range rels {
				if x == r {
					return true
				}
			}
			return false
		}
		switch a {
		case atom.Link:
			if has("canonical") && out.Canonical == "" {
				out.Canonical = resolveHTTP(base, attrs["href"])
			}
			if has("next") && out.Next == "" {
				out.Next = resolveHTTP(base, attrs["href"])
			}
		case atom.A:
			if has("next") && out.Next == "" {
				out.Next = resolveHTTP(base, attrs["href"])
			}
		case atom.Meta:
			if strings.EqualFold(strings.TrimSpace(attrs["http-equiv"]), "refresh") && out.Refresh == "" {
				out.Refresh = resolveHTTP(base, refreshURL(attrs["content"]))
			}
		}
	}
}

// refreshURL reads the URL of a meta refresh's content ("0; url=/next",
// "5;URL='https://…'"); "" when it only reloads the page.
func refreshURL(content string) string {
	c := strings.TrimSpace(content)
	i := strings.IndexAny(c, ";,")
	if i < 0 {
		return ""
	}
	rest := strings.TrimSpace(c[i+1:])
	if len(rest) >= 4 && strings.EqualFold(rest[:4], "url=") {
		rest = rest[4:]
	}
	return strings.Trim(strings.TrimSpace(rest), `'"`)
}

// resolveHTTP resolves href against base and keeps http(s) URLs only.
func resolveHTTP(base *url.URL, href string) string {
	href = strings.TrimSpace(href)
	if href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// claimedCanonical is the page's <link rel="canonical"> (quoted or not,
// absolute or relative to the page) canonicalised, else "". It is a claim:
// see trustedCanonical.
func claimedCanonical(body []byte, base *url.URL) string {
	c := readPageLinks(body, base).Canonical
	if c == "" {
		return ""
	}
	if canon, err := Canonical(c); err == nil {
		return canon
	}
	return ""
}
