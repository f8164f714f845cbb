package extractor

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

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
	a := analysis{Sentence: s, lower: lowerAligned(s.Text)}
	a.ents = g.Find(s.Text)
	a.descs = findDescriptors(s.Text)
	a.rumour = containsAny(a.lower, rumourCues)
	a.deal = containsAny(a.lower, dealCues)
	return a
}

// addFigures runs the number parsers (the costly part of the analysis).
func (a *analysis) addFigures(decimalComma bool) {
	s := a.Sentence
	if strings.ContainsAny(s.Text, "0123456789") {
		a.money = parseMoney(closeSplitDecimals(s.Text), decimalComma)
		a.caps = parseCapacity(closeSplitDecimals(s.Text), decimalComma)
		a.terms = parseTerms(s.Text)
		a.prices = parseUnitPrices(s.Text)
		a.dates = parseDates(s.Text)
	} else {
		a.terms = parseTerms(s.Text)                 // "five-year"
		a.caps = parseCapacity(s.Text, decimalComma) // "Twenty-five megawatts"
	}
}

// reSplitDecimal is a decimal figure broken by a stray space after its
// separator ("$4. 2 billion", "2, 35 milliards"): a one- or two-digit whole
// part (so "by 2027, 15 MW" stays two numbers), one or two digits after it,
// then a scale word or a unit.
var reSplitDecimal = regexp.MustCompile(`(?i)(?:^|[^\d.,])\d{1,2}([.,]) (\d{1,2})\s?(?:billion|million|bn|milliards?|milliarden?|miliardi|milioni|millones|mil millones|bilhões|milhões|miljard|miljoen|milliarder|millioner|mrd|mio|gw|mw)\b`)

// closeSplitDecimals joins such a figure, keeping every byte offset: the
// space moves behind the digits ("2,35  milliards").
func closeSplitDecimals(s string) string {
	if !strings.Contains(s, ". ") && !strings.Contains(s, ", ") {
		return s
	}
	locs := reSplitDecimal.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return s
	}
	b := []byte(s)
	for _, l := range locs {
		i, j := l[3], l[5] // the space after the separator; the end of the fraction digits
		copy(b[i:j-1], b[i+1:j])
		b[j-1] = ' '
	}
	return string(b)
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
	region       string         // the state or country its deal sentence names first
	capSoft      bool           // its capacity is a power figure or a sum over sites, used for want of a better one
	event        *schemas.Event // set when the mention reports a change to an existing deal
	energyOnly   bool           // the only capacity figure was energy (MWh)
	annualOnly   bool           // the only amount was annual revenue, not contract value
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

// segment is the part of a sentence that speaks about one counterparty.
type segment struct {
	start, end int
}

// aggregateText reports words that make a deal the sum of several ("two
// leases", "a combined", "totalling"), but not "totalling $3.5bn over the
// term", which is one deal's whole.
func aggregateText(seg string) bool {
	if strings.Contains(seg, "totall") {
		seg = reWholeTerm.ReplaceAllString(seg, " ")
	}
	if strings.Contains(seg, "in total") {
		// "to Glasswing for $300 million in total": one deal's whole value
		seg = reAmountInTotal.ReplaceAllString(seg, " ")
	}
	return isAggregate(seg)
}

// aggregateCues are the literal words reAggregate needs, checked before it
// runs (the pattern is costly and most sentences have none of them).
var aggregateCues = []string{"contracts", "agreements", "leases", "deals", "orders", "contratti", "contratos", "contrats", "verträge", "vereinbarungen", "mietverträge",
	"totaling", "totalling", "combined", "in total", "complessiv", "合计", "合計", "共计", "共計", "两份", "兩份", "insgesamt", "au total", "in totale", "en total", "en conjunto"}

// isAggregate reports the words of several contracts or of a sum.
func isAggregate(lower string) bool {
	return containsAny(lower, aggregateCues) && reAggregate.MatchString(lower) // callers pass lower-cased text
}

var reAmountInTotal = regexp.MustCompile(`(?:million|billion|bn|mn|\d)\s+in total\b`)

var reWholeTerm = regexp.MustCompile(`totall?ing\s+[^,;]{0,40}?\bover (?:the|its) (?:term|life|contract|lease)`)

var reAggregate = regexp.MustCompile(`(?i)\b(two|three|four|both|\d|due|tre|dos|tres|deux|trois|zwei|drei)\s+(?:[a-z-]+\s+){0,2}?(?:contracts|agreements|leases|deals|orders|contratti|contratos|contrats|verträge|vereinbarungen|mietverträge)\b|totall?ing|combined|in total|complessiv|合计|合計|共计|共計|两份|兩份|insgesamt|au total|in totale|en total|en conjunto`)

