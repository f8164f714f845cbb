package extractor

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// annotate: the spans of one sentence the assembly works with — companies from
// the gazetteer and companies it does not know (open-world names), undisclosed
// parties ("an investment-grade hyperscaler"), and the figures the parsers found.

// pmention is a party named in a sentence: a company (gazetteer or open-world)
// or an undisclosed party's descriptor.
type pmention struct {
	e          *Entity
	desc       string
	start, end int
	open       bool // a company the gazetteer does not know
	intro      string
}

func (p pmention) label() string {
	if p.e != nil {
		return p.e.Name
	}
	return p.desc
}

// sent is an annotated sentence.
type sent struct {
	analysis
	idx     int
	parties []pmention
	anchor  bool // names a deal: a deal word, a party and a figure
	vendor  bool // names an equipment or power seller: its amounts are purchases
	hedged  bool // every deal word sits in a hedged clause
	title   bool
	cls     *figureClasses // what each figure is, read once (classify.go)
	totals  bool           // under a heading about totals ("Reading the new totals")
	usedBy  *Entity        // the company the sentence's facility is built for, beside the lease's customer
	region  *string        // the state or country it names first (regionOf), once computed
}

// regionName is regionOf(s.Text), computed once per sentence.
func (s *sent) regionName() string {
	if s.region == nil {
		r := regionOf(s.Text)
		s.region = &r
	}
	return *s.region
}

// openNames finds company names the gazetteer does not know, for a whole
// document: a capitalised run is a company when it ends in a corporate word
// ("Marrow Energy"), follows a noun that introduces a company ("neocloud
// Orbitra"), is set off by an apposition (", a Dutch AI group") or a listing
// ("(NASDAQ: VELD)"), or is the subject of a deal verb. Once found, the name
// is a company wherever it appears in the document, also by its first word.
type openNames struct {
	byKey  map[string]*Entity
	intro  map[*Entity]string
	short  map[string]*Entity
	hangul []string // Korean names, found in the text by substring (no capitals to read)
}

var dealSubjectVerbs = []string{"signed", "signs", "has signed", "inked", "inks", "entered", "has entered", "agreed", "has agreed", "secured", "secures", "struck",
	"won", "landed", "lands", "will lease", "leases", "has leased", "leased", "rented", "rents", "will provide", "to provide", "announced", "announces", "said it", "expands", "expanded", "will supply", "will deliver"}

// reLeaderOf ends in the title of a company's leader and "of": the name
// after it is a company.
var reLeaderOf = regexp.MustCompile(`\b(?:ceo|ceos|co-ceos|founder|founders|co-founder|co-founders|chief executive|chief executive officer|president|chairman|chairwoman|cfo|cto)\s+(?:and\s+(?:co-)?founders?\s+)?of\s*$`)

