package extractor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// Version is written into every record so that a re-run with a better extractor
// can be told apart. Bump it when the rules change what they extract.
const Version = "mwledger-extractor/0.3.0"

// Extractor turns articles into contract records. It is safe for concurrent use.
type Extractor struct {
	g     *Gazetteer
	noPOS bool
}

// Option changes how an Extractor works.
type Option func(*Extractor)

// WithoutPOS turns off part-of-speech tagging (hedged deals and unknown
// proper-noun operators are then not recognised); for measuring its cost.
func WithoutPOS() Option { return func(x *Extractor) { x.noPOS = true } }

// New returns an extractor with the embedded company gazetteer.
func New(opts ...Option) (*Extractor, error) {
	if _, err := punktTokenizer(); err != nil {
		return nil, fmt.Errorf("loading sentence model: %w", err)
	}
	x := &Extractor{g: DefaultGazetteer()}
	for _, o := range opts {
		o(x)
	}
	if !x.noPOS {
		model() // the part-of-speech model, once (~0.3 s)
	}
	return x, nil
}

// Extract reads one article and returns its contracts (none is a valid answer).
// An error means the article cannot be processed and belongs in the dead-letter topic.
func (x *Extractor) Extract(ctx context.Context, a schemas.Article) ([]schemas.Contract, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body, err := a.Body()
	if err != nil {
		return nil, err
	}
	page, err := ReadHTML(body, a.Headers["Content-Type"])
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", a.CanonicalURL, err)
	}
	url := a.CanonicalURL
	if url == "" {
		url = page.Canonical
	}
	return x.fromPage(ctx, page, url)
}

// FromPage extracts the contracts of a parsed page: annotate every sentence
// (annotate.go), classify its figures and clauses (classify.go), assemble deal
// frames and attach figures across the document (assemble.go), then finish
// each record (derived numbers, checks, id).
func (x *Extractor) FromPage(p *Page, url string) []schemas.Contract {
	out, _ := x.fromPage(context.Background(), p, url)
	return out
}

