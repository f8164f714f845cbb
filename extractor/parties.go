package extractor

import (
	"regexp"
	"strings"
	"unicode"
)

// partyRole is what a customer mention is in its sentence.
type partyRole int

const (
	roleCounterparty partyRole = iota
	roleGuarantor
	roleEndUser
)

var (
	guarantorBefore = []string{"backed by", "behind them is", "behind it is", "behind the lease is", "behind the leases is", "guaranteed by", "backstopped by", "backstop from", "guarantee from", "guarantees from",
		"credit support from", "supported by", "support from", "由", "garantiert von", "garanti par", "garantito da", "garantizado por", "respaldado por", "unterstützt von"}
	guarantorAfter = []string{"-backed", " backed", " backstop", " will backstop", " has agreed to backstop", " agreed to backstop", " guarantee",
		" will guarantee", " is guaranteeing", " provides a backstop", " providing a backstop", " provided a backstop", "'s backstop", "’s backstop",
		"'s guarantee", "’s guarantee", " as guarantor", " as the guarantor", " standing behind", " stands behind", " as backstop", " as the backstop", "提供兜底", "兜底", "担保", "擔保", "提供担保", "提供擔保", "背书", "背書", "支持"}
	endUserNear = []string{"end user", "end-user", "end customer", "ultimate user", " as the user", " as user", "used by", " will use", " to use the", "使用方", "使用者", "终端用户", "終端用戶", "最终用户", "最終用戶", "endnutzer", "utilisateur final", "utente finale", "usuario final"}
)

var reGuaranteedThing = regexp.MustCompile(`\sguaranteed\s+(access|capacity|supply|availability|priority|returns?|revenues?|minimum|pricing|compute|power|uptime)\b`)

// roleOf decides whether a customer mention backs the deal, uses the capacity, or
// is the customer itself, from the words around it.
func roleOf(lower string, m Mention) partyRole {
	before := lower[:m.Start]
	// "gives Lumen guaranteed access to compute": what the company gets, not
	// a guarantee it gives.
	after := reGuaranteedThing.ReplaceAllString(firstBytes(lower[m.End:], 200), " secured $1")
	tb := strings.TrimRight(lastRunes(before, 24), " ")
	// "agreed to backstop Fluidstack's lease payments": the object of the
	// backing is the one backed, not the guarantor
	if hasAnySuffix(tb, []string{" backstop", " backstops", " guarantee", " guarantees", " back", " backs", " support", " supports", " backstopping", " guaranteeing"}) {
		return roleCounterparty
	}
	for _, w := range guarantorBefore {
		if strings.HasSuffix(tb, w) || strings.HasSuffix(tb, w+" the") {
			return roleGuarantor
		}
	}
	for _, w := range guarantorAfter {
		if strings.HasPrefix(after, w) {
			return roleGuarantor
		}
	}
	// "backed by $1.3 billion from Google"
	if strings.HasSuffix(tb, "from") && containsAny(clauseBefore(lastRunes(before, 60)), []string{"backed by", "backstop", "guarantee", "credit support"}) {
		return roleGuarantor
	}

	// "used by Lumen", "Lumen will use the capacity": but "to use the Orbitra
	// capacity" makes Orbitra a possessor, not a user.
	bw := strings.TrimRight(clauseBefore(lastRunes(before, 30)), " ")
	for _, w := range []string{" to use the", " will use", " to use"} {
		bw = strings.TrimSuffix(bw, w)
	}
	aw := cutClause(firstBytes(after, 30))
	for _, v := range []string{" says ", " said ", " expects ", " notes ", " noted "} {
		if i := strings.Index(aw, v); i >= 0 {
			aw = aw[:i] // "Redwater says the campus will use …": the campus uses, not Redwater
		}
	}
	window := bw + " |" + aw
	if containsAny(window, endUserNear) || strings.HasPrefix(after, " as end user") {
		return roleEndUser
	}
	if strings.HasSuffix(strings.TrimSpace(before), "for") && containsAny(lower, endUserNear) {
		return roleEndUser
	}
	// "Google has agreed to provide a financial backstop covering …": the rest of
	// the name's clause speaks of backing the lease.
	clause := firstBytes(after, 70)
	// "Google, which has agreed to backstop …": a relative clause describes the name.
	for _, rel := range []string{", which ", ", who ", ", that "} {
		clause = strings.TrimPrefix(clause, rel)
	}
	clause = cutClause(clause)
	if containsAny(clause, []string{"backstop", "guarantee", "guarantor", "credit support", "担保", "擔保", "garantie", "garantiza", "garantisce", "bürgt"}) {
		return roleGuarantor
	}
	return roleCounterparty
}

func firstBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n < len(s) && !utf8RuneStart(s[n]) {
		n++
	}
	return s[:n]
}

// Undisclosed counterparties: "an investment-grade hyperscaler", "a certain
// investment-grade ultra-large cloud manufacturer B", "an unnamed U.S. tenant".
var reDescriptor = regexp.MustCompile(`(?i)\b(?:an?|one|another|a certain|an unnamed|an undisclosed)\s+((?:[a-z0-9.\-]+,?\s+){0,5}?(?:hyperscalers?|hyperscale (?:customer|client|tenant|cloud provider)|neocloud(?: provider| company| operator)?|cloud (?:provider|manufacturer|company|customer)|(?:ai|technology|tech) (?:company|customer|client|firm)|client|customer|tenant|lessee|counterparty))(\s+[A-Z]\b)?`)