func findOpenNames(ss []*sent, g *Gazetteer) *openNames {
	on := &openNames{byKey: map[string]*Entity{}, intro: map[*Entity]string{}, short: map[string]*Entity{}}
	lx := lex()
	for _, s := range ss {
		titleCase := looksTitleCase(s.Text)
		for _, r := range capitalRuns(s.Text) {
			if overlapsMention(s.ents, r.start, r.end) {
				continue
			}
			words := r.words
			// "Florida-based", "UK-headquartered": where a company is, not its name.
			// ("1 GW of AI compute": a unit and its joiner are not a name either)
			for len(words) > 0 && (lx.stop[strings.ToLower(words[0])] || strings.Contains(words[0], "-based") || strings.Contains(words[0], "-headquartered") || strings.HasSuffix(words[0], "-listed") ||
				words[0] == "of" || words[0] == "&" || anyWord(strings.ToLower(words[0]), []string{"mw", "gw", "kw", "megawatts", "gigawatts"})) {
				words = words[1:]
			}
			// "Abu Dhabi-based AI infrastructure group": the place ends where
			// the name could begin
			for i, w := range words {
				if strings.Contains(w, "-based") || strings.Contains(w, "-headquartered") {
					words = words[i+1:]
					break
				}
			}
			for len(words) > 0 && lx.legal[strings.ToLower(strings.TrimRight(words[len(words)-1], ","))] && len(words) > 1 {
				words = words[:len(words)-1]
			}
			if len(words) == 0 || len(words) > 4 || len(words) == 1 && lx.legal[strings.ToLower(strings.Trim(words[0], ",."))] {
				continue // "Hyperscale Data, Inc.": the suffix alone is no company
			}
			// "Münchner Sprachmodell-Entwickler Lindwurm KI": in languages that
			// capitalise nouns the run holds the description; the name follows
			// its last noun that introduces a company.
			runIntro := ""
			for i := len(words) - 2; i >= 0 && !titleCase; i-- {
				if w := introNoun(words[i]); w != "" && !verbLike(words[i+1:]) {
					words, runIntro = words[i+1:], w
					break
				}
			}
			// "Co-Founders of Poolside": the run holds the title and the name
			leader := false
			for i, w := range words {
				if w == "of" && i+1 < len(words) && reLeaderOf.MatchString(strings.ToLower(strings.Join(words[:i+1], " "))) {
					words, leader = words[i+1:], true
					break
				}
			}
			name := strings.Join(words, " ")
			lname := strings.ToLower(name)
			if lx.stop[lname] || isNumberish(name) || len(name) < 3 {
				continue
			}
			if e := g.Lookup(name); e != nil {
				continue
			}
			before := strings.ToLower(lastRunes(s.Text[:r.start], 40))
			after := strings.ToLower(firstBytes(s.Text[r.end:], 40))
			if describesNext(s.Text[r.end:]) {
				continue // "Scottish AI infrastructure group Brisenmoor": a description of the name after it
			}
			// "662 MW of North American AI power": the run qualifies the noun
			// after it
			if f := strings.Fields(strings.ToLower(firstBytes(s.Text[r.end:], 30))); len(f) > 0 && lex().qualified[strings.Trim(f[0], ",.;:")] {
				continue
			}
			intro := endsWithWord(before, lx.NameIntro)
			if intro == "" {
				intro = endsWithWord(before, lx.NameIntroOther)
			}
			if intro == "" {
				intro = runIntro
			}
			// "GPU cloud operator Quenby Cloud": an operator of a cloud is a neocloud
			if (intro == "operator" || intro == "provider" || intro == "company" || intro == "firm") && endsWithWord(strings.TrimSuffix(strings.TrimRight(before, " "), intro), []string{"cloud", "gpu cloud", "ai cloud", "gpu"}) != "" {
				intro = "neocloud"
			}
			if intro == "" {
				if f := strings.Fields(before); len(f) > 0 {
					intro = introNoun(f[len(f)-1]) // "het Delftse AI-lab Reigerlab"
				}
			}
			last := strings.ToLower(words[len(words)-1])
			if len(words) >= 3 && lx.suffix[strings.ToLower(words[len(words)-2])+" "+last] {
				last = strings.ToLower(words[len(words)-2]) + " " + last // "Serra Alva Data Centers"
			}
			ok := false
			switch {
			case intro != "" && !titleCase:
				ok = true
			case len(words) >= 2 && lx.suffix[last] && !lx.stop[strings.ToLower(words[0])]:
				ok = !titleCase || r.legal
			case r.legal:
				ok = true
			case strings.HasPrefix(after, " (nasdaq") || strings.HasPrefix(after, " (nyse") || strings.HasPrefix(after, " (tsx") || strings.HasPrefix(after, " (otc"):
				ok = true
			case !titleCase && (strings.HasPrefix(after, ", a ") || strings.HasPrefix(after, ", an ")) && anyWord(firstBytes(after, 60), lx.NameIntro):
				ok = true
			case leader || reLeaderOf.MatchString(before):
				ok = true // "co-founders of Poolside", "the chief executive of Marrow Energy"
			case !titleCase && hasDealWord(s.lower) && endsWithWord(before, []string{"with", "to"}) != "" && len(words) == 1 && innerCapital(words[0]):
				ok = true // "a lease with QuillNet": a coined name as the other party of a deal
			case !titleCase && strings.TrimSpace(s.Text[:r.start]) == "" || strings.HasSuffix(strings.TrimSpace(strings.ToLower(s.Text[:r.start])), "the") && r.start < 6:
				ok = hasAnyPrefix(strings.TrimLeft(after, " "), dealSubjectVerbs) || len(words) >= 2 && dealVerbSoon(s.Text[r.end:])
			case !titleCase && leadIn(s.Text[:r.start]):
				// "Last spring Ashbury signed …", "The part that matters: Ashbury signed …"
				ok = hasAnyPrefix(strings.TrimLeft(after, " "), dealSubjectVerbs)
			}
			if !ok {
				continue
			}
			e := on.byKey[lname]
			if e == nil {
				e = &Entity{Name: name}
				on.byKey[lname] = e
				if w := strings.ToLower(words[0]); len(words) > 1 && len(w) >= 4 && !lx.stop[w] && !lx.suffix[w] {
					on.short[w] = e
				}
			}
			if intro != "" && on.intro[e] == "" {
				on.intro[e] = intro
			}
		}
	}
	on.findHangulNames(ss, g)
	// "Core expects …" after "Core Scientific": a known company named in full
	// on the page is also meant by the first word of its name.
	for _, s := range ss {
		for _, m := range s.ents {
			words := strings.Fields(m.E.Name)
			if len(words) < 2 || m.E.notParty() {
				continue
			}
			w := strings.ToLower(words[0])
			if len(w) < 4 || lx.stop[w] || lx.suffix[w] || on.short[w] != nil || on.byKey[w] != nil || g.Lookup(words[0]) != nil {
				continue
			}
			on.short[w] = m.E
		}
	}
	// "Ashbury signed …" and "Ashbury Hashworks put out its release": a
	// one-word name that opens a longer capitalised name elsewhere on the page
	// is that name's short form.
	for k, e := range on.byKey {
		if strings.Contains(k, " ") || on.short[k] != nil {
			continue
		}
		if long := longerRun(ss, e.Name); long != "" && on.byKey[strings.ToLower(long)] == nil {
			le := &Entity{Name: long}
			on.byKey[strings.ToLower(long)] = le
			on.intro[le] = on.intro[e]
		}
	}
	// "Serra Alva" in a headline and "Serra Alva Data Centers" in the text:
	// the shorter name is the longer one's short form.
	keys := slices.Sorted(maps.Keys(on.byKey)) // a longer name sorts after its prefix
	for i, k := range keys {
		e := on.byKey[k]
		for _, k2 := range keys[i+1:] {
			if e2 := on.byKey[k2]; e2 != e && strings.HasPrefix(k2, k+" ") {
				on.byKey[k] = e2
				if on.intro[e2] == "" {
					on.intro[e2] = on.intro[e]
				}
				break
			}
		}
	}
	// "Ferncastle, a renewable energy developer" after "Ferncastle Energy":
	// the short form of a longer name is that company.
	for k, e := range on.byKey {
		if long := on.short[k]; long != nil && long != e && !strings.Contains(k, " ") {
			on.byKey[k] = long
			if on.intro[long] == "" {
				on.intro[long] = on.intro[e]
			}
		}
	}
	return on
}

