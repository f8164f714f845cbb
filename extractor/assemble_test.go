package extractor

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// A cancelled context stops the extraction of a long page with the context's
// error (the stage then stops or dead-letters the page with reason timeout).
func TestExtractStopsWhenCancelled(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("<html><body><article>")
	for i := 0; i < 3000; i++ {
		sb.WriteString("<p>Quillon Data signed a twelve-year lease with Marlow Compute covering 75 MW, worth $1.4 billion.</p>")
	}
	sb.WriteString("</article></body></html>")
	a := schemas.Article{CanonicalURL: "https://t.example/long"}
	a.SetBody([]byte(sb.String()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cs, err := x.Extract(ctx, a)
	if !errors.Is(err, context.Canceled) || cs != nil {
		t.Fatalf("got %d records, err %v; want none and context.Canceled", len(cs), err)
	}
	// The same page with a live context gives its one (repeated) deal.
	cs, err = x.Extract(context.Background(), a)
	if err != nil || len(cs) != 1 {
		t.Fatalf("got %d records, err %v; want 1", len(cs), err)
	}
}

// Roles come from the sentence and the supply chain, whichever order the
// headline or sentence names the companies in.
func TestRolesFromTheSentence(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body, op, cp string
	}{
		{"customer first, campus of the provider", "<p>Fluidstack will take 90 MW at Hut 8's Louisiana campus under a 15-year lease worth $4 billion.</p>", "Hut 8", "Fluidstack"},
		{"neocloud sells to a lab", "<p>CoreWeave signed a five-year, $4 billion contract with OpenAI for GPU capacity.</p>", "CoreWeave", "OpenAI"},
		{"hyperscaler buys from a neocloud", "<p>Microsoft signed a $6 billion agreement with Nebius for GPU capacity over five years.</p>", "Nebius", "Microsoft"},
		{"capacity from an unknown developer", "<p>Anthropic agreed to lease 120 MW of capacity from Marrow Energy for $3 billion over ten years.</p>", "Marrow Energy", "Anthropic"},
		{"first word of a known name, revenue from the customer",
			"<p>In June Core Scientific signed a 12-year contract with CoreWeave to provide 200 MW.</p><p>Core expects annual hosting revenue from CoreWeave of about $290m, totalling $3.5bn over the term.</p>", "Core Scientific", "CoreWeave"},
		{"three companies as the subject",
			"<p>Microsoft, Nebius Group and Aker ASA have inked a five-year, $6.2 billion agreement for AI capacity in Narvik.</p>", "Nebius", "Microsoft"},
		{"a pledge that goes to a neocloud",
			"<p>The tech giant's largest pledge, around $23 billion, will go to Nscale, which gives Microsoft access to 200,000 GPUs.</p>", "Nscale", "Microsoft"},
		{"the developer that will develop and deliver",
			"<p>Hut 8 will develop and deliver at least 245 megawatts of AI data center infrastructure for Anthropic under a 15-year lease worth $7 billion.</p>", "Hut 8", "Anthropic"},
		{"an unnamed backer is not the tenant",
			"<p>Hut 8 signed a 15-year lease with Fluidstack for 245 MW worth $7 billion, with an investment-grade counterparty able to provide a guarantee on all lease payments.</p>", "Hut 8", "Fluidstack"},
		{"the page's main company is the anchor tenant",
			"<p>The plan was detailed by the co-founders of Quillmark.</p><p>Quillmark partnered with CoreWeave on compute. CoreWeave will provide a cluster of GB300 systems.</p><p>CoreWeave will serve as anchor tenant for the first 250 MW phase of the campus under a 15-year lease.</p>", "Quillmark", "CoreWeave"},
		{"a later sentence naming only the customer",
			"<p>Crusoe runs the Abilene campus, and Crusoe is growing fast.</p><p>OpenAI has signed a five-year, $300 billion contract with Oracle for computing power.</p><p>For OpenAI, the contract means about $60 billion of spending a year.</p>", "Oracle", "OpenAI"},
		{"pronoun after the provider", "<p>The biggest lease went to Hut 8. In May it signed a ten-year, $2 billion lease with Fluidstack covering 100 MW.</p>", "Hut 8", "Fluidstack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := onlyRecord(t, x, tc.body)
			if c.Operator.Name != tc.op || c.Counterparty.Label() != tc.cp {
				t.Fatalf("operator %q counterparty %q, want %q and %q", c.Operator.Name, c.Counterparty.Label(), tc.op, tc.cp)
			}
		})
	}
}

