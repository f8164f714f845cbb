package extractor

import (
	"regexp"
	"strings"
)

// classify: what each figure is (the contract's value or capacity, an upside,
// a company total, a campus's power, …) and what each clause is (signed or
// hedged), from the words in its clause and around it.

var clauseSeps = []string{"; ", ", with ", " and total ", " and a total ", " — ", " – ", " - ", ", while ", " while ", ", with the potential", ", with an option", " with an option", ", which ", " but ", ", and ", " and would ", " and could ", ", plus ", " plus ", ", although ", " although ", ", whereas ", ": ",
	" and includes ", " and include ", " and including ", " and carries ", " and contains ", " and gives ", " and grants ", " and provides for "}

// clauseAt returns the bounds of the clause of lower that holds byte pos.
func clauseAt(lower string, pos int) (int, int) {
	start, end := 0, len(lower)
	for _, sep := range clauseSeps {
		if i := strings.LastIndex(lower[:pos], sep); i >= 0 && i+len(sep) > start {
			start = i + len(sep)
			if strings.Contains(sep, "potential") || strings.Contains(sep, "option") {
				start = i + len(sep) - len(strings.TrimLeft(sep, ", ")) // the option is the clause's own word
			}
		}
		if i := strings.Index(lower[pos:], sep); i >= 0 && pos+i < end {
			end = pos + i
		}
	}
	if start > end {
		return pos, pos
	}
	return start, end
}

// hedgedAt reports whether the clause around pos speaks of what might be (an
// option, a renewal, talks, a plan) rather than what was signed.
func hedgedAt(lower string, pos int) bool {
	a, b := clauseAt(lower, pos)
	c := lower[a:b]
	lx := lex()
	return anyWord(c, lx.HedgeWords) && !signedDeal(c)
}

// figureHedged reports whether the words that belong to a figure — from the
// figure before it (or its clause start) to the next comma or clause end —
// hedge it: in "$1.9 billion over the first term, and up to $4.4 billion if
// both renewals are taken up" only the second amount is an upside.
func figureHedged(s *sent, start, end int) bool {
	lower := s.lower
	a, b := clauseAt(lower, start)
	prev := a
	for _, m := range s.money {
		if m.End <= start && m.End > prev {
			prev = m.End
		}
	}
	for _, c := range s.caps {
		if c.End <= start && c.End > prev {
			prev = c.End
		}
	}
	// The words of the figure's own phrase: from the last comma before it
	// ("with an option to buy the site in Quebec, to build a hall that will
	// support its 5 MW contract": the option is the site's).
	if i := strings.LastIndex(lower[prev:start], ", "); i >= 0 {
		prev += i + 2
	}
	stop := b
	if end < b {
		if i := strings.IndexAny(lower[end:b], ",;"); i >= 0 {
			stop = end + i
		}
	} else {
		stop = end
	}
	if prev > start || stop < end {
		return hedgedAt(lower, start)
	}
	// "Should Lumen renew, the lease would reach $3.1 billion and then $6
	// billion": a conditional before the clause's first figure governs them all.
	if prev > a {
		first := start
		for _, m := range s.money {
			if m.Start >= a && m.Start < first {
				first = m.Start
			}
		}
		if lead := lower[a:first]; anyWord(lead, []string{"if", "would", "could", "should", "might"}) {
			return true
		}
	}
	after := lower[end:stop]
	// "potential revenues of $18.2 billion if all options are exercised and a
	// $7.5 billion base contract": the base is what was signed.
	if hasAnyPrefix(strings.TrimLeft(after, " "), []string{"base contract", "base value", "base term", "base-term", "base lease", "in base"}) {
		return false
	}
	// "$17.4 billion for the initial term, before optional services": what
	// the figure leaves out is not a hedge on it.
	for _, x := range []string{" before ", " excluding ", " not including ", " not counting ", " without ", " exclusive of ", " sans ", " ohne ", " sin contar ", " senza "} {
		if i := strings.Index(after, x); i >= 0 {
			after = after[:i]
		}
	}
	w := lower[prev:start] + " # " + after
	lx := lex()
	if !anyWord(w, lx.HedgeWords) || signedDeal(w) {
		return false
	}
	// "announced plans to lease 20 MW to Lumen, under an agreement the two
	// signed on Friday": a plan the same sentence says was signed
	if anyWord(w, []string{"plans to", "intends to", "aims to", "plan to", "intend to"}) && !anyWord(w, []string{"could", "would", "might", "option", "options", "if"}) && signedDeal(lower) {
		return false
	}
	return true
}

