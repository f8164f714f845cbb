package extractor

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"gopkg.in/neurosnap/sentences.v1"
	"gopkg.in/neurosnap/sentences.v1/english"
)

// Sentence is one sentence of the body with the index of the block it came from.
type Sentence struct {
	Text  string
	Block int
	Kind  string // kind of the block: "p", "h", "li", "tr"
	// Cells and Header of a table row.
	Cells, Header []string
}

var (
	punktOnce sync.Once
	punkt     *sentences.DefaultSentenceTokenizer
	punktErr  error
)

func punktTokenizer() (*sentences.DefaultSentenceTokenizer, error) {
	punktOnce.Do(func() { punkt, punktErr = english.NewSentenceTokenizer(nil) })
	return punkt, punktErr
}

// splitSentences splits each block on its own (Punkt would merge across blank
// lines and bullets), using Punkt for Latin-script text and the full-width stops
// for Chinese. Headings and table rows stay whole.
func splitSentences(blocks []Block) ([]Sentence, error) {
	tok, err := punktTokenizer()
	if err != nil {
		return nil, err
	}
	var out []Sentence
	for i, b := range blocks {
		if b.Kind == "h" || b.Kind == "tr" || len(b.Text) < 40 {
			out = append(out, Sentence{Text: b.Text, Block: i, Kind: b.Kind, Cells: b.Cells, Header: b.Header})
			continue
		}
		for _, part := range splitCJK(unglue(b.Text)) {
			if hasCJK(part) && !strings.Contains(part, ". ") {
				out = append(out, Sentence{Text: part, Block: i, Kind: b.Kind})
				continue
			}
			for _, s := range tok.Tokenize(part) {
				if t := strings.TrimSpace(s.Text); t != "" {
					out = append(out, Sentence{Text: t, Block: i, Kind: b.Kind})
				}
			}
		}
	}
	return mergeBrokenSentences(out), nil
}

// unglue puts back the space that scraping or machine translation lost after
// a full stop ("… with Lumen.The deal …", "Compute.L’accord"): a stop after
// two lower-case letters and before a capital that starts a word in lower
// case. Domains ("amazon.com") and abbreviations ("U.S.", "Node.JS") stay.
func unglue(s string) string {
	var b strings.Builder
	last := 0
	for i := 2; i+2 < len(s); i++ {
		if s[i] != '.' {
			continue
		}
		p1, w1 := utf8.DecodeLastRuneInString(s[:i])
		p2, _ := utf8.DecodeLastRuneInString(s[:i-w1]) // (the width read, not RuneLen: invalid bytes are one byte wide)
		n1, w := utf8.DecodeRuneInString(s[i+1:])
		n2, _ := utf8.DecodeRuneInString(s[i+1+w:])
		if unicode.IsLower(p1) && unicode.IsLower(p2) && unicode.IsUpper(n1) && (unicode.IsLower(n2) || n2 == '’' || n2 == '\'') {
			b.WriteString(s[last : i+1])
			b.WriteByte(' ')
			last = i + 1
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// splitCJK cuts after the Chinese full stops 。！？ (and ；).
func splitCJK(s string) []string {
	if !strings.ContainsAny(s, "。！？；") {
		return []string{s}
	}
	var out []string
	start := 0
	for i, r := range s {
		if r == '。' || r == '！' || r == '？' || r == '；' {
			end := i + len(string(r))
			if t := strings.TrimSpace(s[start:end]); t != "" {
				out = append(out, t)
			}
			start = end
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// mergeBrokenSentences rejoins pieces Punkt cut after abbreviations it does not
// know ("approx.", "Corp.", "Inc.", "No.") when the next piece starts lower-case
// or with a digit.
func mergeBrokenSentences(ss []Sentence) []Sentence {
	out := ss[:0]
	for _, s := range ss {
		if n := len(out); n > 0 && out[n-1].Block == s.Block && s.Kind != "h" && continues(out[n-1].Text, s.Text) {
			out[n-1].Text += " " + s.Text
			continue
		}
		out = append(out, s)
	}
	return out
}

var abbreviations = []string{"approx.", "corp.", "inc.", "ltd.", "co.", "no.", "vs.", "u.s.", "dr.", "mr.", "ms.", "st.", "jan.", "feb.", "aug.", "sept.", "oct.", "nov.", "dec.", "est.", "e.g.", "i.e.", "p.m.", "a.m.",
	"mrd.", "mio.", "bio.", "tsd.", "mln.", "mld.", "bzw.", "inkl.", "млрд.", "млн.", "тыс."}

func continues(prev, next string) bool {
	if next == "" {
		return false
	}
	c := next[0]
	if c >= 'a' && c <= 'z' {
		return true
	}
	lp := strings.ToLower(prev)
	for _, a := range abbreviations {
		if strings.HasSuffix(lp, " "+a) || lp == a {
			// "… Hut 8 Corp. The company …" is a real break: only merge when what
			// follows is not a new sentence starter.
			return !startsSentence(next)
		}
	}
	return false
}

func startsSentence(s string) bool {
	for _, w := range []string{"The ", "This ", "It ", "In ", "On ", "A ", "An ", "We ", "Its ", "Under ", "At ", "As ", "According "} {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}
