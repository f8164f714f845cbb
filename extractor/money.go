package extractor

import (
	"math"
	"regexp"
	"strings"
)

// Money is an amount found in text.
type Money struct {
	Value      float64 // in units of Currency; the low end of a range
	High       float64 // the high end of a range, else equal to Value
	Currency   string  // "USD", "EUR", "GBP", "CNY", "AUD", "CAD", "HKD", "JPY"
	Start, End int     // byte offsets in the sentence
	Approx     bool    // "approximately", "about", "约"
	Bound      string  // "up_to", "more_than" or ""
}

// IsRange reports "$8–11 million".
func (m Money) IsRange() bool { return m.High != m.Value }

var (
	reMoneyPrefix = regexp.MustCompile(`(?i)(US\$|USD\s?|A\$|AU\$|C\$|CA\$|HK\$|S\$|R\$|\$|€|EUR\s?|£|GBP\s?|¥|RMB\s?|CNY\s?)\s?(\d[\d,.]*)(?:\s?(?:[-–—]|to)\s?(?:US\$|\$|€)?(\d[\d,.]*))?\s*(trillion|billion|million|thousand|bn|mln|mn|milliarder|milliards?|milliarden?|millioner|millionen|miljarder|miljoner|mrd\.?|mio\.?|mia\.?|millions?|millones|milioni|miliardi|miliardo|bilhões|bilhão|bilhoes|milhões|milhão|miljard|miljoen|млрд\.?|млн\.?|tỷ|triệu|m|b|k|tn)?(?:\s+(?:de|di)?\s*(?:dollars|dólares|dollari|US-Dollar|Dollar|euros?))?`)
	reMoneySuffix = regexp.MustCompile(`(?i)(\d[\d,.]*)(?:\s?(?:[-–—]|to)\s?(\d[\d,.]*))?\s*(trillion|billion|million|bn|mln|mn|milliarder|millioner|millionen|miljarder|miljoner|milliards?|milliarden?|mrd\.?|mio\.?|mia\.?|millions?|mil millones|mil milhões|millones|milioni|miliardi|miliardo|mille|bilhões|bilhão|bilhoes|milhões|milhão|miljard|miljoen|млрд\.?|млн\.?|tỷ|triệu|مليارات|مليار|ملايين|مليون)?\s+(?:de\s+|di\s+|d')?(US-Dollar|U\.S\. dollars|dollars américains|dollars|dollar|dólares estadounidenses|dólares|dollari statunitensi|dollari|USD|euros?|Euro|EUR|pounds|yuan|долларов|доллара|đô la|usd|دولار)(?:[^\p{L}]|$)`)
	reMoneyCJK    = regexp.MustCompile(`(\d[\d,.]*)\s*(万亿|萬億|亿|億|千万|千萬|百万|百萬|万|萬|兆|억|조|만)?\s*(美元|美金|米ドル|ドル|달러|欧元|歐元|英镑|英鎊|人民币|人民幣|元)`)
)

var scaleWords = map[string]float64{
	"trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9, "million": 1e6, "mln": 1e6, "mn": 1e6, "m": 1e6,
	"thousand": 1e3, "k": 1e3, "mille": 1e3,
	"milliard": 1e9, "milliards": 1e9, "milliarde": 1e9, "milliarden": 1e9, "mrd": 1e9, "mrd.": 1e9,
	"miliardo": 1e9, "miliardi": 1e9, "mil millones": 1e9,
	"mio": 1e6, "mio.": 1e6, "milliarder": 1e9, "millioner": 1e6, "millionen": 1e6, "miljarder": 1e9, "miljoner": 1e6, "mia": 1e9, "mia.": 1e9, "bilhões": 1e9, "bilhão": 1e9, "milhões": 1e6, "milhão": 1e6, "bilhoes": 1e9, "mil milhões": 1e9, "miljard": 1e9, "miljoen": 1e6,
	"млрд": 1e9, "млрд.": 1e9, "млн": 1e6, "млн.": 1e6, "مليار": 1e9, "مليارات": 1e9, "مليون": 1e6, "ملايين": 1e6, "tỷ": 1e9, "triệu": 1e6, "兆": 1e12, "억": 1e8, "조": 1e12, "만": 1e4, "millions": 1e6, "millones": 1e6, "milioni": 1e6,
	"万亿": 1e12, "萬億": 1e12, "亿": 1e8, "億": 1e8, "千万": 1e7, "千萬": 1e7, "百万": 1e6, "百萬": 1e6, "万": 1e4, "萬": 1e4,
}