// sentenceHedged: every deal word of the sentence sits in a hedged clause.
func sentenceHedged(lower string) bool {
	lx := lex()
	found := false
	for _, w := range lx.DealWords {
		for off := 0; ; {
			i := wordIndex(lower, w, off)
			if i < 0 {
				break
			}
			found = true
			// The hedge must govern the deal word: in its clause before it, or
			// just after it ("a lease that could be signed"), not in a later
			// aside ("…, supporting its plans to expand").
			a, b := clauseAt(lower, i)
			end := min(b, i+len(w)+25)
			if c := lower[a:end]; !anyWord(c, lx.HedgeWords) || signedDeal(c) {
				return false
			}
			off = i + len(w)
		}
	}
	return found
}

// dealStems are deal nouns that languages such as German and Norwegian join
// to other words ("Fünfjahresvertrag", "Großauftrag", "leieavtale").
var dealStems = []string{"vertrag", "verträge", "auftrag", "vereinbarung", "avtale", "aftale", "kontrakt", "overeenkomst", "jahresdeal"}

// financeDeals are deal words that name money raised, not capacity sold.
var financeDeals = []string{"funding commitments", "funding commitment", "financing commitments", "financing commitment", "loan agreement", "credit agreement", "financing agreement", "financing deal", "debt financing", "funding deal", "funding agreement"}

// hasDealWord reports a deal word anywhere in the sentence (not one that
// names financing: "secured $11.6 billion in funding commitments").
func hasDealWord(lower string) bool {
	if containsAny(lower, financeDeals) {
		for _, f := range financeDeals {
			lower = strings.ReplaceAll(lower, f, "")
		}
	}
	return anyWord(lower, lex().DealWords) || containsAny(lower, dealStems)
}

// reAnnualRevenue is a year's revenue however it is qualified ("annual
// hosting revenue", "yearly rent").
var reAnnualRevenue = regexp.MustCompile(`\b(?:annual|yearly|annualized|annualised)\s+(?:[a-z-]+\s+){0,2}(?:revenue|revenues|income|sales|rent)\b`)

