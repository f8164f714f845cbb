package extractor

import (
	"regexp"
	"strconv"
	"strings"
)

// Term is a contract duration found in text.
type Term struct {
	Years      float64
	Start, End int
	Until      int // "through 2040": the end year, Years unknown until a start year is known
}

var (
	reTermYear  = regexp.MustCompile(`(?i)\b(\d{1,2}(?:\.\d)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|twenty-five|thirty)(?:-(?:year|yr)\b| (?:year|yr)s? (?:term|lease|contract|agreement|deal|tenor)\b|(?:-| )years?,)`)
	reTermYears = regexp.MustCompile(`(?i)\b(?:term of|terms of|period of|duration of|for|over|spanning|spans|span|lasting|lasts|runs|runs for|run for|run|running|running for|to last|will last)\s+(?:an?\s+(?:initial\s+)?)?(?:the\s+)?(?:next\s+|following\s+|coming\s+|initial\s+)?(?:roughly\s+|about\s+|approximately\s+|around\s+|some\s+|nearly\s+|almost\s+)?(\d{1,2}(?:\.\d)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|twenty-five|thirty)\s+years?\b`)
	reTermEU    = regexp.MustCompile(`(?i)\b(\d{1,2}|` + otherNumberWords() + `)[- ]?(?:jahres(?:vertrag|verträge|deal|vereinbarung|mietvertrag|auftrag|kontrakt|laufzeit)?|jährige[nmrs]?|jahre|jahren|ans|années|anni|annuale|años)\b`)
	reTermCJK   = regexp.MustCompile(`(?:(?:为期|為期|期限|租期|年限|契約期間|合同期|合約期|期間|계약기간|계약 기간)\s*(?:は|が|：|:|为|為|約|约)?)?\s*(\d{1,2}|三|四|五|六|七|八|九|十|十二|十五|二十)\s*年(?:期|的|内|內|长约|長約|合约|合約|合同|租约|租約)?`)
	reTermBare  = regexp.MustCompile(`\b(\d{1,2}) (?:years?|yrs?)\b`)
	// Other languages: "over vijf jaar", "femårig", "10 år", "cinco anos", "15 лет",
	// "5年間", "5년".
	reTermIntl    = regexp.MustCompile(`(?i)(?:^|[^\p{L}\d])(\d{1,2}|` + otherNumberWords() + `)[- ]?(jaar|jarige?|år|årige?|anos|лет|года|năm|عامًا|عاماً|عاما|سنوات|سنة)(?:[^\p{L}]|$)`)
	reTermAsian   = regexp.MustCompile(`(\d{1,2})\s*(?:年間|년간|년\s?계약|년\s?동안|년\s?기간|년짜리|年契約|年の)`)
	reYearSpan    = regexp.MustCompile(`\b(20\d\d)\s?[-–—]\s?(20\d\d)\b`)
	reTermThrough = regexp.MustCompile(`(?i)\b(?:through|until|till|to|ending in|expiring in|bis|jusqu'en|fino al|hasta)\s+(20\d\d)\b`)
)

