package extractor

import (
	"regexp"
	"strings"
)

// Capacity is a power figure found in text, converted to MW.
type Capacity struct {
	MW         float64
	Start, End int
	Energy     bool   // MWh/GWh: energy, not capacity
	Bound      string // "up_to", "more_than" or ""
	Approx     bool
	Unit       string // as written
}

var reCapacity = regexp.MustCompile(`(?i)(\d[\d,.]*)\s?(?:-\s?)?(megawatt[- ]hours?|gigawatt[- ]hours?|mwh|gwh|megawatts?|mégawatts?|megavatios?|gigawatts?|gigawatios?|mw|gw|兆瓦时|兆瓦|千兆瓦|吉瓦|百万千瓦|万千瓦|ميغاواط|جيجاواط|메가와트|기가와트|メガワット|ギガワット)(?:\b|[^a-z]|$)`)

var capacityScale = map[string]float64{
	"mw": 1, "megawatt": 1, "megawatts": 1, "mégawatt": 1, "mégawatts": 1, "megavatio": 1, "megavatios": 1, "兆瓦": 1,
	"gw": 1000, "gigawatt": 1000, "gigawatts": 1000, "gigawatio": 1000, "gigawatios": 1000, "吉瓦": 1000, "千兆瓦": 1000, "百万千瓦": 1000,
	"万千瓦":     10,
	"ميغاواط": 1, "메가와트": 1, "メガワット": 1, "جيجاواط": 1000, "기가와트": 1000, "ギガワット": 1000,
}

var reRangeLow = regexp.MustCompile(`(\d[\d,.]*)\s?(?:-|–|—|to)\s?$`)

// parseCapacity finds capacities ("200 MW", "245MW", "1.7 gigawatts", "up to 5GW",
// "2,910-megawatt", "60 兆瓦", "1,7 Gigawatt") in a sentence.
func parseCapacity(s string, decimalComma bool) []Capacity {
	var out []Capacity
	lower := strings.ToLower(s)
	// The case-insensitive pattern is slow: run it only where a unit can be.
	if !containsAny(lower, []string{"mw", "gw", "watt", "vatio", "兆瓦", "千兆瓦", "吉瓦", "万千瓦", "千瓩", "메가와트", "기가와트", "メガワット", "ギガワット", "ميغاواط", "جيجاواط"}) {
		return nil
	}
	for _, m := range reCapacity.FindAllStringSubmatchIndex(s, -1) {
		unit := strings.ToLower(s[m[4]:m[5]])
		// "MW" in upper case is the unit; lower-case "mw" inside words is not.
		if m[4] > 0 && isWordByte(s[m[4]-1]) && !isDigit(s[m[4]-1]) {
			continue
		}
		v, ok := parseNumber(s[m[2]:m[3]], decimalComma)
		if !ok {
			continue
		}
		c := Capacity{Start: m[2], End: m[5], Unit: s[m[4]:m[5]]}
		switch {
		case strings.Contains(unit, "hour") || strings.HasSuffix(unit, "wh") || unit == "兆瓦时":
			c.Energy = true
			c.MW = v
			if strings.HasPrefix(unit, "g") {
				c.MW = v * 1000
			}
		default:
			c.MW = v * capacityScale[unit]
		}
		// "4.5-5 gigawatts", "4.5 to 5 GW": a range is recorded by its low end.
		if lm := reRangeLow.FindStringSubmatchIndex(s[:m[2]]); lm != nil && !c.Energy {
			if lo, ok := parseNumber(s[lm[2]:lm[3]], decimalComma); ok && lo*capacityScale[unit] < c.MW {
				c.MW = lo * capacityScale[unit]
				c.Start = lm[2]
			}
		}
		c.Approx, c.Bound = moneyQualifiers(s[:c.Start])
		if c.MW <= 0 {
			continue // "0MW": no capacity (a record's MW is positive)
		}
		out = append(out, c)
	}
	if len(out) == 0 && strings.Contains(lower, "watts") {
		out = parseSpelledCapacity(s)
	}
	return out
}

var reCapacityWords = regexp.MustCompile(`(?i)\b(one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|twenty-five|thirty|forty|fifty|sixty|seventy|eighty|ninety|one hundred|two hundred|three hundred)\s+(megawatts|gigawatts)\b`)

var spelledHundreds = map[string]float64{"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "one hundred": 100, "two hundred": 200, "three hundred": 300}

// parseSpelledCapacity reads "Twenty-five megawatts" when no figure in digits
// follows it in parentheses.
func parseSpelledCapacity(s string) []Capacity {
	var out []Capacity
	for _, m := range reCapacityWords.FindAllStringSubmatchIndex(s, -1) {
		w := strings.ToLower(s[m[2]:m[3]])
		v, ok := numberWords[w]
		if !ok {
			v, ok = spelledHundreds[w]
		}
		if !ok {
			continue
		}
		mw := v
		if strings.HasPrefix(strings.ToLower(s[m[4]:m[5]]), "giga") {
			mw *= 1000
		}
		if mw <= 0 {
			continue
		}
		out = append(out, Capacity{MW: mw, Start: m[0], End: m[1], Unit: s[m[4]:m[5]]})
	}
	return out
}