// The base value and term are the contract; the upside is not.
func TestBaseNotUpside(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := onlyRecord(t, x, "<p>Hut 8 signed a lease with Fluidstack worth $2.2 billion over an initial ten years; two renewals would lift the total to $5.0 billion.</p>")
	if c.TotalValueUSD == nil || *c.TotalValueUSD != 2.2e9 || c.TermYears == nil || *c.TermYears != 10 {
		t.Fatalf("value %v term %v, want 2.2e9 and 10", deref(c.TotalValueUSD), deref(c.TermYears))
	}
}

// Two contracts of one article between the same companies at the same price
// are two records with two ids: the id is the ledger's key, and a repeated
// one would let the second overwrite the first.
func TestSamePairSameValueTwoIDs(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	a := schemas.Article{CanonicalURL: "https://t.example/two"}
	a.SetBody([]byte("<html><body><article><p>Hut 8 signed a ten-year, $2 billion lease with Fluidstack covering 100 MW in Louisiana.</p>" +
		"<p>In Texas, Hut 8 signed a second lease with Fluidstack: 140 MW for seven years, also worth $2 billion.</p></article></body></html>"))
	cs, err := x.Extract(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("got %d records, want 2: %+v", len(cs), cs)
	}
	if cs[0].ID == cs[1].ID {
		t.Fatalf("both records have id %s", cs[0].ID)
	}
	if DealID(cs[0]) != cs[0].ID && DealID(cs[1]) != cs[1].ID {
		t.Fatalf("neither record keeps its plain DealID (%s, %s)", cs[0].ID, cs[1].ID)
	}
}