var descriptorQualifiers = []string{"investment-grade", "investment grade", "undisclosed", "unnamed", "hyperscale", "ultra-large", "fortune", "large", "leading", "major", "u.s.", "us-based", "u.s.-based", "-based", "global", "top", "big tech", "confidential", "certain"}

// reDescriptorEU finds an undisclosed hyperscaler in French, Spanish,
// Portuguese, Italian and German: the article, up to two words, the noun and
// up to three words after it (up to the next comma or a preposition).
var reDescriptorEU = regexp.MustCompile(`(?i)\b(?:un|une|um|uma|una|uno|ein|einem|einen|einer)\s+((?:[\p{L}-]+\s+){0,2}?hyperscal\p{L}*(?:\s+(?:américain|américaine|estadounidense|norte-americano|americano|statunitense|us-amerikanischen|non|no|nicht|identifié|identifiée|identificado|identificato|divulgué|revelado|nommé|genannten|ungenannten|anonyme|anónimo|anonimo)){0,3})`)

var reDescriptorCJK = regexp.MustCompile(`(?:某|一家|一位|一名)((?:[^，。,、；\s]{0,10}?)(?:云厂商|雲廠商|云服务商|雲服務商|客户|客戶|超大规模云|超大規模雲|科技公司))(?:\s?([A-Z])(?:[^A-Za-z]|$))?`)

// Descriptor is an undisclosed counterparty.
type Descriptor struct {
	Text       string
	Start, End int
}

var descriptorHeads = []string{"hyperscal", "neocloud", "client", "customer", "tenant", "lessee", "counterparty", "cloud", "company", "firm"}

func findDescriptors(s string) []Descriptor {
	var out []Descriptor
	for _, m := range matchesIf(containsAny(strings.ToLower(s), descriptorHeads), reDescriptor, s) {
		phrase := strings.ToLower(s[m[2]:m[3]])
		// "a 15-year lease with an investment-grade hyperscaler": the descriptor
		// starts after the last function word.
		words := strings.Fields(phrase)
		start := m[2]
		for i := len(words) - 2; i >= 0; i-- {
			if stopwords[words[i]] {
				phrase = strings.Join(words[i+1:], " ")
				start = m[3] - len(phrase)
				break
			}
		}
		head := phrase
		// "a neocloud Jacarandá Compute": the words describe the name after them.
		if rest := strings.TrimLeft(s[m[3]:], " "); len(rest) < len(s[m[3]:]) && rest != "" && unicode.IsUpper([]rune(rest)[0]) && m[4] < 0 {
			continue
		}
		if !strings.Contains(phrase, "hyperscal") && !containsAny(phrase, descriptorQualifiers) {
			continue
		}
		lead := strings.ToLower(s[max(m[0], start-14):start])
		if strings.Contains(lead, "unnamed") {
			head = "unnamed " + head
		} else if strings.Contains(lead, "undisclosed") {
			head = "undisclosed " + head
		}
		end := m[3]
		if m[4] >= 0 {
			head += " " + strings.ToLower(strings.TrimSpace(s[m[4]:m[5]]))
			end = m[5]
		}
		head = strings.TrimPrefix(head, "certain ")
		out = append(out, Descriptor{Text: head, Start: start, End: end})
	}
	// "un hyperscaler américain non identifié", "einem ungenannten Hyperscaler"
	if len(out) == 0 {
		for _, m := range matchesIf(strings.Contains(strings.ToLower(s), "hyperscal"), reDescriptorEU, s) {
			out = append(out, Descriptor{Text: strings.ToLower(strings.TrimSpace(s[m[2]:m[3]])), Start: m[2], End: m[3]})
		}
	}
	for _, m := range matchesIf(hasCJK(s), reDescriptorCJK, s) {
		letter := ""
		if m[4] >= 0 {
			letter = s[m[4]:m[5]]
		}
		out = append(out, Descriptor{Text: translateDescriptor(s[m[2]:m[3]], letter), Start: m[0], End: m[1]})
	}
	return out
}

// translateDescriptor renders a Chinese descriptor in English record terms, word
// for word: 某投资级超大型云厂商 A → "investment-grade ultra-large cloud manufacturer a".
func translateDescriptor(zh, letter string) string {
	var parts []string
	if strings.Contains(zh, "投资级") || strings.Contains(zh, "投資級") {
		parts = append(parts, "investment-grade")
	}
	switch {
	case strings.Contains(zh, "超大型"):
		parts = append(parts, "ultra-large")
	case strings.Contains(zh, "超大规模") || strings.Contains(zh, "超大規模"):
		parts = append(parts, "hyperscale")
	}
	switch {
	case strings.Contains(zh, "云厂商") || strings.Contains(zh, "雲廠商"):
		parts = append(parts, "cloud manufacturer")
	case strings.Contains(zh, "云服务商") || strings.Contains(zh, "雲服務商"):
		parts = append(parts, "cloud service provider")
	case strings.Contains(zh, "超大规模云") || strings.Contains(zh, "超大規模雲"):
		parts = append(parts, "cloud provider")
	case strings.Contains(zh, "科技"):
		parts = append(parts, "technology company")
	default:
		parts = append(parts, "client")
	}
	if letter != "" {
		parts = append(parts, strings.ToLower(letter))
	}
	return strings.Join(parts, " ")
}

// cutClause keeps the text up to the end of its clause.
func cutClause(s string) string {
	if i := strings.IndexAny(s, ",;:(|"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, " and "); i >= 0 {
		s = s[:i]
	}
	return s
}

// clauseBefore keeps the text after the start of its clause.
func clauseBefore(s string) string {
	if i := strings.LastIndexAny(s, ",;:(|"); i >= 0 {
		s = s[i+1:]
	}
	return s
}
