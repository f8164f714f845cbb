package crawler

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// maxSitemapDepth bounds sitemap indexes pointing at sitemap indexes.
const maxSitemapDepth = 3

// sitemapLinks reads a sitemap (<urlset>, news sitemaps included) or a sitemap
// index (<sitemapindex>). Every <url><loc> is an article, dated by
// news:publication_date or lastmod; every <sitemap><loc> is another sitemap.
func sitemapLinks(body []byte) ([]Link, error) {
	var doc struct {
		XMLName xml.Name
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
			News    struct {
				PublicationDate string `xml:"publication_date"`
			} `xml:"news"`
		} `xml:"url"`
		Sitemaps []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"sitemap"`
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	switch doc.XMLName.Local {
	case "urlset", "sitemapindex":
	default:
		return nil, fmt.Errorf("not a sitemap: root element <%s>", doc.XMLName.Local)
	}
	var out []Link
	for _, u := range doc.URLs {
		loc := strings.TrimSpace(u.Loc)
		if loc == "" {
			continue
		}
		d := parseDate(u.News.PublicationDate)
		if lm := parseDate(u.LastMod); lm.After(d) {
			d = lm
		}
		out = append(out, Link{URL: loc, Kind: kindArticle, Date: d})
	}
	for _, s := range doc.Sitemaps {
		if loc := strings.TrimSpace(s.Loc); loc != "" {
			out = append(out, Link{URL: loc, Kind: kindSitemap, Date: parseDate(s.LastMod)})
		}
	}
	return out, nil
}

// tooOld reports whether a dated link is older than maxAge (0 = no limit).
func tooOld(l Link, maxAge time.Duration, now time.Time) bool {
	return maxAge > 0 && !l.Date.IsZero() && l.Date.Before(now.Add(-maxAge))
}