// Which figure is the deal's: sums, running totals, an upside before the base,
// and a site's size as the last resort.
func TestWhichFigureIsTheDeals(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		mw, usd    float64 // 0: none
	}{
		{"amount of several companies' deals is their sum",
			"<h2>Microsoft books $12B in new deals with Nebius and Lambda</h2><p>Microsoft agreed to pay Nebius $8.1 billion over five years for GPU capacity.</p>",
			0, 8.1e9},
		{"the lease takes the company to a new total",
			"<p>Applied Digital signed a lease with CoreWeave for 150 MW worth $3 billion over 12 years. The lease takes Applied Digital to over 1 GW of contracted capacity.</p>",
			150, 3e9},
		{"base contract after an upside",
			"<p>Applied Digital signed a lease with CoreWeave for 150 MW, with potential revenue of $9 billion if all renewal options are exercised and a $4 billion base contract.</p>",
			150, 4e9},
		{"a year's revenue, then the whole over the term",
			"<p>Hut 8 signed a 12-year contract with Anthropic for 150 MW. Hut 8 expects annual hosting revenue from Anthropic of about $250m, totalling $3bn over the term.</p>",
			150, 3e9},
		{"a lease grown to a new size and value",
			"<p>Applied Digital said it expanded its long-term lease with CoreWeave to 400 megawatts, bringing the total contract value to approximately $11 billion.</p>",
			400, 11e9},
		{"a company's backlog is not the value",
			"<p>Applied Digital signed a lease with CoreWeave for 150 MW. The new lease brings Applied Digital's total contracted lease revenue to approximately $11B.</p>",
			150, 0},
		{"a headline's amount that the body calls the upside",
			"<h1>Veldt Compute signs $2.5B services agreement with Cerebras</h1><p>Veldt Compute signs $2.5B services agreement with Cerebras</p><p>Veldt Compute announced a services agreement with Cerebras for a 40 MW campus, with an initial 10-year term valued at approximately $1.1 billion and total potential contract value of up to $2.5 billion.</p>",
			40, 1.1e9},
		{"equity put in and a site's future size are not the lease",
			"<p>Galaxy Digital signed a 15-year agreement with CoreWeave for its Helios campus, with Galaxy contributing $350 million in equity. Galaxy expects about $15 billion in total revenue over the contract term. At full buildout, Helios is projected to reach 3.5 gigawatts of power capacity.</p>",
			0, 15e9},
		{"the halls built for the deal",
			"<p>Microsoft signed a five-year, $9.7 billion cloud services agreement with IREN.</p><p>The systems will be deployed at IREN's campus, where the company is building facilities intended to deliver roughly 200 MW of critical IT load.</p>",
			200, 9.7e9},
		{"a sum over two cities yields to the new site's own size",
			"<p>In Chicago, EdgeConneX and Lambda will develop a 23 MW single-tenant facility.</p><p>EdgeConneX is working with Lambda to deliver more than 30 MW of capacity across Chicago and Atlanta.</p>",
			23, 0},
		{"site size when nothing better is said",
			"<p>IREN signed a five-year, $2.1 billion cloud contract with Anthropic to run GPUs at its 80-megawatt Sweetwater campus.</p>",
			80, 2.1e9},
		{"site size loses to the lease's own figure",
			"<p>IREN signed a 15-year, $2.1 billion lease with Anthropic for 60 MW of critical IT load at its 600 MW Sweetwater campus.</p>",
			60, 2.1e9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := onlyRecord(t, x, tc.body)
			if deref(c.CapacityMW) != tc.mw || deref(c.TotalValueUSD) != tc.usd {
				t.Fatalf("%s–%s: %v MW, $%v; want %v MW, $%v", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW), deref(c.TotalValueUSD), tc.mw, tc.usd)
			}
		})
	}
}

