package extractor

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

//go:embed data/lexicon.yaml
var lexiconYAML []byte

// Lexicon holds the words the deal assembly reads (data/lexicon.yaml).
type Lexicon struct {
	DealWords           []string `yaml:"deal_words"`
	ProviderVerbs       []string `yaml:"provider_verbs"`
	CustomerVerbs       []string `yaml:"customer_verbs"`
	ProviderBefore      []string `yaml:"provider_before"`
	CustomerBefore      []string `yaml:"customer_before"`
	ProviderPossessions []string `yaml:"provider_possessions"`
	HedgeWords          []string `yaml:"hedge_words"`
	SignedWords         []string `yaml:"signed_words"`
	NonBinding          []string `yaml:"non_binding"`
	TotalWords          []string `yaml:"total_words"`
	AccumulationWords   []string `yaml:"accumulation_words"`
	MWReject            []string `yaml:"mw_reject"`
	MWSoft              []string `yaml:"mw_soft"`
	SiteNouns           []string `yaml:"site_nouns"`
	BuiltFor            []string `yaml:"built_for"`
	ITLoad              []string `yaml:"it_load"`
	NameIntro           []string `yaml:"name_intro"`
	NameIntroOther      []string `yaml:"name_intro_other"`
	CorporateSuffixes   []string `yaml:"corporate_suffixes"`
	LegalSuffixes       []string `yaml:"legal_suffixes"`
	NameStop            []string `yaml:"name_stop"`
	QualifiedNouns      []string `yaml:"qualified_nouns"`
	PastDealCues        []string `yaml:"past_deal_cues"`
	KoreanEndings       []string `yaml:"korean_company_endings"`
	KoreanParticles     []string `yaml:"korean_particles"`
	Examples            []struct {
		List  string `yaml:"list"`
		Text  string `yaml:"text"`
		Match string `yaml:"match"`
	} `yaml:"examples"`

	stop, suffix, legal, intro, qualified map[string]bool
}

// Lists returns the word lists by their names in the file.
func (l *Lexicon) Lists() map[string][]string {
	return map[string][]string{
		"deal_words": l.DealWords, "provider_verbs": l.ProviderVerbs, "customer_verbs": l.CustomerVerbs,
		"provider_before": l.ProviderBefore, "customer_before": l.CustomerBefore, "provider_possessions": l.ProviderPossessions,
		"hedge_words": l.HedgeWords, "signed_words": l.SignedWords, "non_binding": l.NonBinding, "total_words": l.TotalWords, "accumulation_words": l.AccumulationWords,
		"mw_reject": l.MWReject, "mw_soft": l.MWSoft, "site_nouns": l.SiteNouns, "built_for": l.BuiltFor, "it_load": l.ITLoad, "name_intro": l.NameIntro, "name_intro_other": l.NameIntroOther,
		"corporate_suffixes": l.CorporateSuffixes, "legal_suffixes": l.LegalSuffixes, "name_stop": l.NameStop,
		"qualified_nouns": l.QualifiedNouns, "past_deal_cues": l.PastDealCues, "korean_company_endings": l.KoreanEndings, "korean_particles": l.KoreanParticles,
	}
}

// LoadLexicon parses and validates a lexicon file: every list present and
// non-empty, entries lower-case, trimmed and unique, every example naming a
// list that exists.
func LoadLexicon(data []byte) (*Lexicon, error) {
	var l Lexicon
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("parsing lexicon: %w", err)
	}
	lists := l.Lists()
	for name, ws := range lists {
		if len(ws) == 0 {
			return nil, fmt.Errorf("lexicon: list %s is missing or empty", name)
		}
		seen := map[string]bool{}
		for _, w := range ws {
			switch {
			case w == "" || strings.TrimSpace(w) != w:
				return nil, fmt.Errorf("lexicon: %s has an empty or padded entry %q", name, w)
			case strings.ToLower(w) != w:
				return nil, fmt.Errorf("lexicon: %s entry %q must be lower-case", name, w)
			case seen[w]:
				return nil, fmt.Errorf("lexicon: %s lists %q twice", name, w)
			}
			seen[w] = true
		}
	}
	for i, ex := range l.Examples {
		if _, ok := lists[ex.List]; !ok {
			return nil, fmt.Errorf("lexicon: example %d names unknown list %q", i+1, ex.List)
		}
		if ex.Text == "" || ex.Match == "" {
			return nil, fmt.Errorf("lexicon: example %d needs text and match", i+1)
		}
	}
	set := func(ws []string) map[string]bool {
		m := make(map[string]bool, len(ws))
		for _, w := range ws {
			m[w] = true
		}
		return m
	}
	l.stop, l.suffix, l.legal, l.intro = set(l.NameStop), set(l.CorporateSuffixes), set(l.LegalSuffixes), set(append(slices.Clone(l.NameIntro), l.NameIntroOther...))
	l.qualified = set(l.QualifiedNouns)
	return &l, nil
}

var (
	lexOnce sync.Once
	lexDef  *Lexicon
)

// lex returns the embedded lexicon; it is validated by a test, so a bad file
// fails the build's tests rather than a running stage.
func lex() *Lexicon {
	lexOnce.Do(func() {
		l, err := LoadLexicon(lexiconYAML)
		if err != nil {
			panic(err)
		}
		lexDef = l
	})
	return lexDef
}

// hasWord reports whether lower contains w as a whole word (substring for
// words in a script written without spaces).
func hasWord(lower, w string) bool {
	return wordIndex(lower, w, 0) >= 0
}

// wordIndex finds w in lower at or after from, on word boundaries.
func wordIndex(lower, w string, from int) int {
	cjk := -1 // whether w is in a script written without spaces, found out when needed
	for off := from; off <= len(lower); {
		i := strings.Index(lower[off:], w)
		if i < 0 {
			return -1
		}
		i += off
		if boundaryBefore(lower, i) && boundaryAfter(lower, i+len(w)) {
			return i
		}
		if cjk < 0 {
			cjk = 0
			if spacelessScript(w) {
				cjk = 1
			}
		}
		if cjk == 1 {
			return i
		}
		off = i + 1
	}
	return -1
}

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func boundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// anyWord reports whether lower has any of ws as a whole word.
func anyWord(lower string, ws []string) bool {
	for _, w := range ws {
		if hasWord(lower, w) {
			return true
		}
	}
	return false
}

// endsWithWord reports whether lower (trimmed) ends with one of ws as a word.
func endsWithWord(lower string, ws []string) string {
	t := strings.TrimRight(lower, " ,")
	for _, w := range ws {
		if strings.HasSuffix(t, w) && boundaryBefore(t, len(t)-len(w)) {
			return w
		}
	}
	return ""
}

// signedDeal reports words that say an agreement was signed, and of a kind
// that binds: "signed a non-binding letter of intent" stays a hedge.
func signedDeal(c string) bool {
	lx := lex()
	return anyWord(c, lx.SignedWords) && !anyWord(c, lx.NonBinding)
}

// spacelessScript reports text in a script whose words are not set off by
// spaces or may carry particles (Chinese, Japanese kana, Korean): names and
// words there are matched as substrings.
func spacelessScript(s string) bool {
	for _, r := range s {
		if isCJKRune(r) || unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) {
			return true
		}
	}
	return false
}