// moneyClass is what an amount is to a contract.
func moneyClass(lower string, m Money) string {
	k := moneyKind(lower, m)
	before := lastRunes(lower[:m.Start], 45)
	// "committing to spend $30 billion on Microsoft's Azure cloud": what a
	// customer will pay for capacity is the contract's value.
	spendOnCapacity := containsAny(before, []string{"spend", "spending"}) && containsAny(firstBytes(lower[m.End:], 50), []string{"on compute", "on cloud", "on computing", "on capacity", "on azure", "on aws", "on google cloud", "cloud", "compute from"})
	if k == "finance" && spendOnCapacity {
		k = "value"
	}
	if k == "equity" && strings.Contains(before, "valued at") && !containsAny(before, []string{"company", "compan", "shares", "stock", "market", "firm", "business", "startup"}) &&
		!containsAny(lastRunes(lower[:m.Start], 120), []string{"offer for", "merger", "takeover", "acquisition", "all-stock"}) {
		k = "value" // "a first eight-year term valued at some $640 million"
	}
	after := firstBytes(lower[m.End:], 45)
	// "the hosting deal, estimated to generate $3.5 billion in revenue": what
	// the deal brings in over its life, unless a year is said.
	generated := containsAny(before, []string{"generate ", "generating "}) && reDealNoun.MatchString(lower[clauseStart(lower, m.Start):m.Start]) && !strings.Contains(lower[clauseStart(lower, m.Start):m.Start], "annual")
	if k == "annual" && (containsAny(after, []string{"over the", "over its", "over a ", "over lease", "over term", "over an ", "over that", "over this"}) || reOverYears.MatchString(after) || generated) &&
		!containsAny(firstBytes(after, 30), []string{"per year", "a year", "annual", "per annum", "annually"}) {
		k = "value" // "set to bring in $1.3B of revenue over the term"
	}
	// The words that are this amount's: from its clause start, and after it up
	// to the next comma ("a $2.6B hosting deal, with Orbitra buying a stake":
	// the stake is not the deal).
	ownAfter := after
	if i := strings.IndexAny(ownAfter, ",;"); i >= 0 {
		ownAfter = ownAfter[:i]
	}
	if k == "equity" || k == "finance" {
		cs := clauseStart(lower, m.Start)
		ownBefore := lower[max(cs, m.Start-len(before)):m.Start]
		if !containsAny(ownBefore+" | "+ownAfter, []string{"share", "stake", "equity", "warrant", "valuation", "valued", "market", "acqui", "takeover", "buyout", "financ", "loan", "notes", "bond", "debt", "capex", "capital", "invest", "raise", "offering", "credit", "cost", "spend", "convertible", "capitaliz", "capitalis"}) {
			k = "value"
		}
	}
	if k == "value" || k == "total" {
		lx := lex()
		near := before + " | " + ownAfter
		// the amount's own clause, up to 90 bytes back ("with aggregate
		// base-term contract value of approximately $16.8B")
		clause := lower[max(clauseStart(lower, m.Start), m.Start-90):m.Start]
		if anyWord(near, lx.TotalWords) || anyWord(clause, sumCues) && !reThisDeal.MatchString(clause) {
			k = "total"
			// "leased 20 MW to Glasswing for $300 million in total": one
			// lease's whole value, when nothing else makes it a sum
			if hasAnyPrefix(strings.TrimLeft(lower[m.End:], " "), []string{"in total", "in all", "overall"}) &&
				!anyWord(strings.Replace(near, "in total", "", 1), lx.TotalWords) && !anyWord(clause, sumCues) &&
				!reSeveralDeals.MatchString(lower) && !anyWord(lower, []string{"contracts", "leases", "deals", "agreements"}) && singleDealVerb(lower[clauseStart(lower, m.Start):m.Start]) {
				k = "value"
			}
		}
		// "The lease amounts to $3 billion in total contracted revenue": a
		// total of the deal itself, not of the company.
		if k == "total" && reThisDeal.MatchString(lower[clauseStart(lower, m.Start):m.Start]) && !anyWord(near, lx.AccumulationWords) {
			k = "value"
		}
		if !spendOnCapacity && containsAny(near, []string{"recover", "capex", "capital cost", "build cost", "to build", "construction", "equipment", "hardware purchase", "purchase of gpus", "to buy gpus", "to purchase gpus", "will invest", "to invest", "invests", "investing", "investment from", "investment by", "investment into", "investment in ", "funding round", "stake", "opex", "operating expense", "operating cost"}) ||
			anyWord(near, []string{"acre", "acres", "land", "real estate", "property", "fee-simple"}) {
			k = "finance" // "bought 200 acres for $96 million": the site, not a contract
		}
		if hasAnyPrefix(strings.TrimLeft(ownAfter, " "), []string{"company", "firm", "group", "startup", "business"}) {
			k = "equity" // "the $15bn company": what a company is worth
		}
		if containsAny(near, []string{"borrow", "debt", "loans"}) {
			k = "finance"
		}
		if containsAny(near, []string{"valuing", "market value", "market cap", "per share", "share price", "shares closed", "takeover", "acquisition", "buyout", "offered to buy", "outright", "to acquire", "went public", "now worth",
			"net worth", "personal fortune", "wealth", "richest", "vermogen", "vermögen", "rijkste", "reichste", "patrimonio",
			"capitalizzazione", "capitalización", "capitalisation", "capitalização", "marktkapitalisierung", "börsenwert", "市值", "時価総額", "시가총액", "капитализаци"}) {
			k = "equity"
		}
		// "contracts worth $317 billion with three customers": the sum of
		// several customers' deals.
		if reSeveralCustomers.MatchString(firstBytes(lower[m.End:], 90)) || reSeveralCustomers.MatchString(lower[max(clauseStart(lower, m.Start), m.Start-60):m.Start]) {
			k = "total"
		}
		// "part of the $500 billion Stargate programme": the whole a deal
		// belongs to.
		if hasAnySuffix(strings.TrimRight(before, " "), []string{"part of the", "part of a", "part of its", "within the", "under the"}) {
			k = "total"
		}
		// Results, not contracts: "EBITDA came to $212M", "年营收约 4 亿美元",
		// "$2.83 billion in operating income".
		if hasAnyPrefix(strings.TrimLeft(ownAfter, " "), []string{"in operating income", "in profit", "in net income", "of operating income", "in quarterly revenue", "in annual revenue"}) ||
			strings.Contains(ownAfter, "revenue") && containsAny(ownAfter, []string{"quarter", "fiscal", "for the year", "last year"}) {
			k = "annual"
		}
		// "totalling $3.5bn over the term": the whole of one deal.
		// "about $15 billion in total revenue over the contract term": the
		// same, said of its revenue
		if k == "total" && containsAny(ownAfter, []string{"over the term", "over the life", "over the contract", "over the lease", "over its term", "over its life"}) {
			k = "value"
		}
		// "with Galaxy contributing $350 million in equity"
		if hasAnyPrefix(strings.TrimLeft(ownAfter, " "), []string{"in equity", "of equity", "in cash equity", "in debt", "of debt"}) {
			k = "finance"
		}
		// "annual hosting revenue from CoreWeave of about $290m": a year's
		// revenue, however many words sit between.
		if cl := lower[max(clauseStart(lower, m.Start), m.Start-70):m.Start]; reAnnualRevenue.MatchString(cl) && !reOverYears.MatchString(ownAfter) && !containsAny(ownAfter, []string{"over the", "over its"}) {
			k = "annual"
		}
		if containsAny(before, []string{"ebitda", "net income", "earnings", "revenue was", "revenues were", "sales of", "profit", "accounted for", "jaarlijkse", "jährliche", "annuelle", "jaaromzet", "omzet van", "jahresumsatz", "umsatz von", "chiffre d'affaires", "fatturato", "ingresos anuales", "of its revenue", "’s revenue", "'s revenue", "年营收", "年收入", "年營收", "年間売上", "연매출", "연간 매출"}) {
			k = "annual"
		}
		// A running total: "lifts its contracted revenue to $8B", "bringing
		// what Lumen has signed with it to $12.5B".
		own := after // the words after the amount up to the next comma are its own
		if i := strings.IndexAny(own, ",;"); i >= 0 {
			own = own[:i]
		}
		// (but "combined with a prior $14.2 billion arrangement" names a deal)
		namesDeal := hasAnyPrefix(strings.TrimLeft(own, " "), []string{"arrangement", "deal", "contract", "agreement", "lease", "cloud computing agreement", "cloud contract", "computing deal"})
		if cl := lower[clauseStart(lower, m.Start):m.Start]; !namesDeal && (anyWord(cl, lx.AccumulationWords) || anyWord(own, lx.AccumulationWords) || accumulatedTo(lower, m.Start)) {
			k = "cumulative"
		}
	}
	if k == "value" && containsAny(lastRunes(lower[:m.Start], 30)+firstBytes(lower[m.End:], 20), []string{"임대 지원", "보증", "保証", "担保", "擔保", "兜底"}) {
		k = "guarantee"
	}
	return k
}