func (x *Extractor) fromPage(ctx context.Context, p *Page, url string) ([]schemas.Contract, error) {
	body, err := splitSentences(p.Blocks)
	if err != nil {
		return nil, nil
	}
	decimalComma := decimalCommaText(p)
	ss := make([]*sent, 0, len(body)+1)
	if p.Title != "" {
		ss = append(ss, &sent{analysis: analyzeNames(Sentence{Text: p.Title, Block: -1, Kind: "h"}, x.g), title: true})
	}
	names := map[string]analysis{}
	for i, s := range body {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		// A sentence seen before on the page is annotated once (pages that
		// repeat themselves cost what one copy costs).
		if a, ok := names[s.Text]; ok {
			a.Sentence = s
			ss = append(ss, &sent{analysis: a})
			continue
		}
		a := analyzeNames(s, x.g)
		names[s.Text] = a
		ss = append(ss, &sent{analysis: a})
	}
	on := findOpenNames(ss, x.g)
	type partiesAt struct {
		ps     []pmention
		vendor bool
	}
	seenParties := map[string]partiesAt{} // a repeated sentence's parties, found once
	for i, s := range ss {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s.idx = i
		if pa, ok := seenParties[s.Text]; ok && !s.title {
			s.parties, s.vendor = slices.Clone(pa.ps), pa.vendor
			continue
		}
		s.parties = partiesOf(s, on)
		if !s.title {
			seenParties[s.Text] = partiesAt{slices.Clone(s.parties), s.vendor}
		}
	}
	// Figures are read where a deal can take them: within figureReach
	// sentences of a sentence that names a party (the parser is the costly part).
	done := make([]bool, len(ss))
	figs := map[string]*sent{}
	named := func(s *sent) bool { return len(s.parties) > 0 || s.title || s.Kind == "tr" }
	for pass := 0; pass < 2; pass++ {
		near := -1 << 30
		for n := range ss {
			i := n
			if pass == 1 {
				i = len(ss) - 1 - n
			}
			if named(ss[i]) {
				near = i
			}
			if d := i - near; (d <= figureReach && d >= -figureReach) && !done[i] {
				if f, ok := figs[ss[i].Text]; ok {
					ss[i].money, ss[i].caps, ss[i].terms, ss[i].prices, ss[i].dates = f.money, f.caps, f.terms, f.prices, f.dates
					ss[i].cls = f.cls
				} else {
					ss[i].addFigures(decimalComma)
					ss[i].classes()
					figs[ss[i].Text] = ss[i]
				}
				done[i] = true
			}
		}
	}
	// Amounts with no currency in a page whose amounts are all in one
	// currency are in that currency.
	if cur := pageCurrency(ss); cur != "" {
		for _, s := range ss {
			if !done[s.idx] || !hasDealWord(s.lower) {
				continue
			}
			if more := bareAmounts(s.Text, decimalComma, cur, s.money); len(more) > 0 {
				s.money = append(append([]Money(nil), s.money...), more...)
				sortMentions(s.money, func(m Money) int { return m.Start })
				s.cls = nil
				s.classes()
			}
		}
	}
	// A section whose heading speaks of totals holds running totals.
	inTotals := false
	for _, s := range ss {
		if s.title {
			continue
		}
		if s.Kind == "h" {
			inTotals = anyWord(s.lower, []string{"totals", "tally", "running total"})
			continue
		}
		s.totals = inTotals
	}
	dropSideParties(ss)
	for i, s := range ss {
		if s.Kind == "tr" {
			continue
		}
		// a term counts as a figure: "Oracle has signed a 15-year lease to anchor the campus"
		// figures that can be a deal's: not an investment, a company's value
		// or a share price ("reported spending $35 billion on infrastructure")
		figures := len(s.caps)
		for i := range s.money {
			switch s.classes().money[i] {
			case "finance", "equity", "price":
			case "per_mw":
				// "the contract brings in $8.9M per MW per year": a rate said
				// of a deal named elsewhere, unless both sides are here
				if len(s.parties) >= 2 {
					figures++
				}
			default:
				figures++
			}
		}
		if len(s.terms) > 0 && !isAggregate(s.lower) { // not "two leases, both 15 years long": that says nothing new
			for i := range s.terms {
				if s.classes().termOK[i] {
					figures++
				}
			}
		}
		s.hedged = sentenceHedged(s.lower)
		// A deal word, or a verb of providing between two companies with a
		// figure ("Orbitra will build a 60 MW data hall for Lumen").
		providing := len(s.parties) >= 2 && (anyWord(s.lower, lex().ProviderVerbs) || anyWord(s.lower, lex().CustomerVerbs))
		named := hasDealWord(s.lower) || providing && (figures > 0 || dealFiguresNext(ss, i)) ||
			len(s.parties) >= 2 && valueAndTerm(s) // "a partnership with Lumen to generate $3.5 billion over 12 years"
		// "Nvidia will invest up to $10 billion and Microsoft up to $5
		// billion": amounts that are all investments make no deal of the
		// companies named with them
		onlyFinance := figures == 0 && len(s.money) > 0
		for i := range s.money {
			onlyFinance = onlyFinance && s.classes().money[i] == "finance" // (warrants and shares are a deal's terms)
		}
		s.anchor = named && len(s.parties) > 0 && (figures > 0 || len(s.parties) >= 2 && !onlyFinance) && !s.hedged && !s.vendor &&
			// "signed contracts worth $317 billion with three customers": one
			// company's deals summed, no deal of its own
			!(len(s.parties) == 1 && reSeveralCustomers.MatchString(s.lower))
	}
	main := mainParty(ss)
	drafts, err := assemble(ctx, ss, main, topicParty(ss))
	if err != nil {
		return nil, err
	}
	var lastOp *Entity = main
	var lead []string // the sentences before a table: its caption and the paragraph that introduces it
	for _, s := range ss {
		if s.Kind != "tr" {
			if lead = append(lead, s.lower); len(lead) > 4 {
				lead = lead[1:]
			}
			continue
		}
		if len(s.Header) == len(s.Cells) {
			if d := tableDeal(s.analysis, lastOp, x.g, decimalComma); d != nil {
				d.heading = strings.Join(lead, " ") // "three colocation contracts, in the table below"
				drafts = addTableDraft(drafts, d)
			}
		}
	}
	drafts = dropSums(drafts)
	src := schemas.Source{URL: url, Title: strPtr(p.Title), Outlet: strPtr(p.Outlet), PublishedAt: strPtr(p.Published)}
	out := make([]schemas.Contract, 0, len(drafts))
	ids := map[string]bool{}
	for _, d := range drafts {
		c := d.finish(p, src)
		k := fmt.Sprint(c.ID, deref(c.CapacityMW), deref(c.TermYears))
		if ids[k] {
			continue // the same deal read twice (a table row and a sentence): one record
		}
		ids[k] = true
		if ids[c.ID] {
			// Another record of this article has the id (same parties and
			// value, other MW or term): ids are the ledger's keys, so this one
			// is told apart by its capacity and term.
			c.ID = distinctID(c)
		}
		ids[c.ID] = true
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return recordLess(out[i], out[j]) })
	return out, nil
}

