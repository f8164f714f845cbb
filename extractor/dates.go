package extractor

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var months = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
	// German, French, Italian, Spanish
	"januar": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
	"janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
	"gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7, "agosto": 8, "settembre": 9, "ottobre": 10, "dicembre": 12,
	"enero": 1, "febrero": 2, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "septiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}

var (
	reISODate    = regexp.MustCompile(`\b(20\d\d)[-/.](\d{1,2})[-/.](\d{1,2})\b`)
	reCJKDate    = regexp.MustCompile(`(20\d\d)\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?`)
	reMonthDate  = regexp.MustCompile(`(?i)\b(?:(\d{1,2})\.?\s+)?(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|avril|juin|juillet|août|septembre|octobre|novembre|décembre|gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|enero|febrero|abril|mayo|junio|julio|septiembre|octubre|noviembre|diciembre)\.?(?:\s+(\d{1,2})(?:st|nd|rd|th)?,?)?(?:(?:\s+|-)(?:de(?:l)?\s+)?(20\d\d))\b`)
	reSeasonDate = regexp.MustCompile(`(?i)\b(early|mid|late|end of|end-)[ -]?(20\d\d)\b`)
)

// DateMention is a date found in text. Value is YYYY-MM-DD or YYYY-MM.
type DateMention struct {
	Value      string
	Start, End int
	Fuzzy      bool // "late 2025": the month is a guess
}

// parseDates finds dates in text: "May 7, 2026", "7 May 2026", "November 2025",
// "late 2025", "2026/05/23", "2026年5月7日".
func parseDates(s string) []DateMention {
	if !strings.Contains(s, "20") { // every pattern needs a year 20xx
		return nil
	}
	var out []DateMention
	for _, m := range reISODate.FindAllStringSubmatchIndex(s, -1) {
		y, mo, d := atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]), atoi(s[m[6]:m[7]])
		if v, ok := ymd(y, mo, d); ok {
			out = append(out, DateMention{Value: v, Start: m[0], End: m[1]})
		}
	}
	for _, m := range reCJKDate.FindAllStringSubmatchIndex(s, -1) {
		y, mo := atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]])
		d := 0
		if m[6] >= 0 {
			d = atoi(s[m[6]:m[7]])
		}
		if v, ok := ymd(y, mo, d); ok {
			out = append(out, DateMention{Value: v, Start: m[0], End: m[1]})
		}
	}
	for _, m := range monthMatches(s) {
		mo := months[strings.ToLower(s[m[4]:m[5]])]
		y := atoi(s[m[8]:m[9]])
		d := 0
		if m[2] >= 0 {
			d = atoi(s[m[2]:m[3]])
		} else if m[6] >= 0 {
			d = atoi(s[m[6]:m[7]])
		}
		// "May" alone is ambiguous with the verb: require a day or a capital M.
		if strings.EqualFold(s[m[4]:m[5]], "may") && s[m[4]] == 'm' {
			continue
		}
		if v, ok := ymd(y, mo, d); ok && !overlaps(out, m[0], m[1]) {
			out = append(out, DateMention{Value: v, Start: m[0], End: m[1]})
		}
	}
	for _, m := range reSeasonDate.FindAllStringSubmatchIndex(s, -1) {
		if overlaps(out, m[0], m[1]) {
			continue
		}
		y := atoi(s[m[4]:m[5]])
		mo := 6
		switch w := strings.ToLower(s[m[2]:m[3]]); {
		case w == "early":
			mo = 2
		case w == "late" || strings.HasPrefix(w, "end"):
			mo = 11
		}
		if v, ok := ymd(y, mo, 0); ok {
			out = append(out, DateMention{Value: v, Start: m[0], End: m[1], Fuzzy: true})
		}
	}
	return out
}

func overlaps(ds []DateMention, a, b int) bool {
	for _, d := range ds {
		if a < d.End && d.Start < b {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func ymd(y, m, d int) (string, bool) {
	if y < 1990 || y > 2100 || m < 1 || m > 12 || d < 0 || d > 31 {
		return "", false
	}
	if d == 0 {
		return fmt.Sprintf("%04d-%02d", y, m), true
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// normalizeDate turns a metadata date (RFC 3339, "2026-05-23 23:10:29", "May 7,
// 2026") into YYYY-MM-DD.
func normalizeDate(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02")
		}
	}
	if ds := parseDates(s); len(ds) > 0 {
		return ds[0].Value
	}
	return ""
}

// dateInBlocks finds a publication date in the first blocks (bylines, datelines).
func dateInBlocks(blocks []Block) string {
	for i, b := range blocks {
		if i > 6 {
			break
		}
		if ds := parseDates(b.Text); len(ds) > 0 && !ds[0].Fuzzy && len(ds[0].Value) == 10 {
			return ds[0].Value
		}
	}
	return ""
}

// monthStems are prefixes shared by the month names of the five languages.
var monthStems = []string{"jan", "feb", "fév", "mar", "mär", "apr", "avr", "abr", "may", "mai", "mag", "jun", "juin", "giu", "jul", "juil",
	"lug", "aug", "aoû", "ago", "sep", "set", "oct", "okt", "ott", "nov", "dec", "dez", "déc", "dic", "gen", "ene"}

// monthMatches runs the month-name pattern only where a month name can be.
func monthMatches(s string) [][]int {
	l := strings.ToLower(s)
	for _, name := range monthStems {
		if strings.Contains(l, name) {
			return reMonthDate.FindAllStringSubmatchIndex(s, -1)
		}
	}
	return nil
}
