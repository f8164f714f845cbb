package extractor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Page is what the reader keeps of an HTML page: its metadata and the text blocks
// of the article body in document order.
type Page struct {
	Title     string
	Outlet    string
	Author    string
	Published string // YYYY-MM-DD, YYYY-MM or ""
	Lang      string
	Canonical string
	Blocks    []Block
	Charset   string
}

// Block is one paragraph, heading, list item or table row of the body.
type Block struct {
	Kind string // "p", "h", "li", "tr"
	Text string
	// Cells and Header hold a table row's cells and its table's header cells.
	Cells, Header []string
}

// MaxHTMLBytes is the largest page the reader parses. Larger pages are an error
// the caller dead-letters.
const MaxHTMLBytes = 10 << 20 // the crawler refuses larger pages too

// boilerplate selects elements that are never article text.
const boilerplate = `script, style, noscript, template, iframe, svg, form, button, select, nav, footer, aside,
[role=navigation], [role=banner], [role=contentinfo], [role=complementary], [aria-hidden=true], [hidden]`

// boilerplateWords mark containers (by class or id) that hold ads, teasers, share
// widgets, cookie banners, comments and the like.
var boilerplateWords = []string{
	"related", "recommend", "also-like", "you-may", "youmaylike", "more-stories", "most-read", "mostread", "popular",
	"trending", "teaser", "promo", "advert", "ad-slot", "adslot", "ad-container", "ads", "sponsor",
	"cookie", "consent", "gdpr", "newsletter", "subscribe", "signup", "sign-up", "share", "social",
	"comment", "disqus", "breadcrumb", "menu", "sidebar", "footer", "header-nav", "masthead", "pagination",
	"tags", "tag-list", "author-bio", "paywall", "outbrain", "taboola", "read-next", "readnext", "next-article",
}

// boilerplateHeadings end the article when a heading with this text starts a
// teaser block outside any marked container.
var boilerplateHeadings = []string{
	"related", "you may also like", "more from", "read more", "recommended", "most read", "most popular",
	"trending", "further reading", "latest news", "more news", "comments", "похожее", "связанные",
	"相关", "相關", "推荐阅读", "推薦閱讀", "热门", "熱門", "ähnliche", "articles similaires", "leggi anche", "te puede interesar",
}

// Reasons a page cannot be read; ReadHTML wraps them.
var (
	ErrTooLarge = errors.New("page too large")
	ErrNotHTML  = errors.New("not an HTML page")
	ErrEmpty    = errors.New("empty page")
)

// ReadHTML decodes (by declared or sniffed charset) and parses an HTML page.
func ReadHTML(body []byte, contentType string) (*Page, error) {
	if len(body) > MaxHTMLBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrTooLarge, len(body), MaxHTMLBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ErrEmpty
	}
	if looksBinary(body) {
		return nil, fmt.Errorf("%w: binary content", ErrNotHTML)
	}
	_, name, _ := charset.DetermineEncoding(body, contentType)
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return nil, fmt.Errorf("decoding charset %s: %w", name, err)
	}
	decoded, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decoding charset %s: %w", name, err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(decoded))
	if err != nil {
		return nil, fmt.Errorf("parsing html: %w", err)
	}
	p := &Page{Charset: name}
	readMeta(doc, p)
	doc.Find(boilerplate).Remove()
	root := articleRoot(doc)
	removeMarkedBoilerplate(root)
	p.Blocks = readBlocks(root)
	if p.Published == "" {
		p.Published = dateInBlocks(p.Blocks)
	}
	return p, nil
}

// looksBinary reports whether the first bytes hold NULs or are mostly control
// characters, as images, PDFs and compressed bodies do.
func looksBinary(b []byte) bool {
	n := min(len(b), 1024)
	ctrl := 0
	for _, c := range b[:n] {
		if c == 0 {
			return true
		}
		if c < 0x09 || (c > 0x0d && c < 0x20) {
			ctrl++
		}
	}
	return ctrl*10 > n
}