// reOverYears is a span an amount is earned over ("over 12 years").
var reOverYears = regexp.MustCompile(`\bover (?:the next |a |an )?(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)[- ]years?\b`)

// reAccumulatedTo is a figure reached by growing something: "increasing its
// contracted load to about 360 MW", "raises the total backlog to $9B".
var reAccumulatedTo = regexp.MustCompile(`\b(?:increas|rais|lift|boost|bring|brought|expand|grow|grew|tak(?:e|es|ing)\s+(?:its|the|their))\w*\b[^,;:]*\bto\s+(?:about\s+|approximately\s+|roughly\s+|nearly\s+|some\s+|around\s+|over\s+|more than\s+|almost\s+|an estimated\s+)?[$€£]?$`)

// reTakesTo is "the lease takes Applied Digital to over 1 GW": a company
// taken to a new total (the word before "to" is not "up": "takes up to 200
// MW" is a bound of the deal itself).
var reTakesTo = regexp.MustCompile(`\bt(?:akes|aking|ook)\s+[^,;:]*?[a-z.'’&-]*[a-oq-z.'’&-]\s+to\s+(?:about\s+|approximately\s+|roughly\s+|nearly\s+|some\s+|around\s+|over\s+|more than\s+|almost\s+)?[$€£]?$`)

