package extractor

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Entity is a canonical company.
type Entity struct {
	Name        string   `yaml:"name"`
	Ticker      *string  `yaml:"ticker"`
	Aliases     []string `yaml:"aliases"`
	Hyperscaler bool     `yaml:"hyperscaler"`
	Role        string   `yaml:"-"` // "operator" or "customer": the list it is in
	// Kind places the company in the supply chain: operator (miners and
	// developers, the default of the operators list), neocloud, hyperscaler,
	// chipmaker, lab; vendor and utility are never parties to a capacity contract.
	Kind string `yaml:"kind"`
}

// tier ranks a company along the supply chain: in a deal between two
// companies the sentence does not order, the higher usually provides.
func (e *Entity) tier() float64 {
	switch e.Kind {
	case "operator":
		return 3
	case "neocloud":
		return 2
	case "hyperscaler":
		return 1
	case "chipmaker":
		return 0.5
	case "lab":
		return 0
	}
	// A company the gazetteer does not know: news of a capacity deal is most
	// often written about (and by) the company that provides it.
	return 2.7
}

// notParty reports companies that sell equipment or power, never capacity.
func (e *Entity) notParty() bool { return e.Kind == "vendor" || e.Kind == "utility" }

//go:embed data/entities.yaml
var entitiesYAML []byte

// Gazetteer finds company names in text by alias lookup over 1–5-word windows.
type Gazetteer struct {
	byKey  map[string]*Entity // normalised alias -> entity
	first  map[string]bool    // lower-cased first words of aliases
	exact  map[string]bool    // aliases that must match case-sensitively (all caps)
	maxLen int
	cjk    []cjkAlias
	all    []*Entity
}

type cjkAlias struct {
	alias string
	e     *Entity
}

// Mention is an entity found in a sentence.
type Mention struct {
	E          *Entity
	Start, End int
}