// A deal whose amount is the sum of the deals the article then tells apart is
// not a third deal.
func TestSumOfTheDealsToldApart(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	a := schemas.Article{CanonicalURL: "https://t.example/sum"}
	a.SetBody([]byte("<html><body><article><p>Nvidia has reached a $1.5 billion agreement with Lambda to lease servers.</p>" +
		"<p>Nvidia agreed to lease 10,000 GPU servers from Lambda for four years, valued at $1.3 billion.</p>" +
		"<p>Nvidia also reached a separate $200 million deal with Lambda to lease 8,000 more servers.</p></article></body></html>"))
	cs, err := x.Extract(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, c := range cs {
		got = append(got, deref(c.TotalValueUSD))
	}
	if len(cs) != 2 || slices.Contains(got, 1.5e9) {
		t.Fatalf("values %v; want the $1.3B and $200M deals only", got)
	}
}

// Companies named only with the amounts they invest, or with what financing
// pays to build, make no deal: the deal is the customer's spend.
func TestInvestorsAreNoDeal(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := onlyRecord(t, x, "<p>Anthropic is committing to spend $30 billion on Microsoft's Azure cloud.</p>"+
		"<p>Under the deal, Nvidia will invest up to $10 billion and Microsoft up to $5 billion in the Claude maker.</p>"+
		"<p>Separately, Crusoe secured $11.6 billion to build OpenAI's 1.2 gigawatt data center.</p>")
	if c.Operator.Name != "Microsoft" || c.Counterparty.Label() != "Anthropic" || deref(c.TotalValueUSD) != 30e9 {
		t.Fatalf("%s–%s $%v; want Microsoft–Anthropic $30B", c.Operator.Name, c.Counterparty.Label(), deref(c.TotalValueUSD))
	}
}

// The same two companies' deals in two places are two records: the Norway
// figures do not join the Texas deal, and a dateline is no deal's place.
func TestDealsInTwoPlaces(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	a := schemas.Article{CanonicalURL: "https://t.example/places"}
	a.SetBody([]byte("<html><body><article><p>New York, United States - May 4, 2026 - Nscale will build a Texas data center for Microsoft with up to 240 MW of capacity.</p>" +
		"<p>This is the fourth Microsoft–Nscale agreement this year; the Norway deal was reportedly worth $6.2 billion over five years.</p></article></body></html>"))
	cs, err := x.Extract(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("got %d records, want the Texas and the Norway deal", len(cs))
	}
	for _, c := range cs {
		if c.CapacityMW != nil && c.TotalValueUSD != nil {
			t.Errorf("one record holds the Texas MW and the Norway value: %v MW, $%v", *c.CapacityMW, *c.TotalValueUSD)
		}
	}
	if got := regionOf("New York, United States - December 17, 2025 - Hut 8 will lease its Louisiana campus"); got != "Louisiana" {
		t.Errorf("region after a dateline: %q, want Louisiana", got)
	}
}

// A signed capacity deal whose customer is not named is a record with an
// undisclosed counterparty; a signed power or interconnection agreement is not.
func TestSignedDealWithoutANamedCustomer(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := onlyRecord(t, x, "<p>Bitdeer Technologies said its subsidiary has signed a colocation lease for a 180-megawatt AI data center in Tydal, Norway.</p>")
	if c.Operator.Name != "Bitdeer" || c.Counterparty.Name != nil || deref(c.CapacityMW) != 180 {
		t.Fatalf("%s–%s %v MW; want Bitdeer, no named counterparty, 180 MW", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW))
	}
	p, err := ReadHTML([]byte("<html><body><article><p>During the quarter, Bitdeer signed an interconnection agreement with its utility for an additional 300 MW at its Texas site.</p></article></body></html>"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cs := x.FromPage(p, "https://t.example/"); len(cs) != 0 {
		t.Fatalf("an interconnection agreement gave %d records", len(cs))
	}
}

// Letters whose lower case has another length in UTF-8 ("İ" → "i") used to
// shift every offset after them and crash the classification of the amounts;
// the whole extraction of any text must not panic.
func FuzzExtract(f *testing.F) {
	x, err := New()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("İSTANBUL, May 4, 2026 - KİRA Data signed a ten-year lease with Lambda for 40 MW across Chicago and Atlanta worth $1 billion.")
	f.Add("The \u212a-rated campus (\u212a) of Hut 8 will develop and deliver 245 MW for Anthropic, worth $7 billion over 15 years.")
	f.Add("Microsoft, Nscale and Aker ASA have inked a five-year, $6.2 billion agreement; the Norway deal \xff\xfe was $6.2B.")
	f.Fuzz(func(t *testing.T, body string) {
		p, err := ReadHTML([]byte("<html><body><article><p>"+body+"</p></article></body></html>"), "")
		if err != nil {
			return
		}
		for _, c := range x.FromPage(p, "https://t.example/fuzz") {
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas.Validate("contract.schema.json", b); err != nil {
				t.Fatalf("record does not match its schema: %v\n%s", err, b)
			}
		}
	})
}

func TestTurkishCapitalsKeepOffsets(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := onlyRecord(t, x, "<p>İSTANBUL, May 4, 2026 - KİRA Data signed a ten-year lease with Lambda for 40 MW worth $1 billion.</p>")
	if deref(c.CapacityMW) != 40 || deref(c.TotalValueUSD) != 1e9 || deref(c.TermYears) != 10 {
		t.Fatalf("%v MW, $%v, %v years; want 40 MW, $1B, 10 years", deref(c.CapacityMW), deref(c.TotalValueUSD), deref(c.TermYears))
	}
}