func accumulatedTo(lower string, start int) bool {
	cl := lower[clauseStart(lower, start):start]
	return reAccumulatedTo.MatchString(cl) || reTakesTo.MatchString(cl)
}

// reByYear is a capacity to be reached by a year: a plan ("5 gigawatts of
// AI factories by 2030").
var reByYear = regexp.MustCompile(`\bby (?:the end of |end-)?20\d\d\b`)

// leaseGrownTo reports a capacity that a named deal grew to ("expanded its
// lease with Lumen to 400 MW"): that deal's size now, unlike a company's or a
// customer's running total ("increasing its contracted load to 360 MW").
func leaseGrownTo(lower string, start int) bool {
	cl := lower[clauseStart(lower, start):start]
	m := reAccumulatedTo.FindStringIndex(cl)
	return m != nil && reDealNoun.MatchString(cl[m[0]:]) && !anyWord(cl[m[0]:], lex().TotalWords)
}

// reAcrossPlaces is a capacity's own words naming several places: "of
// capacity across Chicago and Atlanta" (not "across two new halls and is
// worth …").
var reAcrossPlaces = regexp.MustCompile(`^[^,;.]{0,60}?\bacross\s+(?:[A-Z][\w.-]*\s*)+,?\s+and\s+[A-Z]`)

// sumCues mark a figure as the sum of several contracts ("a combined 270
// MW", "worth a cumulative $3.9 billion across 230 MW").
var sumCues = []string{"aggregate", "in total", "combined", "cumulative", "total contracted"}

var reDealNoun = regexp.MustCompile(`\b(?:lease|agreement|contract|deal)\b`)