// europeanScale reports scale words that imply a decimal comma ("1,5 Milliarden").
func europeanScale(w string) bool {
	switch strings.ToLower(w) {
	case "milliard", "milliards", "milliarde", "milliarden", "milliarder", "millioner", "millionen", "miljarder", "miljoner", "milhões", "milhão", "mia", "mia.", "bilhões", "bilhão", "miljard", "miljoen", "млрд", "млрд.", "млн", "млн.", "mrd", "mrd.", "mio", "mio.", "millones", "mil millones", "milioni", "miliardi", "miliardo":
		return true
	}
	return false
}

func currencyOf(sym string) string {
	s := strings.ToUpper(strings.TrimSpace(sym))
	switch {
	case s == "$" || s == "US$" || s == "USD" || strings.Contains(s, "DOLLAR") || strings.Contains(s, "DÓLARES") || strings.Contains(s, "DOLLARI") || s == "美元" || s == "美金":
		return "USD"
	case s == "€" || s == "EUR" || strings.HasPrefix(s, "EURO") || s == "欧元" || s == "歐元":
		return "EUR"
	case s == "£" || s == "GBP" || s == "POUNDS" || s == "英镑":
		return "GBP"
	case s == "A$" || s == "AU$":
		return "AUD"
	case s == "C$" || s == "CA$":
		return "CAD"
	case s == "HK$":
		return "HKD"
	case s == "S$":
		return "SGD"
	case s == "R$":
		return "BRL"
	case s == "¥" || s == "RMB" || s == "CNY" || s == "人民币" || s == "人民幣" || s == "元" || s == "YUAN":
		return "CNY"
	}
	return "USD"
}

// parseMoney finds amounts of money in a sentence. decimalComma says whether the
// text writes "1,5" for one and a half (German, French, Italian, Spanish).
func parseMoney(s string, decimalComma bool) []Money {
	if !strings.ContainsAny(s, "$€£¥0123456789") {
		return nil
	}
	var out []Money
	add := func(m Money) {
		for _, o := range out {
			if m.Start < o.End && o.Start < m.End {
				return
			}
		}
		m.Approx, m.Bound = moneyQualifiers(s[:m.Start])
		// 19.4 × 1e8 is 1939999999.9999998 in floating point: amounts are in cents.
		m.Value, m.High = math.Round(m.Value*100)/100, math.Round(m.High*100)/100
		if m.Value <= 0 {
			return // "$0": no amount
		}
		out = append(out, m)
	}
	lower := strings.ToLower(s)
	prefix := strings.ContainsAny(s, "$€£¥") || containsAny(lower, []string{"usd", "eur", "gbp", "rmb", "cny"})
	suffix := containsAny(lower, []string{"dollar", "dólar", "euro", "usd", "eur", "pound", "yuan", "доллар", "đô la", "دولار"})
	for _, m := range matchesIf(prefix, reMoneyPrefix, s) {
		sym := s[m[2]:m[3]]
		scale := ""
		if m[8] >= 0 {
			scale = s[m[8]:m[9]]
		}
		// A bare "m"/"b"/"k" must end the word: "$9.7B" yes, "$9.7 bought" no.
		if len(scale) == 1 && m[9] < len(s) && isWordByte(s[m[9]]) {
			scale = ""
		}
		dc := decimalComma || europeanScale(scale)
		lo, ok := parseNumber(s[m[4]:m[5]], dc)
		if !ok {
			continue
		}
		hi := lo
		if m[6] >= 0 {
			if v, ok := parseNumber(s[m[6]:m[7]], dc); ok && v >= lo {
				hi = v
			}
		}
		mult := 1.0
		if scale != "" {
			mult = scaleWords[strings.ToLower(scale)]
		}
		end := m[1]
		if scale == "" && m[8] >= 0 {
			end = m[9] - len(s[m[8]:m[9]])
		}
		add(Money{Value: lo * mult, High: hi * mult, Currency: currencyOf(sym), Start: m[0], End: end})
	}
	for _, m := range matchesIf(suffix, reMoneySuffix, s) {
		scale := ""
		if m[6] >= 0 {
			scale = s[m[6]:m[7]]
		}
		dc := decimalComma || europeanScale(scale)
		lo, ok := parseNumber(s[m[2]:m[3]], dc)
		if !ok {
			continue
		}
		hi := lo
		if m[4] >= 0 {
			if v, ok := parseNumber(s[m[4]:m[5]], dc); ok && v >= lo {
				hi = v
			}
		}
		mult := 1.0
		if scale != "" {
			mult = scaleWords[strings.ToLower(scale)]
		}
		add(Money{Value: lo * mult, High: hi * mult, Currency: currencyOf(s[m[8]:m[9]]), Start: m[0], End: m[1]})
	}
	for _, m := range matchesIf(strings.ContainsAny(s, "元美金ドル달러"), reMoneyCJK, s) {
		v, ok := parseNumber(s[m[2]:m[3]], false)
		if !ok {
			continue
		}
		mult := 1.0
		if m[4] >= 0 {
			mult = scaleWords[s[m[4]:m[5]]]
		}
		add(Money{Value: v * mult, High: v * mult, Currency: currencyOf(s[m[6]:m[7]]), Start: m[0], End: m[1]})
	}
	sortMentions(out, func(m Money) int { return m.Start })
	return out
}