func readMeta(doc *goquery.Document, p *Page) {
	meta := func(sel ...string) string {
		for _, s := range sel {
			if v, ok := doc.Find(s).First().Attr("content"); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	p.Lang, _ = doc.Find("html").Attr("lang")
	p.Lang = strings.ToLower(strings.TrimSpace(p.Lang))
	p.Canonical, _ = doc.Find(`link[rel="canonical"]`).First().Attr("href")
	p.Title = meta(`meta[property="og:title"]`, `meta[name="twitter:title"]`)
	p.Outlet = meta(`meta[property="og:site_name"]`, `meta[name="application-name"]`, `meta[name="publisher"]`)
	p.Author = meta(`meta[name="author"]`, `meta[property="article:author"]`)
	published := meta(`meta[property="article:published_time"]`, `meta[name="pubdate"]`, `meta[name="date"]`,
		`meta[itemprop="datePublished"]`, `meta[name="DC.date.issued"]`)

	// JSON-LD NewsArticle fills what meta tags did not say.
	doc.Find(`script[type="application/ld+json"]`).Each(func(_ int, s *goquery.Selection) {
		var v any
		if json.Unmarshal([]byte(s.Text()), &v) != nil {
			return
		}
		walkJSONLD(v, func(obj map[string]any) {
			if p.Title == "" {
				p.Title = str(obj["headline"])
			}
			if published == "" {
				published = str(obj["datePublished"])
			}
			if p.Author == "" {
				p.Author = nameOf(obj["author"])
			}
			if p.Outlet == "" {
				p.Outlet = nameOf(obj["publisher"])
			}
		})
	})
	if p.Title == "" {
		p.Title = strings.TrimSpace(doc.Find("h1").First().Text())
	}
	if p.Title == "" {
		p.Title = strings.TrimSpace(doc.Find("title").First().Text())
	}
	if published == "" {
		if v, ok := doc.Find("time[datetime]").First().Attr("datetime"); ok {
			published = v
		}
	}
	if p.Author == "" {
		p.Author = cleanSpace(doc.Find(`[rel="author"], .author, .byline, [itemprop="author"]`).First().Text())
		p.Author = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(p.Author, "By "), "by "))
	}
	p.Published = normalizeDate(published)
}

func walkJSONLD(v any, fn func(map[string]any)) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			walkJSONLD(e, fn)
		}
	case map[string]any:
		if g, ok := t["@graph"]; ok {
			walkJSONLD(g, fn)
		}
		typ := fmt.Sprint(t["@type"])
		if strings.Contains(typ, "Article") || strings.Contains(typ, "NewsArticle") || strings.Contains(typ, "BlogPosting") || strings.Contains(typ, "Report") {
			fn(t)
		}
	}
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

func nameOf(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case map[string]any:
		return str(t["name"])
	case []any:
		if len(t) > 0 {
			return nameOf(t[0])
		}
	}
	return ""
}

// articleRoot picks the element that holds the article: an <article> or
// [itemprop=articleBody] or <main>, else the element with the most paragraph text.
func articleRoot(doc *goquery.Document) *goquery.Selection {
	for _, sel := range []string{`[itemprop="articleBody"]`, "article", "main", `[role="main"]`, ".article-body", ".post-content", ".entry-content"} {
		best, bestLen := (*goquery.Selection)(nil), 0
		doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
			if n := len(strings.TrimSpace(s.Text())); n > bestLen {
				best, bestLen = s, n
			}
		})
		if best != nil && bestLen > 200 {
			return best
		}
	}
	// Text density: the parent of the most paragraph text.
	scores := map[*html.Node]int{}
	var bestNode *html.Node
	doc.Find("p, li, td, h2, h3").Each(func(_ int, s *goquery.Selection) {
		par := s.Parent()
		if par.Length() == 0 {
			return
		}
		n := par.Get(0)
		scores[n] += len(strings.TrimSpace(s.Text()))
		if bestNode == nil || scores[n] > scores[bestNode] {
			bestNode = n
		}
	})
	if bestNode != nil && scores[bestNode] > 200 {
		return goquery.NewDocumentFromNode(bestNode).Selection
	}
	return doc.Find("body")
}

func removeMarkedBoilerplate(root *goquery.Selection) {
	root.Find("*").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		class, _ := s.Attr("class")
		if id == "" && class == "" {
			return
		}
		attrs := " " + strings.ToLower(id+" "+class) + " "
		for _, w := range boilerplateWords {
			if hasToken(attrs, w) {
				s.Remove()
				return
			}
		}
	})
}