// leadIn reports the words before a sentence's subject that leave it the
// subject: a clause ending in a colon or dash, or up to three lower-case or
// time words ("Last spring", "On Monday,").
func leadIn(before string) bool {
	t := strings.TrimSpace(before)
	if t == "" {
		return false
	}
	if strings.HasSuffix(t, ":") || strings.HasSuffix(t, "—") || strings.HasSuffix(t, " -") {
		return true
	}
	ws := strings.Fields(strings.TrimSuffix(t, ","))
	if len(ws) > 3 {
		return false
	}
	// "The company behind ChatGPT struck …": the name ends a noun phrase
	// that is the subject; it is not the subject itself
	if first := strings.ToLower(ws[0]); first == "the" || first == "a" || first == "an" || first == "its" || first == "their" {
		return false
	}
	if anyWord(strings.ToLower(ws[len(ws)-1]), []string{"behind", "of", "from", "at", "with", "for", "by", "to", "and", "or", "like", "than"}) {
		return false
	}
	for i, w := range ws {
		lw := strings.ToLower(w)
		if i > 0 && !unicode.IsLower([]rune(w)[0]) && !monthOrDay(lw) {
			return false
		}
	}
	return true
}

// monthOrDay reports an English month or weekday.
func monthOrDay(w string) bool {
	switch w {
	case "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday":
		return true
	}
	return false
}

// longerRun returns the first capitalised run of two or three words on the
// page that starts with the one-word name and goes on with a capitalised word
// that is no stop word or verb ("Ashbury Hashworks" for "Ashbury").
func longerRun(ss []*sent, name string) string {
	for _, s := range ss {
		if s.title || !strings.Contains(s.Text, name+" ") {
			continue
		}
		if looksTitleCase(s.Text) {
			continue
		}
		for _, r := range capitalRuns(s.Text) {
			if len(r.words) < 2 || len(r.words) > 3 || r.words[0] != name {
				continue
			}
			ok := true
			for _, w := range r.words[1:] {
				if lw := strings.ToLower(w); lex().stop[lw] || verbLike([]string{w}) || monthOrDay(lw) || isNumberish(w) {
					ok = false
				}
			}
			if ok {
				return strings.Join(r.words, " ")
			}
		}
	}
	return ""
}

