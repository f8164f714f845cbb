package extractor

import (
	"math"
	"regexp"
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// analysis is what the rules found in one sentence.
type analysis struct {
	Sentence
	lower  string
	ents   []Mention
	descs  []Descriptor
	money  []Money
	caps   []Capacity
	terms  []Term
	prices []UnitPrice
	dates  []DateMention
	rumour bool
	deal   bool // has a deal word
}

func analyze(s Sentence, g *Gazetteer, decimalComma bool) analysis {
	a := analyzeNames(s, g)
	a.addFigures(decimalComma)
	return a
}

// analyzeNames finds the parties and cue words of a sentence (cheap).
func analyzeNames(s Sentence, g *Gazetteer) analysis {
	a := analysis{Sentence: s, lower: strings.ToLower(s.Text)}
	a.ents = g.Find(s.Text)
	a.descs = findDescriptors(s.Text)
	a.rumour = containsAny(a.lower, rumourCues)
	a.deal = containsAny(a.lower, dealCues)
	return a
}

// relevant reports a sentence that can start or describe a deal: it names a
// company or an undisclosed counterparty, or is a table row.
func (a *analysis) relevant() bool {
	return len(a.ents) > 0 || len(a.descs) > 0 || a.Kind == "tr"
}

// addFigures runs the number parsers (the costly part of the analysis).
func (a *analysis) addFigures(decimalComma bool) {
	s := a.Sentence
	if strings.ContainsAny(s.Text, "0123456789") {
		a.money = parseMoney(s.Text, decimalComma)
		a.caps = parseCapacity(s.Text, decimalComma)
		a.terms = parseTerms(s.Text)
		a.prices = parseUnitPrices(s.Text)
		a.dates = parseDates(s.Text)
	} else {
		a.terms = parseTerms(s.Text)                 // "five-year"
		a.caps = parseCapacity(s.Text, decimalComma) // "Twenty-five megawatts"
	}
}

// draft is a contract being assembled.
type draft struct {
	operator     *Entity
	opInferred   bool
	counterparty *Entity
	descriptor   string
	guarantor    *Entity
	endUser      *Entity
	value        *Money
	valueNonUSD  *Money
	capacity     *Capacity
	term         *Term
	unitPrice    *UnitPrice
	prepayment   *Money
	guarantee    *Money
	date         string
	aggregate    bool
	text         strings.Builder // lower-cased wording of the deal's sentences
	evidence     []string
	fieldEv      map[string]string
	warnings     []string
	block        int
	heading      string         // lower-cased heading of the section the deal was read in
	anchorText   string         // lower-cased words of the sentences that named the deal
	until        int            // "through 2040": the year the contract runs to
	site         string         // location read from a table's site column
	event        *schemas.Event // set when the mention reports a change to an existing deal
	energyOnly   bool           // the only capacity figure was energy (MWh)
	annualOnly   bool           // the only amount was annual revenue, not contract value
}

func (d *draft) label() string {
	if d.counterparty != nil {
		return d.counterparty.Name
	}
	return d.descriptor
}

func (d *draft) addEvidence(s string) {
	for _, e := range d.evidence {
		if e == s {
			return
		}
	}
	d.evidence = append(d.evidence, s)
}

func (d *draft) setField(field, sentence string) {
	if d.fieldEv == nil {
		d.fieldEv = map[string]string{}
	}
	if _, ok := d.fieldEv[field]; !ok {
		d.fieldEv[field] = sentence
	}
}

// party is a counterparty candidate in a sentence: a customer entity or a descriptor.
type party struct {
	e          *Entity
	desc       string
	start, end int
}

// segment is the part of a sentence that speaks about one counterparty.
type segment struct {
	start, end int
	p          party
}

var reAggregate = regexp.MustCompile(`(?i)\b(two|three|four|both|\d|due|tre|dos|tres|deux|trois|zwei|drei)\s+(?:[a-z-]+\s+){0,2}?(?:contracts|agreements|leases|deals|orders|contratti|contratos|contrats|verträge|vereinbarungen|mietverträge)\b|totall?ing|combined|in total|complessiv|合计|合計|共计|共計|两份|兩份|insgesamt|au total|in totale|en total|en conjunto`)

var clauseSeparators = []string{"; ", " plus ", ", while ", " while ", " as well as ", " in addition", ", and ", " and a ", " and an ", " and "}

// segments cuts a sentence into one part per counterparty.
func segments(a analysis, parties []party) []segment {
	if len(parties) == 1 {
		return []segment{{0, len(a.Text), parties[0]}}
	}
	out := make([]segment, len(parties))
	start := 0
	for i, p := range parties {
		end := len(a.Text)
		if i+1 < len(parties) {
			end = boundary(a.lower, p.end, parties[i+1].start)
		}
		out[i] = segment{start, end, p}
		start = end
	}
	return out
}

// boundary finds where one counterparty's clause ends and the next begins.
func boundary(lower string, from, to int) int {
	if from >= to {
		return to
	}
	between := lower[from:to]
	for _, sep := range clauseSeparators {
		if i := strings.Index(between, sep); i >= 0 {
			return from + i
		}
	}
	return from + (to-from)/2
}

// moneyKind classifies an amount by the words around it.
func moneyKind(lower string, m Money) string {
	before := lastRunes(lower[:m.Start], 40)
	after := firstBytes(lower[m.End:], 40)
	near := before + " | " + after
	// "a prepayment equal to 20% of the total contract value, or approximately $1.94 billion"
	wide := lastRunes(lower[:m.Start], 90) + " | " + after
	switch {
	case hasAnyPrefix(strings.TrimLeft(after, " "), []string{"per share", "a share", "/share", "each", "per gpu", "per hour", "cada", "ciascuna", "chacune",
		"je aktie", "pro aktie", "por acción", "per azione", "par action", "每股"}):
		return "price"
	case hasAnyPrefix(strings.TrimLeft(after, " "), []string{"per megawatt", "per mw", "/mw", "a megawatt", "per kw", "每兆瓦"}):
		return "per_mw"
	case containsAny(wide, []string{"prepay", "prepaid", "pre-pay", "upfront", "up-front", "up front", "in advance", "预先支付", "預先支付", "预先", "預先", "预付", "預付", "vorauszahlung", "anticipo", "anticipado", "prépaiement"}):
		return "prepayment"
	case containsAny(cutClause(firstBytes(lower[m.End:], 28))+" | "+clauseBefore(lastRunes(lower[:m.Start], 28)), []string{"guarantee", "backstop", "back-stop", "担保", "擔保", "garantie", "garanzia", "garantía", "bürgschaft"}):
		return "guarantee"
	case !containsAny(after, []string{"per mw", "/mw", "per megawatt", "a megawatt", "每兆瓦"}) && containsAny(after, []string{"in annual", "annual revenue", "annualized", "recurring revenue", " arr", "per year", "a year", "per annum", "annually", "ebitda", "net operating income", " noi", "年收入", "年化"}) ||
		containsAny(before, []string{"revenue of", "annual revenue", "ebitda of", "noi of", "annualized", "generate ", "generating "}):
		return "annual"
	case containsAny(wide, []string{"acquisition", "acquire", "takeover", "merger", "all-stock", "buyout", "offer for", "收购", "收購", "übernahme", "rachat", "acquisizione", "adquisición"}):
		return "equity" // the price of a company, not of a contract
	case strings.Contains(before, "valued at") && containsAny(lastRunes(before, 60), []string{"contract", "deal", "agreement", "lease", "order"}):
		return "value" // "a five-year contract, valued at roughly $3.4 billion"
	case containsAny(near, []string{"shares", "warrant", "equity consideration", "market cap", "valuation", "valued at", "market value", "stock",
		"acciones", "azioni", "actions", "aktien", "股份", "股票"}):
		return "equity"
	case containsAny(near, []string{"financing", "loan", "notes", "bond", "raised", "raise ", "debt", "credit facility", "convertible", "offering", "capex", "capital expenditure", "cost", "invested", "to invest", "investment of", "capital investment", "spend", "融资", "融資", "贷款", "債"}):
		return "finance"
	case containsAny(before, []string{"total contract amount", "totaling", "totalling", "total of", "combined", "in total", "合计", "合計", "共计"}):
		return "total"
	}
	return "value"
}

// capacityIsContract tells a contract's capacity from a portfolio, reserve or pipeline.
func capacityIsContract(lower string, c Capacity) bool {
	if c.Energy {
		return false
	}
	after := firstBytes(lower[c.End:], 45)
	before := lastRunes(lower[:c.Start], 30)
	if containsAny(after, []string{"portfolio", "pipeline", "reserve", "of power", "power capacity", "ai power", "convertible", "approved", "secured power",
		"of grid", "interconnect", "of energized", "of energised", "of total", "of gross", "under development", "of capacity across", "电力储备", "储备", "儲備"}) ||
		containsAny(before, []string{"负载达", "負載達", "合计达", "累计"}) ||
		containsAny(before, []string{"option on", "option for", "option to", "additional", "a further", "expand", "expansion", "portfolio of", "pipeline of", "reserves of", "total of", "拥有", "擁有"}) ||
		// "has 662MW", "holds 1.7 GW": a company's own power, not a contract ("has taken 245 MW" is one).
		hasAnySuffix(strings.TrimRight(before, " "), []string{" has", " holds", " possesses", " owns", " controls", " has about", " has roughly", " has some"}) {
		return false
	}
	return true
}

// reVendor: "NVIDIA GB300 systems", "NVIDIA's air-cooled Blackwell system", "AMD
// Instinct GPUs": the company is named as the maker of the hardware, not a party.
var reVendor = regexp.MustCompile(`^(?:'s|’s)?\s+(?:[\w-]+\s+){0,2}?(?:gb\d|b\d00|h\d00|mi\d|blackwell|hopper|rubin|grace|instinct|gpus?\b|chips?\b|accelerators?\b|systems?\b|hardware|servers?\b)`)

func isVendorMention(lower string, m Mention) bool {
	loc := reVendor.FindStringIndex(firstBytes(lower[m.End:], 48))
	if loc == nil {
		return false
	}
	// "Microsoft with NVIDIA GB300 systems": a preposition in between means the
	// hardware belongs to someone else.
	return !hasStopword(lower[m.End : m.End+loc[1]])
}

var stopwords = map[string]bool{"with": true, "for": true, "to": true, "from": true, "and": true, "of": true, "by": true,
	"on": true, "in": true, "under": true, "at": true, "a": true, "an": true, "the": true, "one": true, "its": true, "their": true}

func hasStopword(s string) bool {
	for _, w := range strings.Fields(s) {
		if stopwords[w] {
			return true
		}
	}
	return false
}

// asideWords before a name set it beside the deal rather than in it:
// "Before Fluidstack, TeraWulf's first customer was Core42".
var asideWords = []string{"before", "after", "unlike", "like", "than", "besides", "beyond", "apart from", "aside from", "including"}

func isAside(lower string, m Mention) bool {
	b := strings.TrimRight(lastRunes(lower[:m.Start], 14), " ")
	for _, w := range asideWords {
		if strings.HasSuffix(b, " "+w) || b == w {
			return true
		}
	}
	return false
}

func (a analysis) parties() []party {
	var ps []party
	for _, m := range a.ents {
		if m.E.Role != "customer" || roleOf(a.lower, m) != roleCounterparty || isVendorMention(a.lower, m) || isAside(a.lower, m) {
			continue
		}
		ps = append(ps, party{e: m.E, start: m.Start, end: m.End})
	}
	for _, d := range a.descs {
		ps = append(ps, party{desc: d.Text, start: d.Start, end: d.End})
	}
	sortMentions(ps, func(p party) int { return p.start })
	// One party per entity: "Microsoft … Microsoft's Azure" is one counterparty.
	var out []party
	seen := map[string]bool{}
	for _, p := range ps {
		k := p.desc
		if p.e != nil {
			k = p.e.Name
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

func inSeg(start int, s segment) bool { return start >= s.start && start < s.end }

// conditional reports a sentence about what would happen, not what was signed:
// "If the option is exercised, the footprint would grow to 400MW."
func conditional(lower string) bool {
	return strings.HasPrefix(lower, "if ") || strings.Contains(lower, " would ") || strings.Contains(lower, " if exercised") ||
		strings.Contains(lower, "option to") || strings.Contains(lower, "option on") || strings.Contains(lower, "option for")
}

func hasAnySuffix(s string, ss []string) bool {
	for _, x := range ss {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// fill takes what a sentence (or the part of it in seg) says about d.
func (d *draft) fill(a analysis, seg segment, anchor bool) {
	used := false
	if !anchor && (conditional(a.lower) || containsAny(a.lower, totalCues)) {
		// Its words still tell the type and terms ("an option to expand").
		d.text.WriteString(a.lower)
		d.text.WriteByte(' ')
		return
	}
	var totals []Money
	for i := range a.money {
		m := a.money[i]
		if !inSeg(m.Start, seg) || overlapsPrice(a.prices, m.Start) {
			continue
		}
		kind := moneyKind(a.lower, m)
		if m.Currency != "USD" && (kind == "value" || kind == "total") {
			if d.valueNonUSD == nil {
				d.valueNonUSD = &m
				d.warnings = append(d.warnings, "contract value stated in "+m.Currency+", not converted")
			}
			continue
		}
		switch kind {
		case "value":
			if d.value == nil && (anchor || a.deal || containsAny(a.lower, valueWords)) {
				d.value = &m
				d.setField("total_value_usd", a.Text)
				used = true
			}
		case "total":
			totals = append(totals, m)
		case "annual":
			if anchor && d.value == nil {
				d.annualOnly = true
			}
		case "prepayment":
			if d.prepayment == nil {
				d.prepayment = &m
				d.setField("prepayment_usd", a.Text)
				used = true
			}
		case "guarantee":
			if d.guarantee == nil {
				d.guarantee = &m
				d.setField("guarantee_usd", a.Text)
				used = true
			}
		}
	}
	if d.value == nil && len(totals) > 0 && d.aggregate {
		d.value = &totals[0]
		d.setField("total_value_usd", a.Text)
		used = true
	}
	var capTotals []Capacity
	for i := range a.caps {
		c := a.caps[i]
		if anchor && c.Energy && inSeg(c.Start, seg) {
			d.energyOnly = true
		}
		if !inSeg(c.Start, seg) || !capacityIsContract(a.lower, c) {
			continue
		}
		if strings.Contains(lastRunes(a.lower[:c.Start], 20), "total") {
			capTotals = append(capTotals, c)
			continue
		}
		if d.capacity == nil {
			d.capacity = &c
			d.setField("capacity_mw", a.Text)
			used = true
		}
	}
	if d.capacity == nil && len(capTotals) > 0 && d.aggregate {
		d.capacity = &capTotals[0]
		used = true
	}
	for i := range a.terms {
		t := a.terms[i]
		if !inSeg(t.Start, seg) || d.term != nil {
			continue
		}
		if t.Until != 0 {
			if d.until == 0 && (anchor || a.deal) {
				d.until = t.Until // resolved against the announcement year in finish
				d.setField("term_years", a.Text)
			}
			continue
		}
		// "over five years" next to warrants is the warrant's life, not the contract's.
		if strings.Contains(lastRunes(a.lower[:t.Start], 60), "shares") {
			continue
		}
		d.term = &t
		d.setField("term_years", a.Text)
		used = true
	}
	for i := range a.prices {
		if inSeg(a.prices[i].Start, seg) && d.unitPrice == nil {
			d.unitPrice = &a.prices[i]
			d.setField("reported_usd_per_mw_year", a.Text)
			used = true
		}
	}
	for _, m := range a.ents {
		if m.E.Role != "customer" || !inSeg(m.Start, seg) && !anchor {
			continue
		}
		switch roleOf(a.lower, m) {
		case roleGuarantor:
			if d.guarantor == nil && m.E != d.counterparty {
				d.guarantor = m.E
				used = true
			}
		case roleEndUser:
			if d.endUser == nil && m.E != d.counterparty {
				d.endUser = m.E
				used = true
			}
		}
	}
	if d.date == "" && (anchor || a.deal) {
		for _, dm := range a.dates {
			if inSeg(dm.Start, seg) || anchor {
				d.date = dm.Value
				used = true
				break
			}
		}
	}
	if anchor {
		d.anchorText += a.lower[seg.start:seg.end] + " "
	}
	if anchor || used {
		d.text.WriteString(a.lower[seg.start:seg.end])
		d.text.WriteByte(' ')
		d.addEvidence(a.Text)
	}
}

func overlapsPrice(ps []UnitPrice, start int) bool {
	for _, p := range ps {
		if start >= p.Start && start < p.End {
			return true
		}
	}
	return false
}

// operatorIn returns the operator named in a segment, preferring the one before
// the counterparty (the subject of "X signed with Y").
func operatorIn(a analysis, seg segment) *Entity {
	var best *Entity
	for _, m := range a.ents {
		if m.E.Role != "operator" {
			continue
		}
		if inSeg(m.Start, seg) {
			return m.E
		}
		if m.Start < seg.start {
			best = m.E
		}
	}
	return best
}

// findDeals assembles the mentions of contracts in the analysed sentences of a
// page; mergeDrafts then folds the mentions of one contract together.
func findDeals(as []analysis, mainOperator *Entity, g *Gazetteer, pos bool) []*draft {
	var drafts []*draft
	var lastOp *Entity
	heading := ""
	// The operator a paragraph is about is the first one it names: "Hut 8 has two
	// leases … apart from Cipher's lease. The second is …" is still Hut 8's.
	blockOp := map[int]*Entity{}
	for i := 0; i < len(as); i++ {
		a := as[i]
		if a.Kind == "h" {
			heading = a.lower
		}
		inferred := lastOp
		if op := blockOp[a.Block]; op != nil {
			inferred = op
		}
		if op := firstOperator(a); op != nil && blockOp[a.Block] == nil {
			blockOp[a.Block] = op
		}
		if a.rumour || a.Kind == "h" {
			if op := firstOperator(a); op != nil {
				lastOp = op
			}
			continue
		}
		if a.Kind == "tr" && len(a.Header) == len(a.Cells) {
			if d := tableDeal(a, inferred, g); d != nil {
				d.heading = heading
				drafts = append(drafts, d)
			}
			continue
		}
		ps := a.parties()
		// "… is committed to CoreWeave. The AI cloud company has signed two hosting
		// agreements with Galaxy covering 393 MW": a sentence with an operator and
		// figures but no counterparty takes the one customer its predecessor named.
		if len(ps) == 0 && i > 0 && as[i-1].Block == a.Block && firstOperator(a) != nil && len(a.caps)+len(a.money) > 0 &&
			containsAny(a.lower, []string{" signed", " agreed", " inked", " entered", " secured", " leased", " has taken"}) && !containsAny(a.lower, hedgeWords) {
			if prev := as[i-1].parties(); len(prev) == 1 && prev[0].e != nil {
				ps = []party{{e: prev[0].e}}
			}
		}
		if containsAny(a.lower, totalCues) && !reAggregate.MatchString(a.lower) {
			ps = nil
		}
		if len(ps) == 0 || !(a.deal || a.Kind == "tr" && len(a.money)+len(a.caps) > 0) {
			if op := firstOperator(a); op != nil {
				lastOp = op
			}
			continue
		}
		// Part-of-speech tags cost ~1 ms a sentence: only when a hedge word is there
		// to weigh, or the operator must be found from the grammar.
		var tags tagged
		didTag := false
		tagsOf := func() tagged {
			if !didTag && pos {
				tags, didTag = tag(a.Text), true
			}
			return tags
		}
		if containsAny(a.lower, hedgeWords) && containsAny(a.lower, dealBaseWords) && tagsOf().hypothetical() {
			continue
		}
		for _, seg := range segments(a, ps) {
			d := &draft{block: a.Block, heading: heading}
			d.counterparty, d.descriptor = seg.p.e, seg.p.desc
			d.operator = operatorIn(a, seg)
			if d.operator == nil {
				if mayHaveProperSubject(a.Text) {
					if name := tagsOf().properSubject(); name != "" && g.Lookup(name) == nil {
						d.operator = &Entity{Name: name, Role: "operator"} // not in the gazetteer: kept as written
					}
				}
			}
			if d.operator == nil {
				d.operator, d.opInferred = inferred, true
			}
			if d.operator == nil {
				d.operator, d.opInferred = mainOperator, true
			}
			if d.operator == nil {
				continue
			}
			// The sentence before, in the same paragraph and about the same operator,
			// lends its words for the type and terms ("… to sign colocation contracts
			// for AI. With CoreWeave it signed two contracts …").
			if i > 0 && as[i-1].Block == a.Block && onlyNames(as[i-1], d.operator) {
				d.text.WriteString(as[i-1].lower)
				d.text.WriteByte(' ')
			}
			segText := a.lower[seg.start:seg.end]
			if t := eventType(a.lower); t != "" {
				// A change to a deal: its figures are read apart, and the next
				// sentences of the paragraph restate or total it.
				d.event = &schemas.Event{Type: t}
				d.fillEvent(a)
				for j := i + 1; j < len(as) && j <= i+4 && as[j].Block <= a.Block+1 && as[j].Kind != "h" && !startsOtherDeal(as[j], d); j++ {
					d.fillEvent(as[j])
				}
				drafts = append(drafts, d)
				continue
			}
			d.aggregate = reAggregate.MatchString(segText) && countsContracts(segText)
			d.fill(a, seg, true)
			// Facts spread over the next sentences of the same or the next block.
			for j := i + 1; j < len(as) && j <= i+3; j++ {
				b := as[j]
				if b.Kind == "h" || b.Kind == "tr" || b.rumour {
					break
				}
				// The next paragraph continues the deal only when it opens by
				// referring back to it ("Both agreements are …", "The lease …").
				if b.Block != a.Block && (b.Block != a.Block+1 || !refersBack(b, d.operator)) {
					break
				}
				if startsOtherDeal(b, d) {
					break
				}
				d.fill(b, segment{0, len(b.Text), party{}}, false)
			}
			drafts = append(drafts, d)
		}
		if op := firstOperator(a); op != nil {
			lastOp = op
		}
	}
	return drafts
}

// valueWords say that an amount is what a contract is worth.
var valueWords = []string{"worth", "valued", "value", "valore", "valor", "valeur", "wert", "总额", "總額", "金额", "金額", "价值", "價值"}

var anaphora = []string{"the service", "the deployment", "the capacity", "the facility", "the site", "both agreements", "both contracts", "both leases", "the agreement", "the agreements", "the contract", "the contracts",
	"the deal", "the lease", "the leases", "under the agreement", "under the contract", "under the lease", "each lease", "each contract", "the two"}

// refersBack reports a sentence of the next paragraph that goes on about the deal:
// it opens by referring back ("Both agreements …"), names only the deal's
// operator, or names no one and speaks of "the contract" or of its value ("The
// headline value is US$7bn over the base term").
func refersBack(b analysis, op *Entity) bool {
	if hasAnyPrefix(b.lower, anaphora) || onlyNames(b, op) {
		return true
	}
	if len(b.ents) > 0 || len(b.descs) > 0 {
		return false
	}
	return containsAny(b.lower, []string{"the contract", "the lease", "the agreement", "the deal"}) || containsAny(b.lower, valueWords)
}

// onlyNames reports a sentence whose only company is op ("IREN will deliver the
// service from …"): it goes on about the same deal.
func onlyNames(b analysis, op *Entity) bool {
	if len(b.ents) == 0 || len(b.descs) > 0 {
		return false
	}
	for _, m := range b.ents {
		if m.E != op {
			return false
		}
	}
	return true
}

func countsContracts(seg string) bool {
	return strings.Contains(seg, "contracts") || strings.Contains(seg, "agreements") || strings.Contains(seg, "leases") ||
		strings.Contains(seg, "deals") || strings.Contains(seg, "orders") || strings.Contains(seg, "合同") || strings.Contains(seg, "合計") ||
		strings.Contains(seg, "合计") || strings.Contains(seg, "verträge") || strings.Contains(seg, "contrats") || strings.Contains(seg, "contratti") || strings.Contains(seg, "contratos")
}

func firstOperator(a analysis) *Entity {
	for _, m := range a.ents {
		if m.E.Role == "operator" {
			return m.E
		}
	}
	return nil
}

// startsOtherDeal reports a sentence that speaks about a different contract:
// another counterparty or operator together with figures.
func startsOtherDeal(b analysis, d *draft) bool {
	for _, p := range b.parties() {
		if p.e != nil && p.e != d.counterparty || p.desc != "" && p.desc != d.descriptor {
			return true
		}
	}
	for _, m := range b.ents {
		if m.E.Role == "operator" && m.E != d.operator && (len(b.money) > 0 || len(b.caps) > 0) {
			return true
		}
	}
	// A second contract value for a deal that has one already.
	if d.value != nil {
		for _, m := range b.money {
			if moneyKind(b.lower, m) == "value" && !close(m.Value, d.value.Value, 0.03) {
				return true
			}
		}
	}
	return false
}

func close(a, b, tol float64) bool {
	if a == 0 || b == 0 {
		return a == b
	}
	return math.Abs(a-b) <= tol*math.Max(a, b)
}

// mergeDrafts folds repeated mentions of one contract (summary and body) together.
// Mentions without figures ("Microsoft has agreed to a 20% prepayment") complete
// the deal of the same parties; alone they are not a record.
func mergeDrafts(ds []*draft) []*draft {
	var out, partial []*draft
next:
	for _, d := range ds {
		if d.event != nil {
			out = append(out, d) // a change is its own record, linked to its deal by the ledger
			continue
		}
		if d.value == nil && d.capacity == nil {
			partial = append(partial, d)
			continue
		}
		for _, o := range out {
			if o.event == nil && o.operator == d.operator && o.label() == d.label() && compatible(o, d) {
				o.absorb(d)
				continue next
			}
		}
		out = append(out, d)
	}
	for _, p := range partial {
		for _, o := range out {
			if o.event == nil && o.operator == p.operator && o.label() == p.label() && compatible(o, p) {
				o.absorb(p)
				break
			}
		}
	}
	return out
}

func compatible(a, b *draft) bool {
	if a.value != nil && b.value != nil && !close(a.value.Value, b.value.Value, 0.03) {
		return false
	}
	if a.capacity != nil && b.capacity != nil && !close(a.capacity.MW, b.capacity.MW, 0.05) {
		return false
	}
	if a.term != nil && b.term != nil && a.term.Years != b.term.Years {
		return false
	}
	return true
}

func (d *draft) absorb(o *draft) {
	if d.value == nil {
		d.value = o.value
	}
	if d.capacity == nil {
		d.capacity = o.capacity
	}
	if d.term == nil {
		d.term = o.term
	}
	if d.until == 0 {
		d.until = o.until
	}
	if d.unitPrice == nil {
		d.unitPrice = o.unitPrice
	}
	if d.prepayment == nil {
		d.prepayment = o.prepayment
	}
	if d.guarantee == nil {
		d.guarantee = o.guarantee
	}
	if d.guarantor == nil {
		d.guarantor = o.guarantor
	}
	if d.endUser == nil {
		d.endUser = o.endUser
	}
	if d.date == "" {
		d.date = o.date
	}
	if o.value != nil || o.capacity != nil { // "aggregate" is about figures
		d.aggregate = d.aggregate || o.aggregate
	}
	if d.opInferred && !o.opInferred {
		d.opInferred = false
	}
	d.text.WriteString(o.text.String())
	d.anchorText += o.anchorText
	for _, e := range o.evidence {
		d.addEvidence(e)
	}
	for k, v := range o.fieldEv {
		d.setField(k, v)
	}
	d.warnings = append(d.warnings, o.warnings...)
}

// fillFromHeadline completes a deal with the figures of the page's headline
// ("Hut 8 Signs 15-Year, $7 Billion Lease …") when the headline speaks of it: it
// names the deal's counterparty, or the page has a single deal.
func fillFromHeadline(ds []*draft, title analysis) {
	if len(title.parties()) > 1 {
		return // a headline about several deals cannot complete one of them
	}
	oneDeal := true
	for _, d := range ds {
		oneDeal = oneDeal && d.operator == ds[0].operator && d.label() == ds[0].label()
	}
	for _, d := range ds {
		named := false
		for _, p := range title.parties() {
			if p.e != nil && p.e == d.counterparty {
				named = true
			}
		}
		if !named && !oneDeal {
			continue
		}
		h := &draft{}
		h.fill(title, segment{0, len(title.Text), party{}}, true)
		if !compatible(d, h) {
			continue
		}
		if d.term == nil && h.term != nil {
			d.term = h.term
			d.setField("term_years", title.Text)
		}
		if d.value == nil && h.value != nil {
			d.value = h.value
			d.setField("total_value_usd", title.Text)
		}
		if d.capacity == nil && h.capacity != nil {
			d.capacity = h.capacity
			d.setField("capacity_mw", title.Text)
		}
	}
}

// attachUnitPrices gives a stated price per MW per year that no deal sentence
// carried ("Divide $9.7 billion by five years and by 200 MW and you get about $9.7
// million per megawatt per year") to the one deal whose derived price it matches
// within 5%.
func attachUnitPrices(ds []*draft, as []analysis) {
	for _, a := range as {
		for _, p := range a.prices {
			var match *draft
			n := 0
			for _, d := range ds {
				if d.unitPrice != nil || d.value == nil || d.capacity == nil || d.term == nil || d.capacity.MW <= 0 || d.term.Years <= 0 {
					continue
				}
				derived := d.value.Value / (d.capacity.MW * d.term.Years)
				if close(derived, p.USD, 0.05) {
					match, n = d, n+1
				}
			}
			if n == 1 {
				p := p
				match.unitPrice = &p
				match.setField("reported_usd_per_mw_year", a.Text)
				match.addEvidence(a.Text)
			}
		}
	}
}

// attachCapacities completes a deal that has no capacity with the one contract
// capacity stated in a sentence about its counterparty, or in the sentence right
// after one ("… GB300 systems for Microsoft at Childress. The deployment is sized
// at 200 MW …"), when that is the only such figure.
func attachCapacities(ds []*draft, as []analysis) {
	for _, d := range ds {
		if d.capacity != nil || d.counterparty == nil {
			continue
		}
		var found []Capacity
		var where []string
		for i, a := range as {
			about := onlyParty(a, d.counterparty)
			if !about && i > 0 && len(a.parties()) == 0 && len(a.ents) == 0 && as[i-1].Block == a.Block {
				about = onlyParty(as[i-1], d.counterparty)
			}
			if !about || conditional(a.lower) || containsAny(a.lower, totalCues) {
				continue
			}
			for _, c := range a.caps {
				if capacityIsContract(a.lower, c) {
					found = append(found, c)
					where = append(where, a.Text)
				}
			}
		}
		if len(found) == 0 {
			continue
		}
		same := true
		for _, c := range found[1:] {
			same = same && close(c.MW, found[0].MW, 0.01)
		}
		if same {
			c := found[0]
			d.capacity = &c
			d.setField("capacity_mw", where[0])
			d.addEvidence(where[0])
		}
	}
}

// onlyParty reports a sentence whose only counterparty is e.
func onlyParty(a analysis, e *Entity) bool {
	ps := a.parties()
	return len(ps) == 1 && ps[0].e == e
}