func termNumber(s string) (float64, bool) {
	if v, ok := numberWords[strings.ToLower(s)]; ok {
		return v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// parseTerms finds durations: "five-year", "15-year term", "10 years", "term of
// 15 years", "为期 10 年", "15 Jahre", "through 2040".
func parseTerms(s string) []Term {
	var out []Term
	add := func(t Term) {
		if t.Until == 0 && (t.Years <= 0 || t.Years > 50) {
			return
		}
		for _, o := range out {
			if t.Start < o.End && o.Start < t.End {
				return
			}
		}
		out = append(out, t)
	}
	lower := strings.ToLower(s)
	// Literal prefilters: the case-insensitive patterns run at a few MB/s, so they
	// run only on sentences that can match.
	var res []*regexp.Regexp
	if strings.Contains(lower, "year") || strings.Contains(lower, "yr") {
		res = append(res, reTermYear, reTermYears)
	}
	if containsAny(lower, []string{"jahr", "jähr", " ans", "année", " anni", "anno", "años"}) {
		res = append(res, reTermEU)
	}
	if containsAny(lower, []string{"jaar", "jarig", "år", "anos", "лет", "года", "năm", "عام", "سنة", "سنوات"}) {
		res = append(res, reTermIntl)
	}
	if strings.Contains(s, "年") || strings.Contains(s, "년") {
		res = append(res, reTermAsian)
	}
	for _, re := range res {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			// "over the next seven years" is a deal's term only in a sentence
			// that names a deal; elsewhere it is a plan's horizon.
			if re == reTermYears && strings.Contains(strings.ToLower(s[m[0]:m[1]]), "next") && !hasDealWord(lower) && !anyWord(lower, []string{"will supply", "to supply", "will provide", "to provide", "will deliver", "to deliver", "will rent", "to rent"}) {
				continue
			}
			if v, ok := termNumber(s[m[2]:m[3]]); ok {
				add(Term{Years: v, Start: m[0], End: m[1]})
			}
		}
	}
	if strings.Contains(s, "年") {
		for _, m := range reTermCJK.FindAllStringSubmatchIndex(s, -1) {
			// "2026年" is a year, not a term: require at most two digits not preceded by a digit.
			if m[2] > 0 && isDigit(s[m[2]-1]) {
				continue
			}
			if v, ok := termNumber(s[m[2]:m[3]]); ok {
				// A bare "5年" after a month/day is a date; require 为期/期限 or 年期.
				seg := s[m[0]:m[1]]
				if !strings.ContainsAny(seg, "为為期限租") && !hasAnySuffix(seg, []string{"年期", "年内", "年內", "长约", "長約", "合约", "合約", "合同", "租约", "租約"}) {
					continue
				}
				add(Term{Years: v, Start: m[0], End: m[1]})
			}
		}
	}
	// "25MW, 10 years, $311 million", "both 15 years long": a bare "N years" that is
	// not an age, a countdown or a span of history.
	for _, m := range matchesIf(strings.Contains(lower, "year") || strings.Contains(lower, "yr"), reTermBare, s) {
		before := strings.ToLower(lastRunes(s[:m[0]], 12))
		after := strings.ToLower(firstBytes(s[m[1]:], 10))
		if hasAnyPrefix(strings.TrimLeft(after, " "), []string{"ago", "old", "later", "earlier", "before", "after", "of", "to", "from", "and", "or"}) ||
			containsAny(before, []string{"next", "past", "last", "within", "in ", "first", "every", "after", "before", "than"}) {
			continue
		}
		if v, ok := termNumber(s[m[2]:m[3]]); ok {
			add(Term{Years: v, Start: m[0], End: m[1]})
		}
	}
	if !strings.Contains(s, "20") {
		sortMentions(out, func(t Term) int { return t.Start })
		return out
	}
	for _, m := range reTermThrough.FindAllStringSubmatchIndex(s, -1) {
		add(Term{Until: atoi(s[m[2]:m[3]]), Start: m[0], End: m[1]})
	}
	// "over the lease term (2026–2036)", "Laufzeit 2026-2036": a span of years
	// said of a contract is its term.
	if containsAny(lower, []string{"term", "lease", "contract", "agreement", "laufzeit", "vertrag", "contrat", "contrato", "contratto", "durée", "duración", "durata"}) {
		for _, m := range reYearSpan.FindAllStringSubmatchIndex(s, -1) {
			if y := atoi(s[m[4]:m[5]]) - atoi(s[m[2]:m[3]]); y >= 1 && y <= 40 {
				add(Term{Years: float64(y), Start: m[0], End: m[1]})
			}
		}
	}
	sortMentions(out, func(t Term) int { return t.Start })
	return out
}

// UnitPrice is a stated price per MW per year, in dollars.
type UnitPrice struct {
	USD        float64
	Start, End int
}

var reUnitPrice = regexp.MustCompile(`(?i)(?:US)?\$\s?(\d[\d,.]*)\s*(million|mn|m|k|thousand)?\s*(?:/|per|a|each)\s*(?:MW|megawatt)\s*(?:/|per|a|each)\s*(?:year|yr|annum)`)
var reUnitPriceCJK = regexp.MustCompile(`(\d[\d,.]*)\s*(万|萬|百万|百萬|亿|億)?\s*美元\s*/\s*(?:MW|兆瓦)\s*/\s*年|每兆瓦每年\s*(?:约|約)?\s*(\d[\d,.]*)\s*(万|萬|百万|百萬|亿|億)?\s*美元`)

// parseUnitPrices finds "$1.78 million/MW/year", "$1.905 million per MW per year".
func parseUnitPrices(s string) []UnitPrice {
	var out []UnitPrice
	lower := strings.ToLower(s)
	for _, m := range matchesIf(strings.Contains(s, "$") && (strings.Contains(lower, "mw") || strings.Contains(lower, "megawatt")), reUnitPrice, s) {
		v, ok := parseNumber(s[m[2]:m[3]], false)
		if !ok {
			continue
		}
		if m[4] >= 0 {
			v *= scaleWords[strings.ToLower(s[m[4]:m[5]])]
		}
		out = append(out, UnitPrice{USD: v, Start: m[0], End: m[1]})
	}
	for _, m := range matchesIf(strings.Contains(s, "美元"), reUnitPriceCJK, s) {
		num, sc := 2, 4
		if m[2] < 0 {
			num, sc = 6, 8
		}
		v, ok := parseNumber(s[m[num]:m[num+1]], false)
		if !ok {
			continue
		}
		if m[sc] >= 0 {
			v *= scaleWords[s[m[sc]:m[sc+1]]]
		}
		out = append(out, UnitPrice{USD: v, Start: m[0], End: m[1]})
	}
	return out
}
