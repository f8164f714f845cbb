package crawler

import (
	"bytes"
	"net/url"
	"path"
	"strings"

	"github.com/gocolly/colly/v2"
)

// Stories split over several pages. An article page that links its next page
// (<link rel=next> or <a rel=next>) on the same host, under the first page's
// path (/story → /story?page=2, /story/2, /story-2.html), is published once
// every page was fetched: the article content of each further page is joined
// into the first page's, which is published under the first page's URL. A
// page of the story that cannot be fetched leaves the whole story unpublished
// until the next pass (a story without its value and term would be recorded
// as complete).

// kindArticlePart is the request kind of a story's further pages.
const kindArticlePart = "article_part"

// maxArticleParts bounds the pages of one story.
const maxArticleParts = 10

// story is a story being assembled page by page.
type story struct {
	first *colly.Response
	body  []byte
	root  *url.URL
	seen  map[string]bool
	pages int
}

// storyNext is the next page of the story r belongs to, or "".
func storyNext(r *colly.Response, st *story) string {
	next := readPageLinks(r.Body, r.Request.URL).Next
	if next == "" {
		return ""
	}
	nu, err := url.Parse(next)
	if err != nil || !strings.EqualFold(nu.Hostname(), st.root.Hostname()) || nu.Port() != st.root.Port() {
		return ""
	}
	canon, err := Canonical(next)
	if err != nil || st.seen[canon] {
		return ""
	}
	root := strings.TrimSuffix(st.root.Path, "/")
	root = strings.TrimSuffix(root, path.Ext(root))
	if root == "" || !strings.HasPrefix(nu.Path, root) {
		return "" // another story or a section page, not the next page of this one
	}
	return next
}

// startStory fetches the next page of an article that has one; false when it
// has none (publish it as it is).
func (p *pass) startStory(r *colly.Response) bool {
	st := &story{first: r, body: r.Body, root: r.Request.URL, seen: map[string]bool{}, pages: 1}
	if c, err := Canonical(r.Request.URL.String()); err == nil {
		st.seen[c] = true
	}
	next := storyNext(r, st)
	if next == "" {
		return false
	}
	return p.requestPart(st, next)
}

// requestPart queues the next page of a story; false when it cannot be.
func (p *pass) requestPart(st *story, next string) bool {
	canon, err := Canonical(next)
	if err != nil {
		return false
	}
	u, err := url.Parse(canon)
	if err != nil || !p.ports[effectivePort(u)] {
		return false
	}
	st.seen[canon] = true
	if err := p.col.Request("GET", canon, nil, newCtx(kindArticlePart, "story", st), nil); err != nil {
		p.c.log.Warn("next page of a story not fetched, publishing the pages read", "url", canon, "err", err, "source", p.s.Name)
		return false
	}
	return true
}

// articlePart joins a further page into its story, and fetches the next page
// or publishes the story.
func (p *pass) articlePart(r *colly.Response) {
	st, _ := r.Ctx.GetAny("story").(*story)
	if st == nil {
		return
	}
	st.pages++
	joined := joinStory(st.body, r.Body)
	if len(joined) > p.c.cfg.MaxBodyBytes {
		p.c.event(p.s.Name, evFailed, "too_large")
		p.c.log.Warn("story over the page limit, not published", "url", st.first.Request.URL.String(), "pages", st.pages, "source", p.s.Name)
		return
	}
	st.body = joined
	if st.pages < maxArticleParts {
		if next := storyNext(r, st); next != "" && p.requestPart(st, next) {
			return
		}
	}
	first := *st.first
	first.Body = st.body
	p.c.log.Debug("story joined from several pages", "url", first.Request.URL.String(), "pages", st.pages, "source", p.s.Name)
	p.publish(&first, visibleText(first.Body))
}

// joinStory inserts the article content of a further page (its last
// <article>, else its <body>) at the end of the first page's article (before
// its last </article>, else before </body>).
func joinStory(first, part []byte) []byte {
	content := inner(part, "article")
	if content == nil {
		content = inner(part, "body")
	}
	if content == nil {
		content = part
	}
	lf := bytes.ToLower(first)
	at := bytes.LastIndex(lf, []byte("</article>"))
	if at < 0 {
		at = bytes.LastIndex(lf, []byte("</body>"))
	}
	if at < 0 {
		at = len(first)
	}
	out := make([]byte, 0, len(first)+len(content)+1)
	out = append(out, first[:at]...)
	out = append(out, '\n')
	out = append(out, content...)
	return append(out, first[at:]...)
}

// inner is the content of the last <tag …>…</tag> of b, or nil.
func inner(b []byte, tag string) []byte {
	l := bytes.ToLower(b)
	end := bytes.LastIndex(l, []byte("</"+tag+">"))
	if end < 0 {
		return nil
	}
	start := bytes.LastIndex(l[:end], []byte("<"+tag))
	for start >= 0 {
		if c := l[start+1+len(tag)]; c == '>' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		start = bytes.LastIndex(l[:start], []byte("<"+tag))
	}
	if start < 0 {
		return nil
	}
	open := bytes.IndexByte(l[start:end], '>')
	if open < 0 {
		return nil
	}
	return b[start+open+1 : end]
}