// spacelessRune reports a rune of a script written without spaces between
// words (Chinese, Japanese, Korean), or its full-width punctuation.
func spacelessRune(r rune) bool {
	return r >= 0x2E80 && (isCJKRune(r) || unicode.Is(unicode.Hangul, r) || r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF)
}

// introNoun returns the noun that introduces a company name when w is one,
// also as the last part of a compound ("AI-lab", "KI-Entwickler").
func introNoun(w string) string {
	lw := strings.ToLower(strings.Trim(w, ",.:;"))
	if lex().intro[lw] {
		return lw
	}
	if i := strings.LastIndexByte(lw, '-'); i >= 0 && i+1 < len(lw) && lex().intro[lw[i+1:]] {
		return lw[i+1:]
	}
	return ""
}

// verbLike reports capitalised words that are a deal word or a verb of the
// lexicon ("Bitcoin Miner Leases" in a headline): not a name.
func verbLike(words []string) bool {
	for _, w := range words {
		if dealAction(strings.ToLower(w)) {
			return true
		}
	}
	return false
}

// dealAction reports a deal word or a verb of providing or renting, in any
// language of the lexicon.
func dealAction(lower string) bool {
	lx := lex()
	return anyWord(lower, lx.DealWords) || anyWord(lower, lx.ProviderVerbs) || anyWord(lower, lx.CustomerVerbs)
}

// dealVerbSoon reports a deal word or a verb of providing or renting within
// the first words after a sentence's opening name, in any language of the
// lexicon ("Skarvheim Datasenter har signert en tiårig leieavtale",
// "Polderkracht Datacenters heeft een huurcontract getekend"): the name is the
// subject of a deal.
func dealVerbSoon(after string) bool {
	ws := strings.Fields(firstBytes(after, 80))
	if len(ws) > 6 {
		ws = ws[:6]
	}
	// The name's own verb comes before the next name ("InsiderMonkey
	// reports Redwater signed …" is not InsiderMonkey's deal).
	for i, w := range ws {
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) {
			ws = ws[:i]
			break
		}
	}
	if len(ws) == 0 || strings.ContainsAny(ws[0][:1], ",;:(") {
		return false
	}
	head := strings.ToLower(strings.Join(ws, " "))
	if hasAnyPrefix(head, []string{"said", "says", "say", "noted", "notes", "told", "expects", "believes", "sagte", "sagt", "zei", "zegt", "sa ", "sier", "a déclaré", "dit", "dijo", "afirmó", "ha detto", "disse", "afirmou"}) {
		return false // "Morgan Stanley said the deal …": a comment on a deal
	}
	return dealAction(head) || containsAny(head, dealStems)
}

// describesNext reports words after a capitalised run that make the run part
// of a description of the name that follows: lower-case words ending in a noun
// that introduces a company, then a capitalised word ("… infrastructure group
// Brisenmoor").
func describesNext(after string) bool {
	ws := strings.Fields(firstBytes(after, 60))
	for i, w := range ws {
		if i > 3 || w == "" || !unicode.IsLower([]rune(w)[0]) {
			return false
		}
		if lex().intro[w] && i+1 < len(ws) && unicode.IsUpper([]rune(ws[i+1])[0]) {
			return true
		}
	}
	return false
}

// findHangulNames finds Korean company names the gazetteer does not know: a
// word of Hangul that, without its particle, ends in a corporate word after
// at least two syllables of its own.
func (on *openNames) findHangulNames(ss []*sent, g *Gazetteer) {
	for _, s := range ss {
		if !strings.ContainsFunc(s.Text, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) {
			continue
		}
		for _, w := range strings.Fields(s.Text) {
			w = strings.TrimFunc(w, func(r rune) bool { return !unicode.Is(unicode.Hangul, r) })
			for _, p := range lex().KoreanParticles {
				if t := strings.TrimSuffix(w, p); t != w && utf8.RuneCountInString(t) >= 3 {
					w = t
					break
				}
			}
			for _, suf := range lex().KoreanEndings {
				if strings.HasSuffix(w, suf) && utf8.RuneCountInString(w)-utf8.RuneCountInString(suf) >= 2 {
					if on.byKey[w] == nil && g.Lookup(w) == nil {
						on.byKey[w] = &Entity{Name: w}
						on.hangul = append(on.hangul, w)
					}
					break
				}
			}
		}
	}
}

