package backfill

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// DefaultKeywords are the words a page about compute-infrastructure deals
// almost always has, in the languages the extractor reads (English, German,
// the Romance languages, Russian, Arabic, Vietnamese, Chinese, Japanese,
// Korean). Latin-script keywords match whole words ignoring ASCII case ("MW"
// matches "300MW" and "300 MW" but not "MWh" or "mwanza"); others match as
// byte strings, in UTF-8 and in the legacy charsets of their script.
var DefaultKeywords = []string{
	// capacity
	"MW", "GW", "megawatt", "megawatts", "gigawatt", "gigawatts",
	"mégawatt", "mégawatts", "m&eacute;gawatt", "megavatio", "megavatios", "gigavatio", "megawattů",
	"мегаватт", "гигаватт", "МВт", "ГВт",
	"ميغاواط", "جيجاواط", "ميجاوات",
	"兆瓦", "吉瓦", "千兆瓦", "メガワット", "ギガワット", "메가와트", "기가와트",
	// the business
	"colocation", "co-location", "hyperscaler", "hyperscalers", "hyperscale",
	"HPC", "AI cloud", "GPU cloud", "AI factory", "neocloud",
	"data center", "data centre", "data centers", "data centres", "datacenter", "datacenters", "datacentre",
	"Rechenzentrum", "Rechenzentren", "centre de données", "centres de données", "centro de datos", "centros de datos",
	"centro de dados", "centri dati", "trung tâm dữ liệu", "центр обработки данных", "дата-центр", "ЦОД",
	"مركز بيانات", "مراكز البيانات",
	"数据中心", "數據中心", "資料中心", "智算中心", "算力", "データセンター", "데이터센터", "데이터 센터",
}

// legacy are the charsets a page in a keyword's script may be written in.
var legacy = []encoding.Encoding{
	charmap.Windows1252, charmap.Windows1251, charmap.KOI8R, charmap.Windows1256, charmap.Windows1258,
	japanese.ShiftJIS, japanese.EUCJP, simplifiedchinese.GBK, traditionalchinese.Big5, korean.EUCKR,
}

// fold lower-cases ASCII letters and leaves every other byte alone.
var fold = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return
}()

// Prefilter finds keywords in raw page bytes in one pass (an Aho-Corasick
// automaton over ASCII-folded bytes: one table lookup per byte), before any
// HTML parsing or charset decoding. It is safe for concurrent use.
type Prefilter struct {
	next     []uint16 // state<<8 | byte → state
	firstOut uint16   // states from here on end at least one pattern
	outs     [][]int  // (state - firstOut) → patterns ending there
	pats     []pattern
}

type pattern struct {
	b       []byte
	keyword string
	word    bool // ASCII only: must not touch a letter on either side
}

// NewPrefilter builds the automaton of keywords (DefaultKeywords when none).
func NewPrefilter(keywords []string) (*Prefilter, error) {
	if len(keywords) == 0 {
		keywords = DefaultKeywords
	}
	var pats []pattern
	seen := map[string]bool{}
	add := func(b []byte, kw string, word bool) {
		for i := range b {
			b[i] = fold[b[i]]
		}
		if len(b) == 0 || seen[string(b)] {
			return
		}
		seen[string(b)] = true
		pats = append(pats, pattern{b: b, keyword: kw, word: word})
	}
	for _, kw := range keywords {
		kw = strings.TrimSpace(kw)
		if kw == "" {
			continue
		}
		if len(kw) > 200 {
			return nil, fmt.Errorf("keyword %.20q…: longer than 200 bytes", kw)
		}
		ascii := isASCII(kw)
		add([]byte(kw), kw, ascii && isLetter(kw[0]) || ascii && isLetter(kw[len(kw)-1]))
		if ascii {
			continue
		}
		add([]byte(strings.ToLower(kw)), kw, false)
		for _, enc := range legacy {
			for _, v := range []string{kw, strings.ToLower(kw)} {
				if s, err := enc.NewEncoder().String(v); err == nil && s != v {
					add([]byte(s), kw, false)
				}
			}
		}
	}
	if len(pats) == 0 {
		return nil, fmt.Errorf("no keywords")
	}
	return build(pats)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { c = fold[c]; return c >= 'a' && c <= 'z' }

func build(pats []pattern) (*Prefilter, error) {
	type node struct {
		child [256]int32
		fail  int32
		outs  []int
	}
	nodes := []*node{{}}
	for pi, p := range pats {
		s := int32(0)
		for _, c := range p.b {
			if nodes[s].child[c] == 0 {
				nodes = append(nodes, &node{})
				nodes[s].child[c] = int32(len(nodes) - 1)
			}
			s = nodes[s].child[c]
		}
		nodes[s].outs = append(nodes[s].outs, pi)
	}
	if len(nodes) > 1<<16 {
		return nil, fmt.Errorf("keywords too many or too long (%d automaton states, at most 65536)", len(nodes))
	}
	// Breadth first: fail links and the full transition table.
	queue := []int32{}
	for c := range 256 {
		if ch := nodes[0].child[c]; ch != 0 {
			queue = append(queue, ch)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		n := nodes[s]
		n.outs = append(n.outs, nodes[n.fail].outs...)
		for c := range 256 {
			ch := n.child[c]
			if ch == 0 {
				n.child[c] = nodes[n.fail].child[c]
				continue
			}
			nodes[ch].fail = nodes[n.fail].child[c]
			queue = append(queue, ch)
		}
	}
	// Number the states that end a pattern last, so that the scan tests one
	// comparison per byte.
	order := make([]int, len(nodes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ha, hb := len(nodes[a].outs) > 0, len(nodes[b].outs) > 0
		switch {
		case ha == hb:
			return 0
		case hb:
			return -1
		}
		return 1
	})
	id := make([]uint16, len(nodes))
	for newID, old := range order {
		id[old] = uint16(newID)
	}
	p := &Prefilter{next: make([]uint16, len(nodes)<<8), pats: pats, firstOut: uint16(len(nodes))}
	for newID, old := range order {
		n := nodes[old]
		for c := range 256 {
			// Upper-case ASCII goes where its lower case goes: the scan
			// needs no folding of its own.
			p.next[newID<<8|c] = id[n.child[fold[c]]]
		}
		if len(n.outs) > 0 {
			if uint16(newID) < p.firstOut {
				p.firstOut = uint16(newID)
			}
			p.outs = append(p.outs, n.outs)
		}
	}
	return p, nil
}

// Match returns the first keyword found in b.
func (p *Prefilter) Match(b []byte) (string, bool) {
	next, first := p.next, p.firstOut
	s := uint16(0)
	for i, c := range b {
		s = next[int(s)<<8|int(c)]
		if s < first {
			continue
		}
		for _, pi := range p.outs[s-first] {
			pt := &p.pats[pi]
			if !pt.word {
				return pt.keyword, true
			}
			start := i + 1 - len(pt.b)
			if (start == 0 || !isLetter(b[start-1])) && (i+1 == len(b) || !isLetter(b[i+1])) {
				return pt.keyword, true
			}
		}
	}
	return "", false
}
