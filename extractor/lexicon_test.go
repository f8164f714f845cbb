package extractor

import (
	"strings"
	"testing"
)

// Every example in data/lexicon.yaml is a test: its list must find its match
// in its sentence, as a whole word.
func TestLexiconExamples(t *testing.T) {
	l := lex()
	lists := l.Lists()
	if len(l.Examples) == 0 {
		t.Fatal("the lexicon has no examples")
	}
	for _, ex := range l.Examples {
		t.Run(ex.List+"/"+ex.Match, func(t *testing.T) {
			found := false
			for _, w := range lists[ex.List] {
				if w == ex.Match {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s does not list %q", ex.List, ex.Match)
			}
			if !hasWord(strings.ToLower(ex.Text), ex.Match) {
				t.Fatalf("%q is not found as a word in %q", ex.Match, ex.Text)
			}
		})
	}
}

func TestLoadLexiconRejects(t *testing.T) {
	full := string(lexiconYAML)
	for _, tc := range []struct{ name, yaml, errContains string }{
		{"upper case", strings.Replace(full, "  - leases\n", "  - Leases\n", 1), "lower-case"},
		{"duplicate", strings.Replace(full, "  - leases\n", "  - lease\n", 1), "twice"},
		{"unknown key", "deal_wordz: [lease]", "deal_wordz"},
		{"missing list", "deal_words: [lease]", "missing or empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadLexicon([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("got %v, want an error containing %q", err, tc.errContains)
			}
		})
	}
}

// Whole words only: "accord" is not in "according", "signed" not in "designed".
func TestHasWordBoundaries(t *testing.T) {
	for _, tc := range []struct {
		text, w string
		want    bool
	}{
		{"according to the filing", "accord", false},
		{"a purpose-designed hall", "signed", false},
		{"the lease was signed monday", "signed", true},
		{"双方签署了租约", "租约", true},
		{"zehnjahresvertrag", "vertrag", false},
	} {
		if got := hasWord(tc.text, tc.w); got != tc.want {
			t.Errorf("hasWord(%q, %q) = %v, want %v", tc.text, tc.w, got, tc.want)
		}
	}
}