// mentions returns the open-world companies named in a sentence.
func (on *openNames) mentions(s *sent) []Mention {
	if len(on.byKey) == 0 && len(on.short) == 0 {
		return nil
	}
	var out []Mention
	for _, k := range on.hangul {
		for off := 0; ; {
			i := strings.Index(s.Text[off:], k)
			if i < 0 {
				break
			}
			st := off + i
			if !overlapsMention(s.ents, st, st+len(k)) {
				out = append(out, Mention{E: on.byKey[k], Start: st, End: st + len(k)})
			}
			off = st + len(k)
		}
	}
	for _, r := range capitalRuns(s.Text) {
		if overlapsMention(s.ents, r.start, r.end) {
			continue
		}
		// The longest known name inside the run.
		for i := 0; i < len(r.words); i++ {
			for n := min(4, len(r.words)-i); n >= 1; n-- {
				key := strings.ToLower(strings.Join(r.words[i:i+n], " "))
				e := on.byKey[key]
				if e == nil && n == 1 {
					e = on.short[key]
					// "Core picks: IREN, Hut 8": a label whose first word is
					// the short form of a company's name
					if f := strings.Fields(firstBytes(s.Text[r.offs[i]+len(r.words[i]):], 24)); e != nil && len(f) > 0 && strings.HasSuffix(f[0], ":") {
						e = nil
					}
				}
				if e == nil {
					continue
				}
				st := r.offs[i]
				en := r.offs[i+n-1] + len(r.words[i+n-1])
				out = append(out, Mention{E: e, Start: st, End: en})
				i += n - 1
				break
			}
		}
	}
	return out
}

// run is a sequence of capitalised words in a sentence.
type run struct {
	words      []string
	offs       []int
	start, end int
	legal      bool // ended with a legal suffix such as "Inc." or "Ltd"
}

// capitalRuns cuts a sentence into runs of capitalised words ("Veldt Compute",
// "Marrow Energy Inc."), joined by "&" or "of"; a possessive ends a run.
func capitalRuns(s string) []run {
	var out []run
	var cur run
	flush := func() {
		if len(cur.words) > 0 {
			out = append(out, cur)
		}
		cur = run{}
	}
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
			// "開発会社のCorbel Yard Dataは": a Latin name set in Chinese,
			// Japanese or Korean text starts and ends where the script changes
			if utf8.RuneStart(s[j]) && (s[j] >= utf8.RuneSelf || j > i && s[j-1] >= utf8.RuneSelf) {
				r, _ := utf8.DecodeRuneInString(s[j:])
				if j > i {
					p, _ := utf8.DecodeLastRuneInString(s[i:j])
					if spacelessRune(p) != spacelessRune(r) {
						break
					}
				}
			}
			j++
		}
		if j == i {
			break
		}
		w := s[i:j]
		start := i
		i = j
		// Leading punctuation ("(Orbitra", "“Veldt") ends the run before it.
		trimmed := strings.TrimLeft(w, "(\"'“‘[")
		if len(trimmed) != len(w) {
			flush()
			start += len(w) - len(trimmed)
			w = trimmed
		}
		core := strings.TrimRight(w, ",.;:)\"'”’!?]")
		poss := false
		for _, p := range []string{"'s", "’s"} {
			if strings.HasSuffix(core, p) {
				core = strings.TrimSuffix(core, p)
				poss = true
			}
		}
		if core == "" {
			flush()
			continue
		}
		r, _ := utf8.DecodeRuneInString(core)
		joiner := (core == "&" || core == "of") && len(cur.words) > 0
		if unicode.IsUpper(r) || joiner || (len(cur.words) > 0 && isDigits(core) && len(core) <= 2) {
			if len(cur.words) == 0 {
				cur.start = start
			}
			cur.words = append(cur.words, core)
			cur.offs = append(cur.offs, start)
			cur.end = start + len(core)
			lc := strings.ToLower(core)
			if lc == "inc" || lc == "ltd" || lc == "llc" || lc == "corp" || lc == "plc" || lc == "gmbh" || lc == "asa" || len(cur.words) > 1 && lex().legal[lc] && core != strings.ToLower(core) {
				cur.legal = true
			}
			if poss || len(core) != len(w) {
				// trailing punctuation or a possessive ends the name; "Inc." keeps its dot.
				if !(strings.HasSuffix(w, ".") && (lc == "inc" || lc == "corp" || lc == "co" || lc == "ltd") && !poss) {
					flush()
				}
			}
			continue
		}
		flush()
	}
	flush()
	// A run may not end on a joiner.
	for k := range out {
		for len(out[k].words) > 0 {
			l := out[k].words[len(out[k].words)-1]
			if l != "&" && l != "of" {
				break
			}
			out[k].words = out[k].words[:len(out[k].words)-1]
			out[k].offs = out[k].offs[:len(out[k].offs)-1]
		}
		if n := len(out[k].words); n > 0 {
			out[k].end = out[k].offs[n-1] + len(out[k].words[n-1])
		}
	}
	return out
}