// hasToken reports whether w appears in attrs as a whole class/id token or as a
// dash/underscore-separated part of one ("related-posts", "ad_slot").
func hasToken(attrs, w string) bool {
	for i := 0; ; {
		j := strings.Index(attrs[i:], w)
		if j < 0 {
			return false
		}
		j += i
		before, after := attrs[j-1], byte(' ')
		if j+len(w) < len(attrs) {
			after = attrs[j+len(w)]
		}
		if isSep(before) && isSep(after) {
			return true
		}
		i = j + 1
	}
}

func isSep(c byte) bool { return c == ' ' || c == '-' || c == '_' }

var blockTags = map[string]string{
	"p": "p", "h1": "h", "h2": "h", "h3": "h", "h4": "h", "h5": "h", "h6": "h",
	"li": "li", "tr": "tr", "blockquote": "p", "pre": "p", "dd": "p", "dt": "p", "figcaption": "p",
}

// readBlocks walks the tree in order and emits one block per block-level element
// that holds text; loose text and inline elements directly inside containers are
// joined into paragraphs.
func readBlocks(root *goquery.Selection) []Block {
	var blocks []Block
	var loose strings.Builder
	flush := func() {
		if t := cleanSpace(loose.String()); t != "" {
			blocks = append(blocks, Block{Kind: "p", Text: t})
		}
		loose.Reset()
	}
	stop := false
	var header []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && !stop; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				loose.WriteString(c.Data)
			case html.ElementNode:
				if c.Data == "br" {
					loose.WriteByte('\n')
					continue
				}
				if isInline(c.Data) {
					loose.WriteString(nodeText(c))
					continue
				}
				flush()
				if c.Data == "table" {
					header = nil
				}
				kind, ok := blockTags[c.Data]
				if !ok || (kind == "li" && hasBlockChild(c)) {
					walk(c)
					flush()
					continue
				}
				if kind == "tr" {
					cells, isHeader := rowCells(c)
					if isHeader {
						header = cells
						continue
					}
					if len(cells) > 0 {
						blocks = append(blocks, Block{Kind: "tr", Text: strings.Join(cells, " | "), Cells: cells, Header: header})
					}
					continue
				}
				t := cleanSpace(nodeText(c))
				if t == "" {
					continue
				}
				if kind == "h" && isTeaserHeading(t) && len(blocks) > 3 {
					stop = true
					return
				}
				blocks = append(blocks, Block{Kind: kind, Text: t})
			}
		}
	}
	for _, n := range root.Nodes {
		walk(n)
		flush()
	}
	return blocks
}

func isInline(tag string) bool {
	switch tag {
	case "a", "span", "strong", "b", "em", "i", "u", "small", "sup", "sub", "abbr", "cite", "code", "mark", "time", "q", "font":
		return true
	}
	return false
}

func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			if _, ok := blockTags[c.Data]; ok {
				return true
			}
			if c.Data == "ul" || c.Data == "ol" || c.Data == "div" || c.Data == "table" {
				return true
			}
		}
	}
	return false
}

func isTeaserHeading(t string) bool {
	l := strings.ToLower(t)
	if len(l) > 60 {
		return false
	}
	for _, h := range boilerplateHeadings {
		if strings.HasPrefix(l, h) {
			return true
		}
	}
	return false
}

// rowCells returns the cells of a table row and whether it is a header row
// (all <th>, or inside <thead>).
func rowCells(tr *html.Node) ([]string, bool) {
	var cells []string
	th := 0
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			cells = append(cells, cleanSpace(nodeText(c)))
			if c.Data == "th" {
				th++
			}
		}
	}
	inHead := tr.Parent != nil && tr.Parent.Data == "thead"
	return cells, len(cells) > 0 && (th == len(cells) || inHead)
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && n.Data == "br" {
			b.WriteByte('\n')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode {
			if _, ok := blockTags[n.Data]; ok {
				b.WriteByte(' ')
			}
		}
	}
	walk(n)
	return b.String()
}

// cleanSpace collapses runs of white space (including NBSP) and drops invalid UTF-8.
func cleanSpace(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u00a0' || r == '\u200b' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
