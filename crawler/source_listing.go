package crawler

import (
	"bytes"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"
)

// listing reads a listing page: its LinkSelector links are articles, its
// NextSelector link the next page (up to MaxPages, default 20). Listings are
// parsed here rather than with colly's OnHTML so that article pages are not
// parsed for every listing selector.
func (p *pass) listing(r *colly.Response) {
	var l *Listing
	for i := range p.s.Listings {
		if p.s.Listings[i].URL == r.Ctx.Get("listing") {
			l = &p.s.Listings[i]
		}
	}
	if l == nil {
		return
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	if err != nil {
		p.c.event(p.s.Name, evFailed, "bad_listing")
		return
	}
	doc.Find(l.LinkSelector).Each(func(_ int, s *goquery.Selection) {
		if href, ok := s.Attr("href"); ok {
			p.visit(r.Request, Link{URL: href, Kind: kindArticle})
		}
	})
	if l.NextSelector == "" {
		return
	}
	maxPages := l.MaxPages
	if maxPages == 0 {
		maxPages = 20
	}
	page := ctxInt(r.Ctx, "page")
	if page >= maxPages {
		return
	}
	if href, ok := doc.Find(l.NextSelector).First().Attr("href"); ok {
		if next := r.Request.AbsoluteURL(href); next != "" {
			p.request(next, newCtx(kindListing, "listing", l.URL, "page", page+1))
		}
	}
}
