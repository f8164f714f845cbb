package extractor

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/mwledger/mwledger/schemas"
)

func TestReadHTMLDropsBoilerplate(t *testing.T) {
	page := `<html lang="en"><head><title>Site | Story</title>
<meta property="og:title" content="IREN signs with Microsoft">
<meta property="og:site_name" content="Miner Wire">
<meta property="article:published_time" content="2025-11-03T12:00:00Z">
<link rel="canonical" href="https://www.minerwire.example/iren-msft"></head>
<body><nav><a href="/">Home</a> 500 MW menu</nav>
<div class="cookie-banner">We use cookies. Accept all for $0.</div>
<article><h1>IREN signs with Microsoft</h1>
<p>IREN signed a <b>$9.7 billion</b> contract with Microsoft.</p>
<div class="share-buttons">Share on X</div>
<p>The deal covers 200 MW.</p>
<aside class="related-articles"><p>Cipher signs $5.5 billion lease with AWS</p></aside>
</article>
<section class="you-may-also-like"><p>Hut 8 inks $7 billion deal</p></section>
<footer>© 2025 Miner Wire, 1 Main St</footer></body></html>`
	p, err := ReadHTML([]byte(page), "text/html")
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "IREN signs with Microsoft" || p.Outlet != "Miner Wire" || p.Published != "2025-11-03" || p.Canonical != "https://www.minerwire.example/iren-msft" {
		t.Errorf("metadata = %q %q %q %q", p.Title, p.Outlet, p.Published, p.Canonical)
	}
	var texts []string
	for _, b := range p.Blocks {
		texts = append(texts, b.Text)
	}
	body := strings.Join(texts, "\n")
	for _, want := range []string{"IREN signed a $9.7 billion contract with Microsoft.", "The deal covers 200 MW."} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	for _, junk := range []string{"cookies", "Share on", "Cipher", "Hut 8", "Home", "©"} {
		if strings.Contains(body, junk) {
			t.Errorf("body keeps boilerplate %q:\n%s", junk, body)
		}
	}
}

func TestReadHTMLCharsets(t *testing.T) {
	text := "爱伦与微软签署价值 97 亿美元的合同"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(`<html><head><meta charset="gbk"><title>t</title></head><body><article><p>` + text + `，为期 5 年，这是一段足够长的正文，用来确认解码结果正确无误。</p></article></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadHTML([]byte(gbk), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Blocks) == 0 || !strings.Contains(p.Blocks[0].Text, text) {
		t.Fatalf("GBK page decoded to %+v (charset %s)", p.Blocks, p.Charset)
	}
	latin1 := []byte("<html><head><meta charset=\"iso-8859-1\"></head><body><p>Cipher sichert sich 5,5 Milliarden US-Dollar f\xfcr 300 Megawatt \xfcber 15 Jahre, ein langer Satz.</p></body></html>")
	p, err = ReadHTML(latin1, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Blocks[0].Text, "für 300 Megawatt über 15 Jahre") {
		t.Errorf("latin-1 page decoded to %q", p.Blocks[0].Text)
	}
}

func TestReadHTMLRejects(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"empty", []byte("  \n "), ErrEmpty},
		{"binary", []byte{0x89, 'P', 'N', 'G', 0, 0, 1, 2}, ErrNotHTML},
		{"huge", make([]byte, MaxHTMLBytes+1), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ReadHTML(tt.body, ""); !errors.Is(err, tt.want) {
				t.Errorf("ReadHTML = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestExtractRoles(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                         string
		html                         string
		operator, counterparty       string
		guarantor, endUser           string
		mw, value, years, usdPerMWYr float64
	}{
		{
			name:     "customer first",
			html:     `<p>Fluidstack signed a 15-year, $7 billion lease with Hut 8 for 245 MW at River Bend, Louisiana, with Anthropic as the end user and a backstop from Google.</p>`,
			operator: "Hut 8", counterparty: "Fluidstack", guarantor: "Google", endUser: "Anthropic",
			mw: 245, value: 7e9, years: 15, usdPerMWYr: 1904762,
		},
		{
			name:     "vendor is not the counterparty",
			html:     `<p>IREN will provide Microsoft with NVIDIA GB300 systems under a five-year, $9.7 billion contract covering 200MW.</p>`,
			operator: "IREN", counterparty: "Microsoft", mw: 200, value: 9.7e9, years: 5, usdPerMWYr: 9.7e6,
		},
		{
			name:     "undisclosed counterparty",
			html:     `<p>Applied Digital signed a 15-year lease with an investment-grade hyperscaler for 200 MW worth about $5 billion.</p>`,
			operator: "Applied Digital", counterparty: "investment-grade hyperscaler", mw: 200, value: 5e9, years: 15, usdPerMWYr: 1666667,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := onlyRecord(t, x, tt.html)
			if c.Operator.Name != tt.operator || c.Counterparty.Label() != tt.counterparty {
				t.Errorf("parties = %s / %s, want %s / %s", c.Operator.Name, c.Counterparty.Label(), tt.operator, tt.counterparty)
			}
			if name(c.Guarantor) != tt.guarantor || name(c.EndUser) != tt.endUser {
				t.Errorf("guarantor/end user = %q/%q, want %q/%q", name(c.Guarantor), name(c.EndUser), tt.guarantor, tt.endUser)
			}
			if v(c.CapacityMW) != tt.mw || v(c.TotalValueUSD) != tt.value || v(c.TermYears) != tt.years || v(c.USDPerMWYear) != tt.usdPerMWYr {
				t.Errorf("figures = %v MW %v USD %v y %v $/MW/y", v(c.CapacityMW), v(c.TotalValueUSD), v(c.TermYears), v(c.USDPerMWYear))
			}
		})
	}
}

func name(p *schemas.Party) string {
	if p == nil {
		return ""
	}
	return p.Name
}

func v(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// onlyRecord extracts an article body snippet and returns its one record.
func onlyRecord(t *testing.T, x *Extractor, body string) schemas.Contract {
	t.Helper()
	cs := pageRecords(t, x, body)
	if len(cs) != 1 {
		t.Fatalf("got %d records: %+v", len(cs), cs)
	}
	return cs[0]
}