// capClass is what a capacity figure is to a contract: "it" (critical IT
// load, best), "plain", "soft" (power, gross, a bound: only when nothing
// better is said) or "reject" (a campus total, a pipeline, a target).
func capClass(lower string, c Capacity) string {
	if c.Energy {
		return "reject"
	}
	lx := lex()
	before := lastRunes(lower[:c.Start], 32)
	after := firstBytes(lower[c.End:], 32)
	// "1MW당 … 비용", "1MWあたり": a unit of a price, not a size
	if hasAnyPrefix(strings.TrimLeft(after, " "), []string{"당", "あたり", "当たり", "当り", "每"}) {
		return "reject"
	}
	// The words up to the next figure or clause end only.
	if i := strings.IndexAny(after, ",;"); i >= 0 {
		after = after[:i]
	}
	// "150 MW at its Ohio campus": where the capacity sits, not what it is.
	for _, w := range []string{" at ", " in ", " of the ", " of its ", " op ", " nel ", " nella ", " auf ", " im ", " am ", " en el ", " en la ", " dans ", " sur ", " no ", " na ", " på ", " ved ", " bei ", " al ", " sul ", " presso "} {
		if i := strings.Index(after, w); i >= 0 {
			after = after[:i]
		}
	}
	// "increasing its contracted load to 415 MW of critical IT load": a
	// running total, IT load or not.
	if accumulatedTo(lower, c.Start) && !leaseGrownTo(lower, c.Start) {
		return "reject"
	}
	if anyWord(after, lx.ITLoad) || anyWord(lastRunes(before, 14), lx.ITLoad) {
		return "it"
	}
	// "the 620 MW campus", "il complesso da 620 megawatt": the size of a site,
	// which a lease takes a part of.
	if ws := strings.Fields(strings.TrimLeft(after, " -")); len(ws) > 0 && anyWord(strings.Join(ws[:min(2, len(ws))], " "), lx.SiteNouns) ||
		anyWord(lastRunes(before, 16), lx.SiteNouns) && strings.Contains(lastRunes(before, 16), " da") {
		return "site"
	}
	// "Helios 园区总估值 (1.63 GW)", "the campus valuation (1.6 GW)": a
	// site's size in a valuation
	if containsAny(lastRunes(lower[:c.Start], 24), []string{"估值", "valuation", "valued at", "园区", "園區"}) {
		return "site"
	}
	// "at full buildout, Helios is projected to reach 3.5 gigawatts": a
	// site's future size
	if containsAny(lower[clauseStart(lower, c.Start):c.Start], []string{"projected to reach", "expected to reach", "set to reach", "at full buildout", "at full build-out", "when fully built"}) {
		return "reject"
	}
	// "announced a partnership with Aurelian covering up to 3 GW": the size
	// of a framework, anywhere before the figure in its clause
	if anyWord(lower[clauseStart(lower, c.Start):c.Start], []string{"partnership", "alliance", "collaboration", "framework"}) && !anyWord(lower[clauseStart(lower, c.Start):c.Start], lx.DealWords) {
		return "reject"
	}
	if anyWord(before, lx.MWReject) || anyWord(after, lx.MWReject) || accumulatedTo(lower, c.Start) && !leaseGrownTo(lower, c.Start) || reByYear.MatchString(cutClause(firstBytes(lower[c.End:], 60))) ||
		hasAnySuffix(strings.TrimRight(before, " "), []string{" has", " holds", " owns", " controls", " has about", " has roughly", " has some"}) {
		return "reject"
	}
	// "two leases covering a combined 270 MW", "total contracted capacity
	// is 597 MW": a sum of several contracts (an aggregate record's size only).
	if clause := lower[max(clauseStart(lower, c.Start), c.Start-90):c.Start]; anyWord(clause, sumCues) && !reThisDeal.MatchString(clause) {
		return "total"
	}
	// "the total capacity across these three lease agreements will
	// encompass 400MW", "100 MW under both contracts"
	if clause := lower[max(clauseStart(lower, c.Start), c.Start-120):c.Start]; strings.Contains(clause, "total") && reSeveralDeals.MatchString(clause) || ofSeveralDeals(lower, c.End) {
		return "total"
	}
	// "56 MW of additional gross capacity", "500 MW of high-performance
	// computing (HPC) power": the words up to the next figure or clause end.
	ownAfter := firstBytes(lower[c.End:], 60)
	if i := strings.IndexAny(ownAfter, ",;"); i >= 0 {
		ownAfter = ownAfter[:i]
	}
	if i := strings.IndexAny(ownAfter, "0123456789"); i >= 0 {
		ownAfter = ownAfter[:i]
	}
	if anyWord(before, lx.MWSoft) || anyWord(ownAfter, lx.MWSoft) || c.Bound == "up_to" {
		return "soft"
	}
	return "plain"
}