// reBareAmount is an amount at the scale of a contract with no currency
// ("un avenant de 4 milliards", "otro en mayo por 4.000 millones", "a $6.5B
// deal after earlier ones of 11.9 billion"): the page's currency is meant.
var reBareAmount = regexp.MustCompile(`(?i)(\d[\d,.]*)\s*(billion|milliards?|milliarden?|mrd\.?|miliardi|miliardo|mil millones|bilhões|miljard|млрд\.?|millones|milioni)(?:[^\p{L}]|$)`)

// bareAmounts finds amounts written without a currency, in the currency
// given, beside the amounts already found.
func bareAmounts(s string, decimalComma bool, currency string, found []Money) []Money {
	var out []Money
	for _, m := range matchesIf(strings.ContainsAny(s, "0123456789"), reBareAmount, s) {
		overlaps := false
		for _, o := range found {
			if m[0] < o.End && o.Start < m[3]+1 {
				overlaps = true
			}
		}
		if overlaps {
			continue
		}
		scale := s[m[4]:m[5]]
		v, ok := parseNumber(s[m[2]:m[3]], decimalComma || europeanScale(scale))
		if !ok {
			continue
		}
		v = math.Round(v*scaleWords[strings.ToLower(scale)]*100) / 100
		if v < 1e9 {
			continue // "200 millones de usuarios": only contract-sized amounts
		}
		mm := Money{Value: v, High: v, Currency: currency, Start: m[0], End: m[5]}
		mm.Approx, mm.Bound = moneyQualifiers(s[:m[0]])
		out = append(out, mm)
	}
	return out
}

// moneyQualifiers reads the words just before an amount.
func moneyQualifiers(before string) (approx bool, bound string) {
	tail := strings.ToLower(lastRunes(before, 28))
	for _, w := range []string{"approximately", "approx.", "about", "around", "roughly", "nearly", "almost", "some ", "circa", "约", "約", "近", "etwa", "rund", "environ", "circa", "aproximadamente", "cerca de", "alrededor de"} {
		if strings.Contains(tail, w) {
			approx = true
		}
	}
	for _, w := range []string{"up to", "as much as", "bis zu", "jusqu'à", "fino a", "hasta", "最高", "至多", "could reach", "may reach", "может достичь", "pode chegar", "puede alcanzar", "pourrait atteindre", "potrebbe raggiungere"} {
		if strings.Contains(tail, w) {
			bound = "up_to"
		}
	}
	for _, w := range []string{"more than", "over ", "exceeding", "in excess of", "at least", "超过", "超過", "逾", "mehr als", "plus de", "oltre", "más de"} {
		if strings.Contains(tail, w) {
			bound = "more_than"
		}
	}
	return approx, bound
}

func isWordByte(c byte) bool {
	return c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// lastRunes returns at most n bytes from the end of s, cut on a rune boundary.
func lastRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

func sortMentions[T any](xs []T, start func(T) int) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && start(xs[j]) < start(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func matchesIf(ok bool, re *regexp.Regexp, s string) [][]int {
	if !ok {
		return nil
	}
	return re.FindAllStringSubmatchIndex(s, -1)
}