// LoadGazetteer parses an entities file (see data/entities.yaml).
func LoadGazetteer(data []byte) (*Gazetteer, error) {
	var f struct {
		Operators []*Entity `yaml:"operators"`
		Customers []*Entity `yaml:"customers"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parsing entities: %w", err)
	}
	g := &Gazetteer{byKey: map[string]*Entity{}, exact: map[string]bool{}, first: map[string]bool{}}
	add := func(es []*Entity, role string) error {
		for _, e := range es {
			if e.Name == "" {
				return fmt.Errorf("entities: an entry of %ss has no name", role)
			}
			e.Role = role
			if e.Kind == "" {
				e.Kind = map[string]string{"operator": "operator", "customer": "lab"}[role]
			}
			switch e.Kind {
			case "operator", "neocloud", "hyperscaler", "chipmaker", "lab", "vendor", "utility":
			default:
				return fmt.Errorf("entities: %s has unknown kind %q (operator, neocloud, hyperscaler, chipmaker, lab, vendor, utility)", e.Name, e.Kind)
			}
			g.all = append(g.all, e)
			names := append([]string{e.Name}, e.Aliases...)
			// The bare ticker ("HUT's lease"), matched in capitals only.
			if e.Ticker != nil && len(*e.Ticker) >= 3 && isAllCaps(*e.Ticker) && !containsString(names, *e.Ticker) {
				names = append(names, *e.Ticker)
			}
			for _, a := range names {
				if spacelessScript(a) {
					g.cjk = append(g.cjk, cjkAlias{a, e})
					continue
				}
				toks := tokenize(a)
				if len(toks) == 0 {
					continue
				}
				key := tokenKey(a, toks)
				if prev, ok := g.byKey[key]; ok && prev != e {
					return fmt.Errorf("entities: alias %q names both %s and %s", a, prev.Name, e.Name)
				}
				g.byKey[key] = e
				g.first[strings.ToLower(toks[0].text)] = true
				if len(toks) == 1 && isAllCaps(a) {
					g.exact[a] = true
				}
				g.maxLen = max(g.maxLen, len(toks))
			}
		}
		return nil
	}
	if err := add(f.Operators, "operator"); err != nil {
		return nil, err
	}
	if err := add(f.Customers, "customer"); err != nil {
		return nil, err
	}
	return g, nil
}

// DefaultGazetteer is built from the embedded entities file.
func DefaultGazetteer() *Gazetteer {
	g, err := LoadGazetteer(entitiesYAML)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return g
}

// Lookup returns the entity with this canonical name or alias.
func (g *Gazetteer) Lookup(name string) *Entity {
	if hasCJK(name) {
		for _, c := range g.cjk {
			if c.alias == name {
				return c.e
			}
		}
		return nil
	}
	return g.byKey[tokenKey(name, tokenize(name))]
}

type token struct {
	text       string
	start, end int
}

// tokenize splits on spaces and punctuation, keeping '.', '-' and '&' inside
// words ("IREN.O", "Hut 8", "AT&T"), dropping a possessive "'s" and trailing dots.
func tokenize(s string) []token {
	var out []token
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		// French and Italian elision: "d’AWS", "l'accordo" are "AWS", "accordo".
		if i := strings.IndexAny(s[start:end], "'’"); i > 0 && i <= 2 && i < end-start-3 {
			ap := strings.IndexRune(s[start+i:end], '’')
			step := 1
			if ap == 0 {
				step = len("’")
			}
			start += i + step
		}
		w := s[start:end]
		for _, suf := range []string{"'s", "’s"} {
			w = strings.TrimSuffix(w, suf)
		}
		w = strings.TrimRight(w, ".-&")
		if w != "" {
			out = append(out, token{w, start, start + len(w)})
		}
		start = -1
	}
	for i, r := range s {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’' ||
			((r == '.' || r == '-' || r == '&') && start >= 0)
		if inWord && !isCJKRune(r) && !unicode.Is(unicode.Hangul, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	return out
}

func tokenKey(_ string, toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = strings.ToLower(t.text)
	}
	return strings.Join(parts, " ")
}

// Find returns the entity mentions of a sentence, longest match first, in order.
func (g *Gazetteer) Find(s string) []Mention {
	var out []Mention
	toks := tokenize(s)
	lower := make([]string, len(toks))
	for i, t := range toks {
		lower[i] = strings.ToLower(t.text)
	}
	for i := 0; i < len(toks); {
		matched := false
		if !g.first[lower[i]] {
			i++
			continue
		}
		for n := min(g.maxLen, len(toks)-i); n >= 1; n-- {
			win := toks[i : i+n]
			e, ok := g.byKey[strings.Join(lower[i:i+n], " ")]
			if !ok {
				continue
			}
			first := win[0].text
			r, _ := utf8.DecodeRuneInString(first)
			if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
				continue
			}
			if n == 1 && g.needsExact(first, e) {
				continue
			}
			out = append(out, Mention{E: e, Start: win[0].start, End: win[n-1].end})
			i += n
			matched = true
			break
		}
		if !matched {
			i++
		}
	}
	if len(g.cjk) > 0 && (spacelessScript(s)) {
		for _, c := range g.cjk {
			for off := 0; ; {
				j := strings.Index(s[off:], c.alias)
				if j < 0 {
					break
				}
				st := off + j
				out = append(out, Mention{E: c.e, Start: st, End: st + len(c.alias)})
				off = st + len(c.alias)
			}
		}
		sortMentions(out, func(m Mention) int { return m.Start })
	}
	return out
}

// needsExact: an all-caps alias ("IREN", "HIVE", "AWS") matches only as written,
// so that "Hive" or "Iren" in ordinary text do not; mixed-case aliases of the
// same entity ("Riot") are matched case-insensitively as usual.
func (g *Gazetteer) needsExact(text string, e *Entity) bool {
	if isAllCaps(text) {
		return false
	}
	for _, a := range append([]string{e.Name}, e.Aliases...) {
		if strings.EqualFold(a, text) && !isAllCaps(a) {
			return false
		}
	}
	return true
}

func isAllCaps(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

func isCJKRune(r rune) bool {
	if r < 0x2E80 { // below the CJK radicals: Latin, Cyrillic, punctuation
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

func hasCJK(s string) bool {
	for _, r := range s {
		if isCJKRune(r) {
			return true
		}
	}
	return false
}