// moneyKind classifies an amount by the words around it.
func moneyKind(lower string, m Money) string {
	before := lastRunes(lower[:m.Start], 40)
	after := firstBytes(lower[m.End:], 40)
	near := before + " | " + after
	// "a prepayment equal to 20% of the total contract value, or approximately $1.94 billion"
	wide := lastRunes(lower[:m.Start], 90) + " | " + after
	// the words after the amount up to the next figure are its own ("$86.5M per
	// year is $2.16M per MW": per year; "$3B, or $2.5M per MW per year": not)
	ownAfter := after
	if i := strings.IndexAny(ownAfter, "0123456789$€£¥"); i >= 0 {
		ownAfter = ownAfter[:i]
	}
	switch {
	case hasAnyPrefix(strings.TrimLeft(after, " "), []string{"per share", "a share", "/share", "each", "per gpu", "per hour", "cada", "ciascuna", "chacune",
		"je aktie", "pro aktie", "por acción", "per azione", "par action", "每股"}):
		return "price"
	case hasAnyPrefix(strings.TrimLeft(after, " "), []string{"per megawatt", "per mw", "/mw", "a megawatt", "per kw", "每兆瓦"}):
		return "per_mw"
	case containsAny(wide, []string{"prepay", "prepaid", "pre-pay", "upfront", "up-front", "up front", "in advance", "预先支付", "預先支付", "预先", "預先", "预付", "預付", "vorauszahlung", "anticipo", "anticipado", "prépaiement"}):
		return "prepayment"
	case hasAnySuffix(strings.TrimRight(lastRunes(lower[:m.Start], 30), " $"), []string{"backed by", "backed by up to", "backed by about"}): // "backed by $1.3 billion from Google"
		return "guarantee"
	case containsAny(cutClause(firstBytes(lower[m.End:], 28))+" | "+clauseBefore(lastRunes(lower[:m.Start], 60)), []string{"guarantee", "backstop", "back-stop", "pledged", "pledges", "credit support", "担保", "擔保", "garantie", "garanzia", "garantía", "bürgschaft", "absichern", "abgesichert", "absicherung", "apoyo de arrendamiento", "respaldo", "soutien au bail", "supporto al leasing"}):
		return "guarantee"
	case !containsAny(ownAfter, []string{"per mw", "/mw", "per megawatt", "a megawatt", "每兆瓦"}) && containsAny(ownAfter, []string{"in annual", "annual revenue", "annualized", "recurring revenue", " arr ", " arr,", " arr.", " arr)", "per year", "a year", "per annum", "annually", "ebitda", "net operating income", " noi", "年收入", "年化"}) ||
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
var reVendor = regexp.MustCompile(`^[*_]*(?:'s|’s)?[*_]*\s+(?:[\w-]+\s+){0,2}?(?:gb\d|b\d00|h\d00|mi\d|blackwell|hopper|rubin|grace|instinct|gpus?\b|chips?\b|accelerators?\b|systems?\b|hardware|servers?\b|reference|architecture|design\b)`)

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
				d.setField(schemas.FieldTotalValueUSD, a.Text)
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
				d.setField(schemas.FieldPrepaymentUSD, a.Text)
				used = true
			}
		case "guarantee":
			if d.guarantee == nil {
				d.guarantee = &m
				d.setField(schemas.FieldGuaranteeUSD, a.Text)
				used = true
			}
		}
	}
	if d.value == nil && len(totals) > 0 && d.aggregate {
		d.value = &totals[0]
		d.setField(schemas.FieldTotalValueUSD, a.Text)
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
			d.setField(schemas.FieldCapacityMW, a.Text)
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
				d.setField(schemas.FieldTermYears, a.Text)
			}
			continue
		}
		// "over five years" next to warrants is the warrant's life, not the contract's.
		if strings.Contains(lastRunes(a.lower[:t.Start], 60), "shares") {
			continue
		}
		d.term = &t
		d.setField(schemas.FieldTermYears, a.Text)
		used = true
	}
	for i := range a.prices {
		if inSeg(a.prices[i].Start, seg) && d.unitPrice == nil {
			d.unitPrice = &a.prices[i]
			d.setField(schemas.FieldReportedUSDPerMWYear, a.Text)
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

// valueWords say that an amount is what a contract is worth.
var valueWords = []string{"worth", "valued", "value", "valore", "valor", "valeur", "wert", "总额", "總額", "金额", "金額", "价值", "價值"}

func countsContracts(seg string) bool {
	return strings.Contains(seg, "contracts") || strings.Contains(seg, "agreements") || strings.Contains(seg, "leases") ||
		strings.Contains(seg, "deals") || strings.Contains(seg, "orders") || strings.Contains(seg, "合同") || strings.Contains(seg, "合計") ||
		strings.Contains(seg, "合计") || strings.Contains(seg, "verträge") || strings.Contains(seg, "contrats") || strings.Contains(seg, "contratti") || strings.Contains(seg, "contratos")
}

// lowerAligned lower-cases s without moving any byte: figures and names are
// found in the text and read in the lower-cased copy at the same offsets, so
// a letter whose lower case has another UTF-8 length ("İ" → "i", the Kelvin
// sign → "k") keeps its own bytes, and so do invalid bytes.
func lowerAligned(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if l := unicode.ToLower(r); r != utf8.RuneError && l != r && utf8.RuneLen(l) == n {
			utf8.EncodeRune(b[i:], l)
		}
		i += n
	}
	return string(b)
}