func overlapsMention(ms []Mention, start, end int) bool {
	for _, m := range ms {
		if start < m.End && m.Start < end {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isNumberish(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// looksTitleCase reports a headline written In Title Case, where capitals
// say nothing about names.
func looksTitleCase(s string) bool {
	if spacelessScript(s) {
		return false // Chinese, Japanese, Korean: no capitals, the Latin names in it are capitalised
	}
	words := strings.Fields(s)
	if len(words) < 4 {
		return false
	}
	caps := 0
	for _, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsUpper(r) || unicode.IsDigit(r) || r == '$' {
			caps++
		}
	}
	return caps*10 >= len(words)*7
}

// partiesOf returns the parties of a sentence: gazetteer and open-world
// companies that are not the maker of the hardware or set aside ("unlike X"),
// and undisclosed parties. Guarantors and end users are not parties.
func partiesOf(s *sent, on *openNames) []pmention {
	var ps []pmention
	ms := append(append([]Mention(nil), s.ents...), on.mentions(s)...)
	sortMentions(ms, func(m Mention) int { return m.Start })
	prevAside, prevEnd := false, -1
	for _, m := range ms {
		if m.E.notParty() {
			s.vendor = true
			continue
		}
		// "after Lumen and Orbitra pulled out": a name joined to one set aside is aside too.
		aside := isAside(s.lower, m) || prevAside && prevEnd >= 0 && prevEnd <= m.Start && isCoordination(s.lower[prevEnd:m.Start])
		prevAside, prevEnd = aside, m.End
		// "GPU Veltrix", "chips from Veltrix": the maker of the hardware.
		madeBy := endsWithWord(lastRunes(s.lower[:m.Start], 14), []string{"gpu", "gpus", "chip", "chips", "chips de", "gpu de", "gpu di"}) != ""
		if isVendorMention(s.lower, m) || aside || madeBy {
			continue
		}
		if r := roleOf(s.lower, m); r != roleCounterparty {
			continue
		}
		p := pmention{e: m.E, start: m.Start, end: m.End}
		if m.E.Role == "" {
			p.open = true
			p.intro = on.intro[m.E]
		}
		ps = append(ps, p)
	}
	for _, d := range s.descs {
		// "an investment-grade counterparty … to provide a guarantee": a
		// backer, not the tenant
		if roleOf(s.lower, Mention{Start: d.Start, End: d.End}) == roleGuarantor {
			continue
		}
		ps = append(ps, pmention{desc: d.Text, start: d.Start, end: d.End})
	}
	sortMentions(ps, func(p pmention) int { return p.start })
	// One mention per party, the first.
	var out []pmention
	seen := map[string]bool{}
	for _, p := range ps {
		if k := p.label(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// innerCapital reports a coined company name with a capital inside a word
// ("QuillNet", "MarrowGrid"), not an acronym.
func innerCapital(w string) bool {
	if strings.ContainsAny(w, "-’'") || len(w) > 1 && unicode.IsUpper(rune(w[0])) && unicode.IsUpper(rune(w[1])) {
		return false // "AI-cloud", "GPUs": an acronym or a compound, not a coined name
	}
	upper, lower := 0, 0
	for i, r := range w {
		switch {
		case unicode.IsUpper(r):
			if i > 0 {
				upper++
			}
		case unicode.IsLower(r):
			lower++
		}
	}
	return upper > 0 && lower >= 2 && len(w) >= 5
}

// isCoordination reports the words between two names of one list.
func isCoordination(mid string) bool {
	switch strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(mid), "'s"), "’s")) {
	case ",", "and", ", and", "or", ", or", "&", "und", "et", "y", "e", "og", "en", "、", "和", "및", "と":
		return true
	}
	return false
}