// termUsable reports a duration that is the contract's: not a warrant's life,
// a bond's maturity or a span of history, not an extension.
func termUsable(lower string, t Term) bool {
	before := lastRunes(lower[:t.Start], 50)
	after := firstBytes(lower[t.End:], 30)
	if i := strings.IndexAny(after, ",;"); i >= 0 {
		after = after[:i] // "over six years, with renewals …": the options are another clause
	}
	if strings.HasSuffix(lower[:t.End], ",") {
		after = "" // the match took the comma: what follows is the next clause
	}
	// "Base term 10 years plus two 5-year options": the options are added to it.
	for _, w := range []string{" plus ", " with ", " and "} {
		if i := strings.Index(after, w); i >= 0 {
			after = after[:i]
		}
	}
	if hasAnyPrefix(lower[t.End:], []string{"-old", " old", "s old"}) {
		return false // "a 46-year-old executive"
	}
	if containsAny(before+" "+after, []string{"warrant", "shares", "notes", "bond", "convertible", "maturity", "ago", "history", "experience", "loan", "debt", "financing", "payback", "pay back", "amortiz", "depreciat", "useful life"}) {
		return false
	}
	// "most running five years": a term said of several contracts at once.
	if anyWord(lastRunes(before, 20), []string{"many", "most", "some", "several", "typically", "usually"}) ||
		anyWord(lower[clauseStart(lower, t.Start):t.Start], []string{"many of", "most of", "some of", "several of", "all of these", "these contracts", "such contracts"}) {
		return false
	}
	if containsAny(lastRunes(before, 25)+" "+after, []string{"extension", "renewal", "option", "extend"}) {
		return false
	}
	return true
}

var reThisDeal = regexp.MustCompile(`\b(?:this|the|each|the new|this new)\s+(?:[a-z0-9-]+\s+){0,3}?(?:lease|leases|agreement|agreements|contract|contracts|deal|transaction|award|order)\b`)

func clauseStart(lower string, pos int) int {
	a, _ := clauseAt(lower, pos)
	return a
}

// figureClasses holds what each figure of a sentence is, computed once per
// sentence however many deals look at it.
type figureClasses struct {
	money         []string
	moneyHedged   []bool
	caps          []string
	capsHedged    []bool
	termOK        []bool
	termOfSeveral []bool // the term of several contracts: an aggregate's only
}

// singleDealVerb reports a clause that leases or sells one thing ("leased 20
// MW in Kansas to Glasswing for").
func singleDealVerb(clause string) bool {
	return anyWord(clause, []string{"leased", "leases", "will lease", "rented", "sold", "signed a", "agreed a", "for"})
}

// reSeveralCustomers counts customers a figure is spread over, in the
// lexicon's languages ("with three customers", "met drie klanten", "mit vier
// Kunden", "con tres clientes").
var reSeveralCustomers = regexp.MustCompile(`(?i)\b(?:with|met|mit|con|com|avec|med)\s+(?:two|three|four|five|six|several|multiple|various|\d|` + otherNumberWords() + `)\s+(?:[a-z-]+\s+)?(?:customers|clients|tenants|klanten|kunden|clientes|clienti|kunder|clients|huurders|mieter)\b`)

// reSeveralDeals counts contracts: "the initial two approximately 15-year
// leases", "these three long-term lease agreements".
var reSeveralDeals = regexp.MustCompile(`\b(?:two|three|four|five|both|2|3|4|5)\s+(?:[a-z0-9-]+\s+){0,3}?(?:contracts|agreements|leases|deals)\b`)

// ofSeveralDeals reports a figure whose own words say it is of several
// contracts: "$7B in revenue from the initial two 15-year leases".
func ofSeveralDeals(lower string, end int) bool {
	own := cutClause(firstBytes(lower[end:], 80))
	return reSeveralDeals.MatchString(own) && containsAny(own, []string{" from ", " across ", " under ", " of the ", " over the "})
}

// grownDealValue reports the new total of a deal that its sentence says has
// grown: "expanded its lease with Lumen to 400 MW, bringing the total contract
// value to $11 billion" (not a company's backlog or contracted revenue).
func grownDealValue(s *sent, m Money) bool {
	cl := s.lower[clauseStart(s.lower, m.Start):m.Start]
	if !containsAny(cl, []string{"contract value", "lease value", "value of the lease", "value of the contract", "value of the deal", "value of the agreement", "deal's value", "lease's value", "contract's value"}) ||
		containsAny(cl, []string{"backlog", "revenue", "contracted", "portfolio", "across"}) {
		return false
	}
	for _, c := range s.caps {
		if c.End <= m.Start && leaseGrownTo(s.lower, c.Start) {
			return true
		}
	}
	return false
}