// dealFiguresNext reports that the sentence after ss[i], in the same block,
// names a deal and its figures but no company: "Orbitra will supply GPU
// capacity to Lumen. The three-year contract is worth $1.2 billion."
func dealFiguresNext(ss []*sent, i int) bool {
	if i+1 >= len(ss) {
		return false
	}
	n := ss[i+1]
	return n.Block == ss[i].Block && len(n.parties) == 0 && hasDealWord(n.lower) && (len(n.money) > 0 || len(n.caps) > 0 || len(n.terms) > 0)
}

// dropSums removes a deal whose value is the sum of two or more other deals
// of the same two companies on the page ("a $1.5 billion agreement" that is
// the $1.3 billion and $200 million deals told apart further down).
func dropSums(ds []*draft) []*draft {
	out := ds[:0:0]
	for _, d := range ds {
		if d.value == nil || d.aggregate {
			out = append(out, d)
			continue
		}
		sum, n := 0.0, 0
		for _, o := range ds {
			if o != d && !o.aggregate && o.value != nil && o.operator == d.operator && o.label() == d.label() && o.value.Value < d.value.Value {
				sum += o.value.Value
				n++
			}
		}
		if n >= 2 && nearRel(sum, d.value.Value, 0.005) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// pageCurrency is the one currency of a page's amounts of contract size, or
// "" when it names none or several.
func pageCurrency(ss []*sent) string {
	cur := ""
	for _, s := range ss {
		for _, m := range s.money {
			if m.Value < 1e8 {
				continue
			}
			if cur != "" && m.Currency != cur {
				return ""
			}
			cur = m.Currency
		}
	}
	return cur
}

// figureReach is how many sentences from a named company figures are read.
const figureReach = 12

// countDecimals counts numbers written with a decimal comma ("4,1 mrd", "2,5
// GW", "10,5 %") and with a decimal point ("4.1 billion", "$6.70"): one or
// two digits after the separator, then a unit, a word or a percent sign.
func countDecimals(s string) (comma, point int) {
	for i := 1; i+1 < len(s); i++ {
		c := s[i]
		if (c != ',' && c != '.') || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
			continue
		}
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i-1 > 2 {
			continue // "1,200" or "1.500": a thousands separator
		}
		k := i - 1
		for k > 0 && isDigit(s[k-1]) {
			k--
		}
		if k > 0 && (s[k-1] == ',' || s[k-1] == '.') {
			continue // "1,200,5" — part of a longer number
		}
		rest := strings.TrimLeft(s[j:], " ")
		unit := rest != "" && (rest[0] == '%' || rest[0] >= 'A' && rest[0] <= 'z' || rest[0] >= 0x80)
		dollar := k > 0 && s[k-1] == '$'
		switch {
		case c == ',' && unit:
			comma++
		case c == '.' && (unit || dollar):
			point++
		}
		i = j
	}
	return comma, point
}

// addTableDraft adds a table row's deal, or completes the deal the text
// already gave for the same parties and figures.
func addTableDraft(ds []*draft, d *draft) []*draft {
	for _, o := range ds {
		if o.operator != d.operator || o.label() != d.label() || !agree(o, d) {
			continue
		}
		if o.value == nil {
			o.value = d.value
		}
		if o.capacity == nil {
			o.capacity = d.capacity
		}
		if o.term == nil {
			o.term = d.term
		}
		if o.unitPrice == nil {
			o.unitPrice = d.unitPrice
		}
		if o.site == "" {
			o.site = d.site
		}
		return ds
	}
	return append(ds, d)
}

// mainParty is the company the page is about: the provider-leaning company of
// the headline, else the one named most often in deal sentences.
func mainParty(ss []*sent) *Entity {
	for _, s := range ss {
		if !s.title {
			break
		}
		var best *Entity
		bestScore := 1.5
		for i := range s.parties {
			if s.parties[i].e == nil {
				continue
			}
			if p, c := roleScores(s, i); p+s.parties[i].e.tier()-c > bestScore {
				best, bestScore = s.parties[i].e, p+s.parties[i].e.tier()-c
			}
		}
		if best != nil {
			return best
		}
	}
	counts := map[*Entity]int{}
	var best *Entity
	for _, s := range ss {
		for i, p := range s.parties {
			if p.e == nil {
				continue
			}
			// "a lease with Lumen": the name after "with" is the other side
			// of the page's company, not the company itself.
			if afterWith(s, p) {
				continue
			}
			if pr, c := roleScores(s, i); pr+p.e.tier() > c+1.5 {
				counts[p.e]++
				if best == nil || counts[p.e] > counts[best] {
					best = p.e
				}
			}
		}
	}
	return best
}

// guaranteeCues mark a sentence about backing a lease.
var guaranteeCues = []string{"backstop", "back-stop", "guarantee", "guarantor", "garant", "respald", "apoyo de arrendamiento", "soutien au bail", "absicher", "bürg", "보증", "임대 지원", "担保", "擔保", "兜底", "背书", "背書", "支持租赁", "保証", "ضمان", "garantia", "garanzia"}

// topicParty is the company the page is about, whatever its role: the one
// named most in the headline and the first sentences.
func topicParty(ss []*sent) *Entity {
	counts := map[*Entity]int{}
	var best *Entity
	for i, s := range ss {
		if i > 6 {
			break
		}
		for _, p := range s.parties {
			if p.e == nil {
				continue
			}
			counts[p.e]++
			if best == nil || counts[p.e] > counts[best] {
				best = p.e
			}
		}
	}
	return best
}

// dropSideParties removes from every sentence the companies the page names
// as a guarantor or an end user of a deal: "Orbitra backstops the lease",
// "capacity for Lumen Labs" make them parties to no contract of the page.
func dropSideParties(ss []*sent) {
	side := map[*Entity]bool{}
	for _, s := range ss {
		// "builds a campus for Lumen and signed a lease with Orbitra": the
		// company the capacity is for, beside the one the lease is with,
		// uses it.
		with := false
		for _, p := range s.parties {
			with = with || afterWith(s, p)
		}
		for i, p := range s.parties {
			if !with || i == 0 || p.e == nil || afterWith(s, p) {
				continue
			}
			before := strings.ToLower(lastRunes(s.Text[:p.start], 60))
			if w := endsWithWord(before, []string{"for"}); w != "" && anyWord(ownPhrase(strings.TrimSuffix(strings.TrimRight(before, " "), w)), lex().BuiltFor) {
				side[p.e] = true
				s.usedBy = p.e
			}
		}
		backing := containsAny(s.lower, guaranteeCues)
		for _, m := range s.ents {
			if r := roleOf(s.lower, m); r == roleGuarantor || r == roleEndUser {
				side[m.E] = true
			}
			// A hyperscaler in a sentence about a backstop, in any language,
			// backs someone else's lease ("임대료 보증", a lease guarantee).
			if backing && m.E.Kind == "hyperscaler" {
				side[m.E] = true
			}
		}
	}
	// "after Oracle and OpenAI walked away", "a project first earmarked for
	// Lumen": companies that left the deal are no party to it (in this
	// sentence only: elsewhere they may have deals of their own).
	for _, s := range ss {
		keep := s.parties[:0]
		for _, p := range s.parties {
			if p.e == nil || !formerParty(s, p) {
				keep = append(keep, p)
			}
		}
		s.parties = keep
	}
	if len(side) == 0 {
		return
	}
	for _, s := range ss {
		keep := s.parties[:0]
		for _, p := range s.parties {
			if p.e == nil || !side[p.e] {
				keep = append(keep, p)
			}
		}
		s.parties = keep
	}
}

// ownPhrase keeps the words after the last clause break ("; ", " and ",
// " but "): a place written "Lima, Ohio" does not break it.
func ownPhrase(s string) string {
	for _, sep := range []string{"; ", " and ", " but ", " while "} {
		if i := strings.LastIndex(s, sep); i >= 0 {
			s = s[i+len(sep):]
		}
	}
	return s
}

// valueAndTerm reports a sentence that gives a contract value and its term.
func valueAndTerm(s *sent) bool {
	v, t := false, false
	for i := range s.money {
		v = v || s.classes().money[i] == "value" && !s.classes().moneyHedged[i]
	}
	for i, tt := range s.terms {
		t = t || tt.Until == 0 && s.classes().termOK[i]
	}
	return v && t
}

// exitWords say a company left a deal or a project before this one.
var exitWords = []string{"walked away", "walk away", "withdrew", "withdrawn", "pulled out", "backed out", "exited", "abandoned", "dropped out", "retreated", "scrapped"}

// formerParty reports a company the sentence names as having left the deal,
// or as the one a project was first meant for.
func formerParty(s *sent, p pmention) bool {
	a, b := clauseAt(s.lower, p.start)
	if containsAny(s.lower[p.end:min(b, p.end+60)], exitWords) && a <= p.start {
		return true
	}
	before := lastRunes(s.lower[:p.start], 80)
	// "striving to catch up with AI developers such as Lumen": a rival named
	// as an example, not a party.
	rival := lastRunes(s.lower[:p.start], 70)
	if i := strings.LastIndexAny(rival, ";.:"); i >= 0 {
		rival = rival[i+1:]
	}
	if containsAny(rival, []string{"catch up with", "compete with", "competing with", "rivals such as", "rivals like", "competitors such as", "competitors like", "rival ", "second only to", "behind only", "trailing", "giants like", "giants such as", "despite", "beating", "beat out", "outbid", "ahead of"}) {
		return true
	}
	return containsAny(before, []string{"originally", "previously earmarked", "earmarked for", "initially planned for", "originally planned for", "first meant for"}) &&
		endsWithWord(strings.TrimRight(before, " "), []string{"for", "by", "and"}) != ""
}

// afterWith reports a party named right after "with", perhaps behind a short
// description ("with AI cloud firm Lumen").
func afterWith(s *sent, p pmention) bool {
	before := strings.ToLower(lastRunes(s.Text[:p.start], 30))
	if m := reDescribed.FindStringSubmatch(before); m != nil {
		before = m[1]
	}
	return endsWithWord(before, []string{"with"}) != ""
}

// decimalCommaText tells whether the page writes "4,1 milliarder": from its
// language when declared, else from the numbers in its text.
func decimalCommaText(p *Page) bool {
	if europeanLang(p.Lang) {
		return true
	}
	commaDec, pointDec := 0, 0
	seen := 0
	for _, b := range p.Blocks {
		if seen > 32<<10 { // enough text to tell; bounded on huge pages
			break
		}
		text := b.Text
		if len(text) > 32<<10-seen {
			text = text[:32<<10-seen]
		}
		seen += len(text) + 1
		c, d := countDecimals(text)
		commaDec += c
		pointDec += d
	}
	return commaDec > pointDec
}

func recordLess(a, b schemas.Contract) bool {
	if a.Operator.Name != b.Operator.Name {
		return a.Operator.Name < b.Operator.Name
	}
	if la, lb := a.Counterparty.Label(), b.Counterparty.Label(); la != lb {
		return la < lb
	}
	return deref(a.CapacityMW) < deref(b.CapacityMW)
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func europeanLang(lang string) bool {
	for _, l := range []string{"de", "fr", "it", "es", "pt", "nl", "ru", "pl"} {
		if lang == l || strings.HasPrefix(lang, l+"-") {
			return true
		}
	}
	return false
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func f64(v float64) *float64 { return &v }

// finish turns a draft into a record: derived numbers, plausibility checks, id.
func (d *draft) finish(p *Page, src schemas.Source) schemas.Contract {
	c := schemas.Contract{
		SchemaVersion:    schemas.Version,
		Operator:         schemas.Operator{Name: d.operator.Name, Ticker: d.operator.Ticker},
		Aggregate:        d.aggregate,
		Source:           src,
		Evidence:         d.evidence,
		FieldEvidence:    d.fieldEv,
		ExtractorVersion: Version,
		Terms:            []string{},
	}
	if d.counterparty != nil {
		c.Counterparty = schemas.Counterparty{Name: strPtr(d.counterparty.Name), Hyperscaler: d.counterparty.Hyperscaler}
	} else {
		c.Counterparty = schemas.Counterparty{Descriptor: strPtr(d.descriptor)}
	}
	if d.guarantor != nil {
		c.Guarantor = &schemas.Party{Name: d.guarantor.Name}
	}
	if d.endUser != nil {
		c.EndUser = &schemas.Party{Name: d.endUser.Name}
	}
	text := d.text.String()
	// The words that named the deal first, then the rest of its sentences, its
	// section heading, the headline.
	c.ContractType = contractType(d.anchorText)
	if c.ContractType == schemas.TypeUnknown {
		c.ContractType = contractType(text)
	}
	if c.ContractType == schemas.TypeUnknown {
		c.ContractType = contractType(d.heading)
	}
	if c.ContractType == schemas.TypeUnknown {
		c.ContractType = contractType(strings.ToLower(p.Title))
	}
	if c.ContractType == schemas.TypeUnknown {
		// Nothing in the words: what the provider sells. Neoclouds and clouds
		// sell managed compute; miners and developers lease powered space.
		switch d.operator.Kind {
		case "neocloud", "hyperscaler":
			c.ContractType = schemas.TypeCloudServices
		case "operator":
			c.ContractType = schemas.TypeColocation
		}
	}
	c.Terms = append([]string{}, termsIn(text)...)
	if d.guarantor != nil || d.guarantee != nil {
		c.Terms = addTerm(c.Terms, schemas.TermGuarantee)
	}
	if d.prepayment != nil {
		c.Terms = addTerm(c.Terms, schemas.TermPrepayment)
	}
	sort.Strings(c.Terms)
	warnings := append([]string(nil), d.warnings...)
	conf := 0.9
	if d.date != "" {
		c.AnnouncedOn = &d.date
	} else if p.Published != "" && (anyWord(text, []string{"today", "on monday", "on tuesday", "on wednesday", "on thursday", "on friday", "this morning", "earlier today",
		"said monday", "said tuesday", "said wednesday", "said thursday", "said friday", "announced monday", "announced tuesday", "announced wednesday", "announced thursday", "announced friday"})) {
		// A deal the page reports as news of the day is announced on the
		// page's date; a weekday with no date resolves to it too.
		c.AnnouncedOn = strPtr(p.Published)
	}
	if d.value != nil {
		c.TotalValueUSD = f64(d.value.Value)
		if d.value.IsRange() {
			warnings = append(warnings, "contract value is a range")
		}
		if d.value.Bound != "" {
			warnings = append(warnings, "contract value is a bound ("+d.value.Bound+")")
		}
	} else {
		conf -= 0.15
	}
	if d.energyOnly && d.capacity == nil {
		warnings = append(warnings, "only an energy figure (MWh) was stated, not capacity in MW")
	}
	if d.annualOnly && d.value == nil {
		warnings = append(warnings, "the amount stated is annual revenue, not the contract value")
	}
	if d.capacity != nil && containsAny(firstBytes(strings.ToLower(d.fieldEv[schemas.FieldCapacityMW]), 400), []string{"gross", "utility power", "grid connection", "interconnection"}) &&
		!strings.Contains(strings.ToLower(d.fieldEv[schemas.FieldCapacityMW]), "it load") && !strings.Contains(strings.ToLower(d.fieldEv[schemas.FieldCapacityMW]), "it capacity") {
		warnings = append(warnings, "capacity may be gross or grid power rather than critical IT load")
	}
	if d.capacity != nil {
		c.CapacityMW = f64(round(d.capacity.MW, 3))
		if d.capacity.Bound != "" {
			warnings = append(warnings, "capacity is a bound ("+d.capacity.Bound+")")
		}
	} else {
		conf -= 0.1
	}
	if d.term != nil {
		c.TermYears = f64(d.term.Years)
	}
	if c.AnnouncedOn != nil && c.TermYears == nil && d.until != 0 { // "through 2040", signed 2025
		if y := atoi((*c.AnnouncedOn)[:4]); d.until > y {
			c.TermYears = f64(float64(d.until - y))
		}
	}
	if d.prepayment != nil {
		c.PrepaymentUSD = f64(d.prepayment.Value)
	}
	if d.guarantee != nil {
		c.GuaranteeUSD = f64(d.guarantee.Value)
	}
	if d.unitPrice != nil {
		c.ReportedUSDPerMWYear = f64(d.unitPrice.USD)
	}
	c.Location = strPtr(findLocation(d.evidence))
	if d.site != "" {
		c.Location = strPtr(d.site)
	}
	c.Hardware = strPtr(findHardware(firstBytes(text, 4<<10)))
	// "$300 million in total, priced at $2.5 million per MW per year" for 20
	// MW: the term the three figures imply, when the text states none
	if c.TermYears == nil && c.TotalValueUSD != nil && c.CapacityMW != nil && c.ReportedUSDPerMWYear != nil && *c.CapacityMW > 0 && *c.ReportedUSDPerMWYear > 0 && !c.Aggregate {
		y := *c.TotalValueUSD / (*c.CapacityMW * *c.ReportedUSDPerMWYear)
		if r := math.Round(y*2) / 2; r >= 1 && r <= 30 && math.Abs(y-r) <= 0.03*r {
			c.TermYears = f64(r)
			warnings = append(warnings, fmt.Sprintf("term of %.1f years derived from the value, the capacity and the stated unit price", r))
		}
	}
	if c.USDPerMWYear = schemas.DerivedUSDPerMWYear(c.TotalValueUSD, c.CapacityMW, c.TermYears); c.USDPerMWYear != nil {
		u := *c.USDPerMWYear
		if u < 500_000 || u > 25_000_000 {
			warnings = append(warnings, fmt.Sprintf("unit price $%.0f/MW/year is outside the known bands ($0.5M–$25M)", u))
		}
		if r := c.ReportedUSDPerMWYear; r != nil && math.Abs(*r-u) > 0.02*u {
			warnings = append(warnings, fmt.Sprintf("stated unit price $%.0f/MW/year differs from the derived $%.0f by more than 2%%", *r, u))
		}
	}
	if d.opInferred {
		conf -= 0.1
	}
	if c.Counterparty.Name == nil {
		conf -= 0.05
	}
	conf -= 0.15 * float64(len(warnings))
	c.Confidence = round(math.Max(0.05, math.Min(0.99, conf)), 2)
	c.Warnings = warnings
	if len(d.evidence) > 0 {
		for _, f := range []string{schemas.FieldOperator, schemas.FieldCounterparty, schemas.FieldContractType} {
			d.setField(f, d.evidence[0])
		}
		c.FieldEvidence = d.fieldEv
	}
	if d.event != nil {
		ev := *d.event
		if len(d.evidence) > 0 {
			ev.Summary = strPtr(d.evidence[0])
		}
		if d.date != "" {
			ev.On = strPtr(d.date)
		} else if p.Published != "" {
			ev.On = strPtr(p.Published)
		}
		c.Event = &ev
		c.AnnouncedOn = nil // the record restates the original deal; the date is the event's
	}
	c.ID = DealID(c)
	return c
}

func addTerm(ts []string, t string) []string {
	for _, x := range ts {
		if x == t {
			return ts
		}
	}
	return append(ts, t)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// distinctID is DealID with the capacity and term in the key too: the id of
// a record whose DealID another record of the same article already has.
func distinctID(c schemas.Contract) string {
	key := strings.ToLower(fmt.Sprint(DealID(c), "|", deref(c.CapacityMW), "|", deref(c.TermYears)))
	sum := sha256.Sum256([]byte(key))
	return "deal-" + hex.EncodeToString(sum[:8])
}

// DealID is the deterministic key of a deal: the same operator, counterparty and
// size give the same id whichever article reported them. Size is the value rounded
// to $100M, or the capacity rounded to 5 MW when no value is known.
func DealID(c schemas.Contract) string {
	size := "?"
	switch {
	case c.TotalValueUSD != nil:
		size = fmt.Sprintf("usd:%.0f", math.Round(*c.TotalValueUSD/1e8))
	case c.CapacityMW != nil:
		size = fmt.Sprintf("mw:%.0f", math.Round(*c.CapacityMW/5))
	}
	key := strings.ToLower(c.Operator.Name + "|" + c.Counterparty.Label() + "|" + size + "|" + fmt.Sprint(c.Aggregate))
	sum := sha256.Sum256([]byte(key))
	return "deal-" + hex.EncodeToString(sum[:8])
}