// sumOfDeals reports an amount said of several companies' deals at once:
// "$10B in fresh deals with IREN and Lambda" is their sum, no one deal's value.
func sumOfDeals(s *sent, m Money) bool {
	_, end := clauseAt(s.lower, m.Start)
	own := s.lower[m.End:max(end, m.End)]
	i := strings.Index(own, " with ")
	if i < 0 || !anyWord(own[:i], []string{"deals", "contracts", "agreements", "leases", "commitments"}) {
		return false
	}
	with := m.End + i
	n := 0
	for _, p := range s.parties {
		if p.start > with && p.start < max(end, m.End) && p.e != nil {
			n++
		}
	}
	return n >= 2 && strings.Contains(s.lower[with:max(end, m.End)], " and ")
}

func (s *sent) classes() *figureClasses {
	if s.cls != nil {
		return s.cls
	}
	c := &figureClasses{}
	for i, m := range s.money {
		k := moneyClass(s.lower, m)
		// "Nvidia will invest up to $10 billion and Microsoft up to $5
		// billion": an amount coordinated with an investment is one too.
		if i > 0 && k == "value" && (c.money[i-1] == "finance" || c.money[i-1] == "equity") {
			if mid := s.lower[s.money[i-1].End:m.Start]; len(mid) < 40 && strings.Contains(mid, " and ") && !hasDealWord(mid) {
				k = c.money[i-1]
			}
		}
		if k == "value" && (sumOfDeals(s, m) || ofSeveralDeals(s.lower, m.End)) {
			k = "total"
		}
		if k == "cumulative" && grownDealValue(s, m) {
			k = "value"
		}
		c.money = append(c.money, k)
		c.moneyHedged = append(c.moneyHedged, figureHedged(s, m.Start, m.End))
	}
	for _, cp := range s.caps {
		k := capClass(s.lower, cp)
		// "secures $11.6 billion to build a 1.2 gigawatt data center": what
		// financing pays to build, not what a tenant leases
		for i, m := range s.money {
			if c.money[i] == "finance" && m.End <= cp.Start && m.Start >= clauseStart(s.lower, cp.Start) &&
				containsAny(s.lower[m.End:cp.Start], []string{"to build", "to construct", "to develop", "to fund", "to finance"}) {
				k = "reject"
			}
		}
		// "more than 30 MW of capacity across Chicago and Atlanta": a sum over
		// sites, the deal's only when no one site's figure is given
		if k == "plain" || k == "it" {
			// (the original text for its capitals, when lower-casing kept
			// the offsets)
			if len(s.Text) == len(s.lower) && reAcrossPlaces.MatchString(firstBytes(s.Text[cp.End:], 90)) {
				k = "soft"
			}
		}
		c.caps = append(c.caps, k)
		h := figureHedged(s, cp.Start, cp.End)
		// "facilities intended to deliver roughly 200 MW of critical IT load":
		// what the halls are built for, not a deal that may not happen
		if h && k == "it" && containsAny(lastRunes(s.lower[:cp.Start], 45), []string{"intended to deliver", "intended to provide", "intended to support", "designed to deliver", "designed to provide", "designed to support"}) {
			h = false
		}
		c.capsHedged = append(c.capsHedged, h)
	}
	for _, t := range s.terms {
		// "the initial two approximately 15-year leases": the term of earlier
		// contracts, not of a new one
		// ("two leases, both 15 years long" speaks of each, this one too)
		w := s.lower[max(0, t.Start-40):min(len(s.lower), t.End+30)]
		several := reSeveralDeals.MatchString(w) && anyWord(w, append([]string{"initial", "existing", "first"}, priorCues...))
		c.termOK = append(c.termOK, termUsable(s.lower, t) && (t.Until != 0 || !figureHedged(s, t.Start, t.End)))
		c.termOfSeveral = append(c.termOfSeveral, several)
	}
	s.cls = c
	return c
}
