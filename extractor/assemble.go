package extractor

import (
	"context"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/mwledger/mwledger/schemas"
)

// assemble: deal frames from the sentences that name a deal (who provides,
// who takes), then each frame's figures chosen across the document — before
// and after the deal sentence, across headings and lists — by scoring every
// candidate, not by taking the first.

// frame is one deal being assembled.
type frame struct {
	d         *draft
	anchor    int // index of the sentence that named the deal
	op, cp    pmention
	seg       [2]int   // the part of the anchor sentence that is this deal's (several deals in one sentence)
	shared    bool     // the anchor sentence holds several deals
	extra     [][2]int // more parts of the anchor sentence that are this deal's too ("… respectively", ", both for ten years")
	scores    map[string]float64
	aggregate bool
	titleDeal bool
	orphan    bool // no customer named near it: it joins another deal of its operator
	signed    bool // its sentence says the operator signed it ("has signed a lease for 180 MW")
	own       bool // its value or capacity was read in its own sentence
}

// roleScores returns how much the words around a party make it the provider
// and the customer of the deal in its sentence (the syntax only; tierOf adds
// what the company usually is).
func roleScores(s *sent, i int) (prov, cust float64) {
	p := s.parties[i]
	lx := lex()
	if p.e == nil { // an undisclosed party is always the customer
		return 0, 3
	}
	switch introClass(p.intro) {
	case "developer", "operator", "miner", "owner", "provider", "landlord":
		prov += 1
	case "customer", "tenant", "client", "lab", "labs", "startup", "start-up", "hyperscaler":
		cust += 1
	}
	after := s.lower[p.end:]
	before := strings.ToLower(lastRunes(s.Text[:p.start], 30))
	if strings.HasPrefix(after, "'s") || strings.HasPrefix(after, "’s") {
		// "at Redwater's campus", "Redwater's Ohio site"
		// the possessed noun directly after the name, perhaps behind a place
		// name: "Redwater's Ohio campus", not "Orbitra's commitment at the campus"
		own := firstBytes(after, 60)
		if i := strings.IndexAny(own, ",;"); i >= 0 {
			own = own[:i]
		}
		if ws := strings.Fields(own); len(ws) > 0 {
			// "Crusoe's 900 MW data center": the size is not the noun
			var head []string
			for _, w := range ws[1:] {
				if !isNumberish(w) && !anyWord(w, []string{"mw", "gw", "megawatt", "megawatts", "gigawatt", "gigawatts", "-megawatt"}) {
					head = append(head, w)
				}
			}
			for k, w := range head {
				if k >= 4 || hasStopword(w) {
					head = head[:k]
					break
				}
			}
			// "OpenAI's largest cloud infrastructure partner": the noun the
			// phrase ends in is another company, not the possessor's facility.
			if anyWord(strings.Join(head, " "), lx.ProviderPossessions) && !anyWord(strings.Join(head, " "), []string{"partner", "partners", "customer", "customers", "client", "clients", "tenant", "tenants", "supplier", "suppliers", "provider", "providers", "investor", "backer", "rival", "rivals"}) {
				prov += 2
			}
		}
	}
	if w := endsWithWord(before, lx.ProviderBefore); w != "" {
		from := 0
		if i > 0 {
			from = s.parties[i-1].end
		}
		if w == "from" && endsWithWord(strings.TrimSuffix(strings.TrimRight(before, " "), "from"), []string{"revenue", "revenues", "income", "payments", "rent", "fees", "sales"}) != "" {
			cust += 2 // "hosting revenue from Lumen": who pays is the customer
		} else if w == "from" && !anyWord(lastRunes(strings.TrimSuffix(strings.TrimRight(before, " "), "from"), 40), fromGoods) {
			// "demand from Lumen", "support from Orbitra": not a supplier
		} else if w == "from" && anyWord(s.lower[max(from, p.start-80):p.start], []string{"won", "wins", "secured", "secures", "landed", "lands", "received", "receives", "bagged", "awarded"}) {
			cust += 2 // "won a contract from Lumen": the one who awards it is the customer
		} else {
			prov += 2
		}
	}
	// "to AI cloud firm Orbitra": the words that describe the name do
	// not hide the preposition before them.
	if m := reDescribed.FindStringSubmatch(before); m != nil {
		before = m[1]
	}
	if w := endsWithWord(before, lx.CustomerBefore); w != "" {
		if w == "to" || w == "for" || len(w) <= 3 {
			// "agreed to X" is not "lease to X": before "to" (or "a", "aan",
			// "til") must come a figure, a deal word or a verb of providing.
			prev := lastRunes(strings.TrimSuffix(strings.TrimRight(before, " "), w), 30)
			// ("a $23 billion commitment to Nscale": English "to" after other
			// deal words leads to the provider.)
			if anyWord(prev, []string{"mw", "gw", "megawatts", "capacity", "lease", "leased", "leasing", "space", "gpus", "compute", "services", "contract", "agreement", "deal", "provide", "deliver", "supply", "sell", "sold", "rent", "host", "campus", "halls", "site", "building"}) ||
				w != "to" && w != "for" && (anyWord(prev, lx.ProviderVerbs) || hasDealWord(prev)) {
				cust += 2
			}
		} else {
			cust += 2
		}
	}
	// "CoreWeave will serve as anchor tenant": the role said outright
	if containsAny(cutClause(firstBytes(after, 40)), []string{"as anchor tenant", "as the anchor tenant", "as an anchor tenant", "as tenant", "as a tenant", "as the tenant", "as anchor customer", "as the anchor customer"}) {
		cust += 2
	}
	// The subject's verb: what it does before the next party.
	if i == 0 {
		next := len(s.lower)
		if len(s.parties) > 1 {
			next = s.parties[1].start
		}
		mid := s.lower[p.end:next]
		if anyWord(mid, lx.ProviderVerbs) {
			prov += 2
		}
		if anyWord(mid, lx.CustomerVerbs) {
			cust += 2
		}
		// "Marigold leases part of its campus to Tessellate": leasing to the
		// next party makes the subject the landlord
		if len(s.parties) > 1 && anyWord(mid, []string{"leases", "leased", "will lease", "to lease", "subleases", "sublets", "lets"}) && endsWithWord(strings.TrimRight(mid, " "), []string{"to"}) != "" {
			prov += 2
		}
	}
	return prov, cust
}

// fromGoods are what one takes from a provider: "capacity from X", "leases
// from X", "GPUs from X".
var fromGoods = []string{"capacity", "compute", "computing", "power", "space", "gpus", "gpu", "servers", "cloud", "lease", "leases", "leasing", "rent", "rents", "renting", "buy", "buys", "buying", "purchase", "purchases", "mw", "megawatts", "gw", "infrastructure", "services", "access", "contract", "deal", "agreement", "hosting"}

// reDescribed cuts a short lower-case description off the words before a name
// ("… to ai cloud firm ") when a preposition precedes it.
var reDescribed = regexp.MustCompile(`^(.*\b(?:to|for|with|from|by))\s+(?:[a-z][a-z.\-]*\s+){1,4}$`)

// tierOf is where a party sits in the supply chain (entities.yaml kind), for
// an open-world company read from the noun that introduced it.
func tierOf(p pmention) float64 {
	if p.e == nil {
		return -1
	}
	if p.open {
		switch introClass(p.intro) {
		case "developer", "operator", "miner", "owner", "landlord":
			return 3
		case "neocloud", "provider":
			return 2
		case "lab", "labs", "startup", "start-up", "customer", "tenant", "client":
			return 0
		}
		// Korean names end in the same words, without a space ("한울랩스").
		for _, k := range []struct {
			suf  []string
			tier float64
		}{{[]string{"랩스", "랩"}, 0.5}, {[]string{"데이터센터", "데이터", "인프라", "에너지", "파워"}, 3}, {[]string{"클라우드", "컴퓨트", "컴퓨팅"}, 2}} {
			if p.e.Name != "" && hasAnySuffix(p.e.Name, k.suf) && !strings.Contains(p.e.Name, " ") && unicode.Is(unicode.Hangul, []rune(p.e.Name)[0]) {
				return k.tier
			}
		}
		// No introducing noun: the name's last word says what the company
		// does ("Meeuw AI" builds models, "Skarvheim Datasenter" owns halls,
		// "Brattli Compute" rents GPUs to labs and halls from operators).
		if ws := strings.Fields(strings.ToLower(p.e.Name)); len(ws) > 1 {
			switch ws[len(ws)-1] {
			case "ai", "ki", "ia", "labs", "lab", "intelligence", "research":
				return 0.5
			case "cloud", "compute", "computing", "gpu":
				return 2
			case "datacenters", "datacenter", "datasenter", "datacentre", "datacampus", "centers", "centres", "datos", "dados", "calcolo", "numérique", "infrastructure", "digital":
				return 3
			}
		}
	}
	return p.e.tier()
}

// introClass is the English class of a noun that introduced a company name in
// another language ("Betreiber", "opérateur" are operators; "Anbieter",
// "leverandør" providers; "laboratoire" a lab).
func introClass(intro string) string {
	switch intro {
	case "betreiber", "rechenzentrumsbetreiber", "exploitant", "opérateur", "operador", "operadora", "operatore":
		return "operator"
	case "anbieter", "aanbieder", "leverandør", "fournisseur", "proveedor", "proveedora", "fornitore", "fornecedor", "fornecedora":
		return "provider"
	case "laboratoire":
		return "lab"
	}
	return intro
}

// pairScore is how well "a provides to b" fits the sentence.
func pairScore(s *sent, a, b int) float64 {
	pa, ca := roleScores(s, a)
	pb, cb := roleScores(s, b)
	d := tierOf(s.parties[a]) - tierOf(s.parties[b])
	// The supply chain tells the direction, not which two of the named
	// companies made the deal: a miner's customer is not the lab behind it.
	d = math.Max(-1, math.Min(1, d))
	sc := 0.8*d + (pa - ca) + (cb - pb)
	if a == 0 && math.Abs(d) < 0.3 && s.parties[a].open {
		// A company the gazetteer does not know as the subject, beside one of
		// the same tier, and no word for who provides: news of a capacity
		// deal is mostly written by and about the provider, its subject.
		// (Two known companies of one kind are rivals.)
		sc += 0.6
	}
	return sc
}

// allCoordinated reports a sentence whose named companies form one list,
// each with its own figures ("up to $6.1 billion with Orbitra, over $2
// billion with Lumen").
func allCoordinated(s *sent) bool {
	for i := 0; i+1 < len(s.parties); i++ {
		mid := s.lower[s.parties[i].end:s.parties[i+1].start]
		if !strings.Contains(mid, ",") && !strings.Contains(mid, " and ") && !strings.Contains(mid, ";") {
			return false
		}
	}
	return true
}

// coordinated reports two parties joined as a list ("Orbitra, Lumen and
// QuillNet"): they stand on the same side of the deals, never on both.
func coordinated(s *sent, a, b int) bool {
	if a > b {
		a, b = b, a
	}
	// "a contract between Redwater and Lumen", "Redwater 和 Lumen 之间的协议":
	// the two sides of one deal.
	if endsWithWord(lastRunes(s.lower[:s.parties[a].start], 12), []string{"between", "zwischen", "entre", "tra", "tussen", "mellom", "между"}) != "" ||
		hasAnyPrefix(strings.TrimLeft(s.lower[s.parties[b].end:], " "), []string{"之间", "之間", "간의", "사이", "の間"}) {
		return false
	}
	return isCoordination(s.lower[s.parties[a].end:s.parties[b].start])
}

// framesOf makes the deal frames of an anchor sentence.
func framesOf(s *sent, main, topic, lord *Entity) []*frame {
	one := func(op, cp pmention) []*frame {
		return []*frame{{op: op, cp: cp, anchor: s.idx, seg: [2]int{0, len(s.Text)}}}
	}
	none := pmention{start: -1, end: -1}
	mainP := pmention{e: main, start: -1, end: -1}
	if main != nil {
		mainP.open = main.Role == ""
	}
	ps := s.parties
	figures := distinctFigures(s)
	// "$1.4 trillion in commitments through deals with Nvidia, Broadcom,
	// Oracle and the major clouds": one sum over a list of companies.
	if len(ps) >= 3 && !figures && len(s.money) > 0 && coordinated(s, len(ps)-3, len(ps)-2) && coordinated(s, len(ps)-2, len(ps)-1) && !pairSubject(s) {
		return nil
	}
	switch len(ps) {
	case 0:
		return nil
	case 1:
		p := ps[0]
		pr, cu := roleScores(s, 0)
		// "CoreWeave will serve as anchor tenant" on a page mostly about
		// CoreWeave: the landlord is the provider-side company named last
		// before it
		if p.e != nil && p.e == main && cu > pr {
			if lord != nil && lord != p.e {
				return one(pmention{e: lord, start: -1, end: -1, open: lord.Role == ""}, p)
			}
		}
		if p.e == nil || p.e == main {
			if p.e == main {
				return one(p, none)
			}
			if main == nil {
				return nil
			}
			return one(mainP, p)
		}
		// The page's company provides when it sits higher in the supply chain
		// than the one named, or the words make the one named a customer.
		if main != nil && main != p.e && tierOf(mainP)+cu-pr > tierOf(p) {
			return one(mainP, p)
		}
		// "The company signed a lease … with QuillNet": the one name after "with"
		// is the other side of the page's company.
		if main != nil && main != p.e && endsWithWord(strings.ToLower(lastRunes(s.Text[:p.start], 12)), []string{"with"}) != "" && tierOf(p) <= tierOf(mainP)+0.5 {
			return one(mainP, p)
		}
		return one(p, none)
	}
	// A list of deals with a party missing from the sentence: "$6.1 billion with
	// Orbitra, over $2 billion with Lumen" in a story about their one customer.
	topicIn := false
	for _, p := range ps {
		if p.e == topic {
			topicIn = true
		}
	}
	// (Not when the sentence opens with its own provider: "Saltcote Data signed
	// a 100 MW contract with A and a 40 MW contract with B".)
	subjectLed := ps[0].e != nil && strings.TrimSpace(s.lower[:max(ps[0].start, 0)]) == "" && hasAnyPrefix(strings.TrimLeft(s.lower[ps[0].end:], " "), dealSubjectVerbs)
	if figures && topic != nil && !topicIn && len(ps) >= 2 && allCoordinated(s) && !subjectLed {
		mainP = pmention{e: topic, start: -1, end: -1}
		var fs []*frame
		idx := make([]int, len(ps))
		for i := range ps {
			idx[i] = i
		}
		for _, f := range listFrames(s, pmention{}, idx) {
			if f.cp.e != nil && tierOf(f.cp) > tierOf(mainP) {
				f.op, f.cp = f.cp, mainP
			} else {
				f.op = mainP
			}
			fs = append(fs, f)
		}
		return fs
	}
	// The best provider/customer pair of the sentence.
	ba, bb, best := -1, -1, math.Inf(-1)
	for a := range ps {
		if ps[a].e == nil || ps[a].e.Kind == "chipmaker" {
			continue // chipmakers sell chips, not capacity
		}
		for b := range ps {
			if a == b || ps[b].e != nil && ps[b].e == ps[a].e || coordinated(s, a, b) && !pairSubject(s) {
				continue
			}
			if ps[b].e == nil && ps[a].e.Kind == "lab" {
				continue // an AI lab buys capacity; it does not lease it to an unnamed tenant
			}
			if sc := pairScore(s, a, b); sc > best {
				ba, bb, best = a, b, sc
			}
		}
	}
	// Neither the words nor the supply chain say who provides (two neoclouds
	// listed together, a chip supply between a lab and a chipmaker): no deal.
	if ba < 0 || best < 0.5 {
		return nil
	}
	// Other customers of the same provider with figures of their own: a list.
	custs := []int{bb}
	for c := range ps {
		if c == ba || c == bb || ps[c].e == nil || ps[c].e == ps[ba].e {
			continue
		}
		// (an undisclosed customer's certain role does not outrank a named
		// one listed beside it: "$1.6B with A and $0.6B with an unnamed client")
		if sc := pairScore(s, ba, c); sc >= best-0.5 || ps[bb].e == nil && figures && sc >= 0.5 {
			custs = append(custs, c)
		}
	}
	if len(custs) > 1 && figures {
		sort.Ints(custs)
		return listFrames(s, ps[ba], custs)
	}
	return one(ps[ba], ps[bb])
}

// distinctFigures reports a sentence with two different amounts or two
// different capacities (the same "900 MW" said twice is one figure).
func distinctFigures(s *sent) bool {
	for i := 1; i < len(s.money); i++ {
		if s.money[i].Value != s.money[0].Value {
			return true
		}
	}
	for i := 1; i < len(s.caps); i++ {
		if s.caps[i].MW != s.caps[0].MW {
			return true
		}
	}
	return false
}

// pairSubject reports a sentence whose subject is its two companies ("Nscale
// and Microsoft have entered into a commitment"): the two sides of its deal.
func pairSubject(s *sent) bool {
	n := len(s.parties)
	if n < 2 || n > 3 {
		return false
	}
	// at the start, or after a short lead-in ("In Chicago, A and B will …")
	// or a dateline ("ODESSA, Texas, April 14 (Wire) - A and B have …")
	lead := strings.TrimSpace(s.lower[:max(s.parties[0].start, 0)])
	if i := strings.LastIndexAny(lead, "-—–"); i >= 0 && i == len(lead)-len(string([]rune(lead[i:])[0])) {
		lead = ""
	}
	if len(lead) > 4 && !(len(lead) <= 30 && strings.HasSuffix(lead, ",")) {
		return false
	}
	// "Microsoft, Nscale and Aker have inked": the subject lists every party
	for i := 1; i < n-1; i++ {
		if !isCoordination(s.lower[s.parties[i-1].end:s.parties[i].start]) {
			return false
		}
	}
	rest := strings.TrimLeft(s.lower[s.parties[n-1].end:], " ")
	// "Aker ASA have inked": the legal form after the name
	if w, after, ok := strings.Cut(rest, " "); ok && lex().legal[strings.Trim(w, ",.")] {
		rest = strings.TrimLeft(after, " ")
	}
	return hasAnyPrefix(rest, []string{"are ", "have ", "has ", "will ", "announced", "signed", "entered", "agreed", "struck", "inked", "said", "today",
		"agree ", "sign ", "ink ", "strike ", "enter ", "seal ", "sealed"}) // headline present tense
}

// listFrames splits a sentence that lists several deals ("$6.1 billion with
// Orbitra, over $2 billion with Lumen", "contracts with A and B worth $1.2
// billion and $0.8 billion respectively").
func listFrames(s *sent, op pmention, custs []int) []*frame {
	var out []*frame
	// ", both running ten years", ", each for 15 years": a closing clause
	// that speaks of every deal of the list
	var tail [][2]int
	if m := reSharedTail.FindStringIndex(s.lower[s.parties[custs[len(custs)-1]].end:]); m != nil {
		tail = [][2]int{{s.parties[custs[len(custs)-1]].end + m[0], len(s.lower)}}
	}
	if strings.Contains(s.lower, "respectively") && len(s.money) >= len(custs) {
		for k, i := range custs {
			m := s.money[len(s.money)-len(custs)+k]
			extra := slices.Clone(tail)
			if len(s.caps) >= len(custs) { // "for 110 MW and 170 MW respectively"
				c := s.caps[len(s.caps)-len(custs)+k]
				extra = append(extra, [2]int{c.Start, c.End})
			}
			out = append(out, &frame{op: op, cp: s.parties[i], anchor: s.idx, seg: [2]int{m.Start, m.End}, shared: true, extra: extra})
		}
		return out
	}
	// Do the figures come before their party ("$2 billion with Lumen") or after?
	firstFig := len(s.Text)
	for _, m := range s.money {
		firstFig = min(firstFig, m.Start)
	}
	for _, c := range s.caps {
		firstFig = min(firstFig, c.Start)
	}
	before := firstFig < s.parties[custs[0]].start
	for k, i := range custs {
		p := s.parties[i]
		var seg [2]int
		if before {
			seg[0] = 0
			if k > 0 {
				seg[0] = s.parties[custs[k-1]].end
			}
			seg[1] = p.end
			if k == len(custs)-1 {
				// the rest of the sentence belongs to the last deal only up to its clause end
				_, e := clauseAt(s.lower, p.end-1)
				seg[1] = max(p.end, e)
			}
		} else {
			seg[0] = p.start
			seg[1] = len(s.Text)
			if k+1 < len(custs) {
				seg[1] = s.parties[custs[k+1]].start
			}
		}
		out = append(out, &frame{op: op, cp: p, anchor: s.idx, seg: seg, shared: true, extra: tail})
	}
	return out
}

// reSharedTail opens a closing clause about every deal of a list.
var reSharedTail = regexp.MustCompile(`(?:,|;|\band)\s+(?:both|each|all|all of them|each of them)\s+(?:for|running|lasting|with|of|at|over|run|runs|last|lasts|to run|under)\b`)

// mentionsParty reports whether a sentence names the entity.
func mentionsParty(s *sent, e *Entity) bool {
	if e == nil {
		return false
	}
	for _, p := range s.parties {
		if p.e == e {
			return true
		}
	}
	for _, m := range s.ents {
		if m.E == e {
			return true
		}
	}
	return false
}

// otherParty reports a sentence that names a company that is not in the frame.
func otherParty(s *sent, f *frame) bool {
	for _, p := range s.parties {
		if p.e != nil && p.e != f.op.e && p.e != f.cp.e {
			return true
		}
	}
	return false
}

// attach chooses the frame's figures from the sentences around its anchor.
func attach(f *frame, ss []*sent, owner map[int]map[string]bool, single bool, notContractMW, notContractUSD, totalUSD map[float64]bool, events map[int]bool) {
	k := f.anchor
	key := f.key()
	lo, hi := max(0, k-3), min(len(ss)-1, k+8)
	if single {
		// The page speaks of one deal: its figures may be further away (bounded,
		// so that time stays linear in the length of the page).
		lo, hi = max(0, k-30), min(len(ss)-1, k+30)
	}
	// A deal the sentence dates in the past ("signed its first 40 MW lease
	// last October", "지난해 10월 … 첫 임대 계약"): a recap gives its own
	// figures; the ones around it are the new deal's.
	if anyWord(ss[k].lower, lex().PastDealCues) && !single {
		lo, hi = k, k
	}
	// Stop at a sentence that names another deal.
	for j := k - 1; j >= lo; j-- {
		if o := owner[j]; o != nil && !o[key] {
			lo = j + 1
			break
		}
		// On a page of several deals, a heading opens the section of the
		// deal after it: figures above it belong to the section before.
		if !single && ss[j].Kind == "h" && !ss[j].title {
			lo = j
			break
		}
		// A sentence about another company's deal: what comes before it is
		// that deal's story ("Harnwick will deliver the halls; Quenby fills
		// them. The first 50 MW is due in 2027. Quenby's own deal with
		// Ostrander …" is read from Ostrander's sentence back to the first).
		if !single && otherParty(ss[j], f) && !mentionsParty(ss[j], f.cp.e) {
			lo = j + 1
			for lo < k && len(ss[lo].parties) == 0 {
				lo++ // the sentences that go on with that story
			}
			break
		}
	}
	for j := k + 1; j <= hi; j++ {
		if o := owner[j]; o != nil && !o[key] || !single && ss[j].Kind == "h" && !ss[j].title {
			hi = j - 1 // another deal's sentence, or the next section's heading
			break
		}
	}
	type cand struct {
		score float64
		j     int
		pos   int
	}
	best := map[string]cand{}
	var picked struct {
		value, prepay, guarantee Money
		cap                      Capacity
		term                     Term
		price                    UnitPrice
	}
	pickedSoft := false
	offer := func(field string, c cand) bool {
		b, ok := best[field]
		if ok && (b.score > c.score || b.score == c.score && (b.j < c.j || b.j == c.j && b.pos <= c.pos)) {
			return false
		}
		best[field] = c
		return true
	}
	visit := func(j int) {
		s := ss[j]
		dist := float64(j - k)
		if j < k {
			dist = -dist * 1.5
		}
		if s.title {
			dist = 1.5
		}
		base := 10 - 1.5*min(dist, 4) - 0.3*dist
		if s.vendor || j != k && events[j] || s.totals {
			return
		}
		if j == k {
			base += 3
		}
		if j != k {
			if mentionsParty(s, f.cp.e) || mentionsParty(s, f.op.e) && f.op.start >= 0 {
				base += 2
			}
			if otherParty(s, f) && !mentionsParty(s, f.cp.e) {
				base -= 6
			}
			if s.title && !(mentionsParty(s, f.op.e) && (f.cp.e == nil || mentionsParty(s, f.cp.e))) {
				return
			}
			// "Nscale will build a Texas data center for Microsoft …
			// Norway deal reportedly ~$6.2B": a sentence about another place
			// tells another deal's figures
			if r, rk := s.regionName(), ss[k].regionName(); r != "" && rk != "" && r != rk && !s.title {
				return
			}
		}
		in := func(pos int) bool {
			if j == k || (f.shared && s.title) {
				if pos >= f.seg[0] && pos < f.seg[1] || !f.shared {
					return true
				}
				for _, e := range f.extra {
					if pos >= e[0] && pos < e[1] {
						return true
					}
				}
				return false
			}
			return true
		}
		if f.shared && j != k && !mentionsParty(s, f.cp.e) {
			return
		}
		fc := s.classes()
		for mi, m := range s.money {
			if !in(m.Start) || overlapsPrice(s.prices, m.Start) {
				continue
			}
			cls := fc.money[mi]
			hedged := fc.moneyHedged[mi]
			switch cls {
			case "value", "total":
				if hedged || cls == "total" && !f.aggregate {
					continue
				}
				if m.Currency != "USD" {
					if f.d.valueNonUSD == nil {
						mm := m
						f.d.valueNonUSD = &mm
						f.d.warnings = append(f.d.warnings, "contract value stated in "+m.Currency+", not converted")
					}
					continue
				}
				if m.Value < 1e6 {
					continue // a share price or a fee, not a contract
				}
				sc := base
				// "The $455 billion backlog: a company total": the headline's
				// "$455 billion" is that total too
				if f.titleDeal && s.title && totalUSD[m.Value] {
					continue
				}
				if notContractUSD[m.Value] {
					if f.titleDeal {
						continue // a headline's amount that the body calls an upside
					}
					sc -= 4 // an upside or a price named elsewhere, repeated without its qualifier
				}
				if m.Bound == "up_to" {
					sc -= 3 // "up to $6.1 billion" with options: the base figure, when given, is the value
				}
				if offer("value", cand{sc, j, m.Start}) {
					picked.value = m
					f.d.setFieldForce(schemas.FieldTotalValueUSD, s.Text)
				}
			case "prepayment":
				if m.Currency == "USD" && offer("prepay", cand{base, j, m.Start}) {
					picked.prepay = m
				}
			case "guarantee":
				if m.Currency == "USD" && offer("guarantee", cand{base, j, m.Start}) {
					picked.guarantee = m
				}
			}
		}
		for ci, c := range s.caps {
			if !in(c.Start) {
				continue
			}
			sc := base
			switch fc.caps[ci] {
			case "reject":
				continue
			case "total":
				if !f.aggregate {
					continue
				}
			case "it":
				sc += 3
			case "soft":
				sc -= 4
			case "site":
				// "to deploy the systems at its 60 MW campus": the site's size,
				// the deal's only when the sentence that names both companies
				// and the deal says nothing better
				if j != k || f.cp.e == nil || !mentionsParty(s, f.op.e) || !mentionsParty(s, f.cp.e) {
					continue
				}
				sc -= 6
			}
			if fc.caps[ci] == "plain" && notContractMW[c.MW] {
				if f.titleDeal {
					continue // a headline's figure that the body qualifies (gross power, a campus)
				}
				sc -= 4 // the "4 GW" of a framework, named again without its qualifier
			}
			if hasDealWord(s.lower) {
				sc += 1.5
			}
			if fc.capsHedged[ci] {
				continue
			}
			if offer("cap", cand{sc, j, c.Start}) {
				picked.cap = c
				pickedSoft = fc.caps[ci] == "soft"
				f.d.setFieldForce(schemas.FieldCapacityMW, s.Text)
			}
		}
		for ti, t := range s.terms {
			if !in(t.Start) || !fc.termOK[ti] || fc.termOfSeveral[ti] && !f.aggregate {
				continue
			}
			if t.Until != 0 {
				if f.d.until == 0 && f.d.term == nil {
					f.d.until = t.Until
				}
				continue
			}
			if offer("term", cand{base, j, t.Start}) {
				picked.term = t
				f.d.setFieldForce(schemas.FieldTermYears, s.Text)
			}
		}
		for _, p := range s.prices {
			if in(p.Start) && offer("price", cand{base, j, p.Start}) {
				picked.price = p
			}
		}
		// Guarantors and end users of the deal.
		if s.usedBy != nil && f.d.endUser == nil && s.usedBy != f.op.e && s.usedBy != f.cp.e && (j == k || mentionsParty(s, f.cp.e)) {
			f.d.endUser = s.usedBy
		}
		for _, m := range s.ents {
			if m.E == f.cp.e || m.E == f.op.e {
				continue
			}
			switch roleOf(s.lower, m) {
			case roleGuarantor:
				if f.d.guarantor == nil {
					f.d.guarantor = m.E
				}
			case roleEndUser:
				if f.d.endUser == nil {
					f.d.endUser = m.E
				}
			}
		}
		if f.d.date == "" && j == k {
			for _, dm := range s.dates {
				f.d.date = dm.Value
				break
			}
		}
		if j == k {
			f.d.addText(s.lower)
		}
	}
	if f.titleDeal {
		visit(k)
	} else {
		for j := lo; j <= hi; j++ {
			visit(j)
		}
		// The headline speaks of the page's main deal.
		if ss[0].title && k != 0 && k <= 6 && !events[0] {
			visit(0)
		}
	}
	const floor = 1.0
	f.scores = map[string]float64{}
	if c, ok := best["value"]; ok && c.score >= floor {
		v := picked.value
		f.d.value = &v
		f.scores["value"] = c.score
		f.own = f.own || c.j == k
	}
	if c, ok := best["cap"]; ok && c.score >= floor {
		v := picked.cap
		f.d.capacity = &v
		f.d.capSoft = pickedSoft
		f.scores["cap"] = c.score
		f.own = f.own || c.j == k
	}
	if c, ok := best["term"]; ok && c.score >= floor {
		v := picked.term
		f.d.term = &v
		f.scores["term"] = c.score
	}
	// Side figures only from close by: a prepayment or a backstop two
	// paragraphs away belongs to someone else's deal.
	const near = 6.0
	if c, ok := best["prepay"]; ok && c.score >= near {
		v := picked.prepay
		f.d.prepayment = &v
	}
	if c, ok := best["guarantee"]; ok && c.score >= near {
		v := picked.guarantee
		f.d.guarantee = &v
	}
	if c, ok := best["price"]; ok && c.score >= near {
		v := picked.price
		f.d.unitPrice = &v
	}
	// The sentences the figures came from are evidence (and where the site,
	// hardware and dates are read).
	for _, field := range []string{"value", "cap", "term", "prepay", "guarantee", "price"} {
		if c, ok := best[field]; ok && c.score >= floor && len(f.d.evidence) < maxEvidence {
			if !containsString(f.d.evidence, ss[c.j].Text) {
				f.d.addText(ss[c.j].lower)
			}
			f.d.addEvidence(ss[c.j].Text)
			if f.d.date == "" && len(ss[c.j].dates) > 0 && hasDealWord(ss[c.j].lower) {
				f.d.date = ss[c.j].dates[0].Value // "signed in March", said where the deal's figures are
			}
		}
	}
}

func (f *frame) key() string {
	if f.cp.e == nil && f.cp.desc != "" {
		return f.op.label() + "|(undisclosed)" // one article, one undisclosed tenant however described
	}
	return f.op.label() + "|" + f.cp.label()
}

// A deal keeps at most this much of its wording and this many evidence
// sentences: a page that repeats one sentence thousands of times must not make
// merging quadratic.
const (
	maxDealText = 16 << 10
	maxEvidence = 12
)

// addText keeps the wording the type and terms are read from, up to maxDealText.
func (d *draft) addText(s string) {
	if d.text.Len() >= maxDealText {
		return
	}
	d.text.WriteString(s)
	d.text.WriteByte(' ')
}

// setFieldForce records the sentence a field was last taken from.
func (d *draft) setFieldForce(field, sentence string) {
	if d.fieldEv == nil {
		d.fieldEv = map[string]string{}
	}
	d.fieldEv[field] = sentence
}

// assemble builds the drafts of a page from its annotated sentences.
func assemble(ctx context.Context, ss []*sent, main, topic *Entity) ([]*draft, error) {
	var frames []*frame
	owner := map[int]map[string]bool{}
	seen := map[string]bool{}
	var last *frame // the deal named last, for the earlier deals listed after it
	for _, s := range ss {
		if !s.anchor {
			if fs := earlierDeals(s, last); len(fs) > 0 && !seen[s.Text] {
				seen[s.Text] = true
				frames = append(frames, fs...)
				continue
			}
			// "- 12-year lease for 90 MW" under "Redwater deal:": a deal line that
			// names no company belongs to the company its heading or paragraph
			// is about, and joins that company's deal.
			if op := headingParty(ss, s, main); op != nil && !seen[s.Text] {
				seen[s.Text] = true
				f := &frame{op: pmention{e: op, start: -1, end: -1}, cp: pmention{start: -1, end: -1}, anchor: s.idx, seg: [2]int{0, len(s.Text)}, orphan: true}
				f.scores = map[string]float64{}
				f.d = &draft{operator: op, block: s.Block, opInferred: true}
				if d := bareCustomer(s.lower); d != "" {
					// "- MSA with a California neocloud for 20 MW": its own customer
					f.cp = pmention{desc: d, start: -1, end: -1}
					f.orphan = false
					f.d.descriptor = d
				}
				f.d.anchorText = s.lower
				frames = append(frames, f)
			}
			continue
		}
		// A sentence repeated word for word (a lede echoed in a summary box, a
		// page that repeats itself) names the same deal again: one frame.
		if seen[s.Text] {
			continue
		}
		seen[s.Text] = true
		for _, f := range splitByAmount(s, framesOf(s, recentProvider(ss, s.idx, main), topic, landlordBefore(ss, s.idx, main))) {
			// "its subsidiary, Enovum Data Centers, signed …": the deal is the
			// parent's, the page's company.
			if f.op.open && main != nil && f.op.e != main && anyWord(f.op.intro, []string{"subsidiary", "unit", "affiliate", "division", "arm"}) &&
				strings.Contains(lastRunes(s.lower[:max(f.op.start, 0)], 30), "its ") {
				f.op = pmention{e: main, start: -1, end: -1}
			}
			// "For OpenAI, the contract means …": a customer's deal named
			// before with its provider, not a deal with the page's company
			if f.op.start < 0 && f.cp.e != nil {
				for i := len(frames) - 1; i >= 0; i-- {
					if o := frames[i]; o.cp.e == f.cp.e && o.op.start >= 0 && o.op.e != nil {
						f.op = o.op
						f.op.start, f.op.end = -1, -1
						break
					}
				}
			}
			if f.op.e == nil || f.cp.e != nil && f.cp.e == f.op.e {
				continue
			}
			if f.cp.e == nil && f.cp.desc == "" {
				// no customer in the sentence: "the contract" of a deal of this
				// operator named before, else the nearest one named just before
				// or after, else the deal joins one of its operator's deals at the end.
				if reThisDeal.MatchString(s.lower) {
					for i := len(frames) - 1; i >= 0; i-- {
						if o := frames[i]; o.op.e == f.op.e && o.cp.e != nil && !o.orphan {
							f.cp = o.cp
							break
						}
					}
				}
				if f.cp.e == nil {
					f.cp = nearbyCustomer(ss, s.idx, f.op.e)
				}
				if f.cp.e == nil && f.cp.desc == "" {
					// "lands $2.8B hyperscaler lease": a customer named by its kind only
					if d := bareCustomer(s.lower); d != "" {
						f.cp = pmention{desc: d, start: -1, end: -1}
					}
				}
				f.orphan = f.cp.e == nil && f.cp.desc == ""
				f.signed = f.orphan && signedCapacityDeal(s.lower)
				if f.cp.e != nil && tierOf(f.cp) > tierOf(f.op)+0.3 {
					// the company named nearby sits higher in the supply chain: it provides
					f.op, f.cp = f.cp, f.op
				}
			}
			// the headline, or its copy at the top of the body
			f.titleDeal = s.title || s.idx > 0 && ss[0].title && s.Text == ss[0].Text
			f.scores = map[string]float64{}
			f.d = &draft{operator: f.op.e, counterparty: f.cp.e, descriptor: f.cp.desc, block: s.Block}
			if f.cp.e == nil {
				f.d.descriptor = f.cp.desc
			}
			f.aggregate = aggregateText(s.lower[f.seg[0]:f.seg[1]])
			f.d.aggregate = f.aggregate
			f.d.anchorText = s.lower[f.seg[0]:f.seg[1]]
			f.d.region = s.regionName()
			f.d.addEvidence(s.Text)
			if et := eventType(s.lower); et != "" && !s.title { // an expansion or amendment of an earlier deal (the body says which)
				f.d.event = &schemas.Event{Type: et}
				f.d.fillEvent(s)
			}
			f.d.opInferred = f.op.start < 0
			frames = append(frames, f)
			if f.cp.e != nil && !f.titleDeal {
				last = f
			}
			if owner[s.idx] == nil {
				owner[s.idx] = map[string]bool{}
			}
			owner[s.idx][f.key()] = true
		}
	}
	// Capacities the page qualifies somewhere as a campus, a pipeline or a
	// framework ("up to 4 GW"): the same number elsewhere is that one again.
	notContractMW, notContractUSD := map[float64]bool{}, map[float64]bool{}
	totalUSD := map[float64]bool{} // amounts the body calls a total (a headline repeating one is no deal's value)
	// An amount a deal sentence states as its value stays a value wherever
	// else the page qualifies the same number.
	// Likewise a capacity that a sentence naming both sides states plainly
	// ("CoreWeave has agreed to lease an additional 150MW from Applied
	// Digital") is not undone by the option it was before or the building
	// planned for it.
	dealValue, dealCap := map[float64]bool{}, map[float64]bool{}
	for _, s := range ss {
		// (a headline and its copy in the body vouch for nothing)
		if s.anchor && !s.title && !(ss[0].title && s.Text == ss[0].Text) {
			for i, m := range s.money {
				if s.classes().money[i] == "value" && !s.classes().moneyHedged[i] {
					dealValue[m.Value] = true
				}
			}
			for i, c := range s.caps {
				if cl := s.classes().caps[i]; (cl == "plain" || cl == "it") && !s.classes().capsHedged[i] && len(s.parties) >= 2 {
					dealCap[c.MW] = true
				}
			}
		}
	}
	for _, s := range ss {
		fc := s.classes()
		for i, m := range s.money {
			if (fc.money[i] == "total" || fc.money[i] == "cumulative") && !s.title && !dealValue[m.Value] {
				totalUSD[m.Value] = true
			}
			if (fc.moneyHedged[i] || fc.money[i] == "equity" || fc.money[i] == "finance" || fc.money[i] == "guarantee") && !dealValue[m.Value] {
				notContractUSD[m.Value] = true
			}
		}
		it := false
		for i := range s.caps {
			it = it || fc.caps[i] == "it"
		}
		for i, c := range s.caps {
			// "39 MW of IT load, supported by 56 MW of gross capacity": the
			// gross figure named again elsewhere is still not the lease's size.
			if fc.caps[i] == "site" || fc.caps[i] == "soft" && (c.Bound == "up_to" || it) || (fc.caps[i] == "reject" || fc.capsHedged[i]) && !dealCap[c.MW] {
				notContractMW[c.MW] = true
			}
		}
	}
	keys := map[string]bool{}
	for _, f := range frames {
		keys[f.key()] = true
	}
	events := map[int]bool{} // sentences that report a change to a deal: their figures are the change's
	for _, f := range frames {
		if f.d.event != nil {
			events[f.anchor] = true
		}
	}
	if len(ss) > 0 && ss[0].title && eventType(ss[0].lower) != "" {
		events[0] = true // a headline that reports a change speaks of the change
	}
	for i, f := range frames {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if f.d.event != nil {
			// A change to an earlier deal: the sentences after it restate or
			// total that deal, read apart from the change's own figures.
			for j := f.anchor + 1; j < len(ss) && j <= f.anchor+4 && ss[j].Block <= ss[f.anchor].Block+1 && ss[j].Kind != "h"; j++ {
				f.d.fillEvent(ss[j])
			}
			continue
		}
		attach(f, ss, owner, len(keys) == 1, notContractMW, notContractUSD, totalUSD, events)
	}
	return mergeFrames(frames), nil
}

// headingParty is the company a deal line without names belongs to: the
// provider-side company of the heading or lead-in line ("Redwater deal:") above
// it, else of the sentence before it in its paragraph. Only lines with a deal
// word and a figure, not hedged, qualify.
func headingParty(ss []*sent, s *sent, main *Entity) *Entity {
	if s.title || len(s.parties) > 0 || s.hedged || s.vendor || len(s.money)+len(s.caps) == 0 || !hasDealWord(s.lower) {
		return nil
	}
	for j := s.idx - 1; j >= 0 && j >= s.idx-8; j-- {
		h := ss[j]
		if h.title {
			break
		}
		// a heading, a lead-in line, or a Markdown heading in scraped text
		lead := h.Kind == "h" || strings.HasSuffix(strings.TrimSpace(h.Text), ":") || strings.HasPrefix(h.Text, "#")
		if !lead {
			continue
		}
		for _, p := range h.parties {
			if p.e != nil && tierOf(p) >= 2 {
				return p.e
			}
		}
		// The nearest heading names no company ("Summary"): the page's own
		// provider, if it is one; else the line is not ours to place.
		if main != nil && len(h.parties) == 0 && main.tier() >= 2 && !bulletOfOthers(ss, s) {
			return main
		}
		return nil
	}
	// No heading: the operator that is the subject of the sentence just before.
	if j := s.idx - 1; j >= 0 && !ss[j].title {
		if ps := ss[j].parties; len(ps) > 0 && ps[0].e != nil && tierOf(ps[0]) >= 2.5 {
			return ps[0].e
		}
	}
	return nil
}

// bulletOfOthers reports a line under a heading whose section names another
// company than the page's: the line may be theirs.
func bulletOfOthers(ss []*sent, s *sent) bool {
	for j := s.idx - 1; j >= 0 && j >= s.idx-8 && ss[j].Kind != "h" && !strings.HasPrefix(ss[j].Text, "#"); j-- {
		if len(ss[j].parties) > 0 {
			return true
		}
	}
	return false
}

// splitByAmount cuts the one deal of a sentence into several when the
// sentence gives several contract values joined as a sequence ("a first
// deal worth $2.2 billion, followed by a $0.9 billion add-on"): each amount is
// a contract of the same two companies.
func splitByAmount(s *sent, fs []*frame) []*frame {
	if len(fs) != 1 || fs[0].shared {
		return fs
	}
	fc := s.classes()
	var vals []Money
	for i, m := range s.money {
		if fc.money[i] == "value" && !fc.moneyHedged[i] && m.Currency == "USD" && m.Value >= 1e6 {
			vals = append(vals, m)
		}
	}
	if len(vals) < 2 {
		return fs
	}
	for i := 1; i < len(vals); i++ {
		mid := s.lower[vals[i-1].End:vals[i].Start]
		if !containsAny(mid, []string{"followed by", "then", " and a ", " and an ", "plus a", "as well as", "; "}) || nearRel(vals[i-1].Value, vals[i].Value, 0.06) {
			return fs
		}
	}
	out := make([]*frame, len(vals))
	for i := range vals {
		f := *fs[0]
		f.shared = true
		f.seg[0] = 0
		if i > 0 {
			f.seg[0] = vals[i-1].End
		}
		f.seg[1] = len(s.Text)
		if i+1 < len(vals) {
			f.seg[1] = vals[i].End
		}
		out[i] = &f
	}
	return out
}

// priorCues mark deals made before the one a page reports.
var priorCues = []string{"prior", "previous", "earlier", "original", "initial lease", "initial agreement", "initial contract", "builds upon", "builds on", "adds to", "first agreement", "first contract", "first deal", "previos", "previo", "anteriores", "anterior", "premier accord", "premier contrat", "précédent", "précédents", "précédemment",
	"primer acuerdo", "primer contrato", "vorherige", "früheren", "frühere", "ersten vertrag", "precedente", "precedenti", "primo accordo", "primo contratto", "primeiro acordo", "primeiro contrato"}

// earlierDeals reads a line that names no company but lists the earlier deals
// of the two companies just named, each with its amount: "two previous
// commitments: one in March for $11.9B and another in May for $4B", "after a
// first agreement of 11.9 billion in March and an amendment of 4 billion in
// May". Each amount is a deal of the same two companies.
func earlierDeals(s *sent, last *frame) []*frame {
	if last == nil || s.title || len(s.parties) > 0 || s.hedged || s.vendor || s.idx-last.anchor > 3 || s.idx <= last.anchor ||
		!hasDealWord(s.lower) || !anyWord(s.lower, priorCues) {
		return nil
	}
	fc := s.classes()
	var out []*frame
	prev := 0
	for i, m := range s.money {
		if fc.money[i] != "value" || fc.moneyHedged[i] || m.Currency != "USD" || m.Value < 1e8 {
			prev = m.End
			continue
		}
		out = append(out, earlierFrame(s, last, prev, m.End))
		prev = m.End
	}
	// "The original ten-year lease, for 150 MW, was signed in 2025": an
	// earlier deal told by its size alone.
	if len(out) == 0 && len(s.money) == 0 {
		for i := range s.caps {
			if c := fc.caps[i]; (c == "plain" || c == "it") && !fc.capsHedged[i] {
				return []*frame{earlierFrame(s, last, 0, len(s.Text))}
			}
		}
	}
	return out
}

// earlierFrame is an earlier deal of last's two companies, read from s[from:to].
func earlierFrame(s *sent, last *frame, from, to int) *frame {
	f := &frame{op: last.op, cp: last.cp, anchor: s.idx, seg: [2]int{from, to}, shared: true}
	f.scores = map[string]float64{}
	f.d = &draft{operator: last.op.e, counterparty: last.cp.e, block: s.Block, opInferred: last.op.start < 0}
	f.d.anchorText = s.lower[from:to]
	f.d.addEvidence(s.Text)
	return f
}

// reSignedDeal is a deal said to be signed: "has signed a colocation lease",
// "entered into a ten-year agreement".
var reSignedDeal = regexp.MustCompile(`\b(?:has|have|had)?\s*(?:signed|executed|entered into)\s+(?:an?|the)\s+(?:[a-z0-9-]+\s+){0,3}?(?:lease|agreement|contract)\b`)

// signedCapacityDeal reports a sentence saying a capacity deal was signed,
// not a power, interconnection, equipment or loan agreement.
func signedCapacityDeal(lower string) bool {
	m := reSignedDeal.FindString(lower)
	return m != "" && !containsAny(lower, []string{"interconnection", "power purchase", "utility", "supply agreement", "purchase agreement", "loan", "credit", "financing", "rigs", "miners"}) &&
		containsAny(lower, []string{"colocation", "co-location", "hosting", "data center", "data centre", "campus", "capacity", "gpu", "cloud"})
}

// landlordBefore is the provider-side company (a developer, an operator, a
// company the gazetteer does not know) named last in the six sentences before
// sentence k, other than not.
func landlordBefore(ss []*sent, k int, not *Entity) *Entity {
	for j := k - 1; j >= 0 && j >= k-6; j-- {
		for i := len(ss[j].parties) - 1; i >= 0; i-- {
			if p := ss[j].parties[i]; p.e != nil && p.e != not && tierOf(p) >= 2.5 {
				return p.e
			}
		}
	}
	return nil
}

// recentProvider resolves "it" and "the company" in a deal sentence to the
// provider-side company named just before it in the same paragraph ("The
// headline deal belongs to IREN. In late 2025 it agreed …"), else the page's
// main company.
func recentProvider(ss []*sent, k int, main *Entity) *Entity {
	for j := k - 1; j >= 0 && j >= k-2; j-- {
		if ss[j].Block != ss[k].Block || ss[j].title {
			break
		}
		// The subject of the sentence before: the company it went on about.
		if ps := ss[j].parties; len(ps) > 0 && ps[0].e != nil && tierOf(ps[0]) >= 2.5 {
			return ps[0].e
		}
	}
	// A sentence that names only an undisclosed customer ("The second is
	// the 352 MW lease with an investment-grade client") belongs to the
	// landlord its section is about: the provider-side subject of a sentence
	// since the section's heading.
	if ps := ss[k].parties; len(ps) == 1 && ps[0].e == nil {
		for j := k - 1; j >= 0 && j >= k-8; j-- {
			if ss[j].title || ss[j].Kind == "h" && len(ss[j].parties) == 0 {
				break
			}
			if ps := ss[j].parties; len(ps) > 0 && ps[0].e != nil && tierOf(ps[0]) >= 2.5 {
				return ps[0].e
			}
			if ss[j].Kind == "h" {
				break
			}
		}
	}
	return main
}

// reBareCustomer finds a customer named only by its kind before or after a
// deal noun: "hyperscaler lease", "lease with a hyperscaler", "an
// investment-grade tenant".
var reBareCustomer = regexp.MustCompile(`\bwith\s+(?:an?\s+)?((?:[a-z][\w.-]*\s+){0,2}?neocloud(?:\s+provider)?)\b|\b((?:(?:investment[- ]grade|u\.?s\.?[- ]based|us[- ]based|unnamed|undisclosed|confidential|fortune \d+|large|major|new|third|second)\s+)*(?:hyperscaler|hyperscale (?:tenant|customer|client)|cloud (?:provider|customer)|tenant|customer|client))\s+(?:lease|leases|contract|contracts|agreement|deal)\b|\b(?:with|to|for)\s+(?:an?|one|its)\s+((?:(?:investment[- ]grade|u\.?s\.?[- ]based|us[- ]based|unnamed|undisclosed|confidential|large|major|new|third|second)\s+)*(?:hyperscaler|hyperscale (?:tenant|customer|client)|tenant|customer|client))\b`)

func bareCustomer(lower string) string {
	m := reBareCustomer.FindStringSubmatch(lower)
	if m == nil || hasAnySuffix(m[0], []string{"leases", "contracts", "deals", "agreements"}) {
		return "" // "several of the large hyperscaler leases": deals in general
	}
	for _, g := range m[1:] {
		if g != "" {
			return g
		}
	}
	return ""
}

// nearbyCustomer finds the customer of a deal sentence that names none: the
// one party of the sentence before or after it, or an undisclosed party there.
func nearbyCustomer(ss []*sent, k int, op *Entity) pmention {
	for _, j := range []int{k - 1, k + 1, k - 2} {
		if j < 0 || j >= len(ss) || ss[j].title {
			continue
		}
		var found []pmention
		for _, p := range ss[j].parties {
			if p.e != op {
				found = append(found, p)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
	}
	return pmention{start: -1, end: -1}
}

// mergeFrames folds the frames of one deal together: the same operator and
// counterparty with figures that agree (within the tolerance of an
// approximation: "roughly $4 billion" and "$3.86 billion"). A frame that named
// no customer joins the one deal of its operator it agrees with.
func mergeFrames(fs []*frame) []*draft {
	var out, orphans []*frame
	byKey := map[string][]*frame{} // the deals so far, by parties (linear in the page)
	byOp := map[*Entity][]*frame{}
	for _, f := range fs {
		if f.orphan {
			orphans = append(orphans, f)
			continue
		}
		k := f.key()
		merged := false
		for _, o := range byKey[k] {
			if agree(o.d, f.d) {
				o.absorb(f)
				merged = true
				break
			}
		}
		// The same two companies again, with figures that disagree but were
		// not read in this mention's own sentence: the deal restated near
		// other numbers, not a second deal. It adds nothing.
		if !merged && len(byKey[k]) > 0 && !ownFigures(f) {
			continue
		}
		if !merged {
			out = append(out, f)
			byKey[k] = append(byKey[k], f)
			byOp[f.op.e] = append(byOp[f.op.e], f)
		}
	}
	for _, f := range orphans {
		var best *frame
		for _, o := range byOp[f.op.e] {
			if !agree(o.d, f.d) {
				continue
			}
			if best == nil || absInt(o.anchor-f.anchor) < absInt(best.anchor-f.anchor) {
				best = o
			}
		}
		if best != nil {
			best.absorb(f)
		} else if f.signed && f.own && f.op.start >= 0 {
			// "Bitdeer said its subsidiary has signed a colocation lease for a
			// 180-megawatt data center": a deal whose customer is not named
			f.d.descriptor = "undisclosed counterparty"
			out = append(out, f)
		}
	}
	out = foldEndUsers(out)
	ds := make([]*draft, 0, len(out))
	for _, f := range out {
		// A deal needs a figure of its own: a value, a capacity, or a term
		// read in its own sentence with both sides named ("Oracle has signed a
		// 15-year lease at the campus").
		if f.d.value == nil && f.d.capacity == nil && f.d.valueNonUSD == nil &&
			!(f.d.term != nil && f.scores["term"] >= 13 && f.cp.e != nil && !f.orphan) {
			continue
		}
		ds = append(ds, f.d)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].block < ds[j].block })
	return ds
}

// foldEndUsers reads a lab that appears as the customer beside a neocloud
// customer of the same capacity as the end user behind the neocloud ("Redwater
// leases 90 MW to Orbitra … for Lumen Labs"), not as a second deal.
func foldEndUsers(fs []*frame) []*frame {
	// The neocloud-customer deals by each company on either side of them.
	neo := map[*Entity][]*frame{}
	for _, o := range fs {
		if o.cp.e != nil && o.cp.e.Kind == "neocloud" {
			neo[o.op.e] = append(neo[o.op.e], o)
			if o.cp.e != o.op.e {
				neo[o.cp.e] = append(neo[o.cp.e], o)
			}
		}
	}
	var keep []*frame
	for _, f := range fs {
		lab := f.cp.e
		if lab == nil || lab.Kind != "lab" {
			keep = append(keep, f)
			continue
		}
		var host *frame
		for _, o := range neo[f.op.e] {
			if o == f {
				continue
			}
			if o.op.e != f.op.e && o.cp.e != f.op.e {
				continue
			}
			if f.d.value != nil && (o.d.value == nil || !nearRel(f.d.value.Value, o.d.value.Value, 0.06)) {
				continue // a value of its own: the lab's own deal
			}
			if f.d.capacity != nil && o.d.capacity != nil && !nearRel(f.d.capacity.MW, o.d.capacity.MW, 0.03) {
				continue
			}
			host = o
			break
		}
		if host == nil {
			keep = append(keep, f)
			continue
		}
		if host.d.endUser == nil {
			host.d.endUser = lab
		}
		if host.op.e == f.op.e {
			host.absorb(f)
		}
	}
	return keep
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// ownFigures reports a frame whose value or capacity was read in its own
// deal sentence.
func ownFigures(f *frame) bool { return f.own }

func agree(a, b *draft) bool {
	if a.region != "" && b.region != "" && a.region != b.region {
		return false // the Texas deal and the Norway deal of the same two companies
	}
	// "valued at up to $19.4 billion" and "the base contract is worth $17.4
	// billion": a bound and the base below it are one deal.
	upTo := a.value != nil && b.value != nil && (a.value.Bound == "up_to" && baseOf(b.value.Value, a.value.Value) || b.value.Bound == "up_to" && baseOf(a.value.Value, b.value.Value))
	if a.value != nil && b.value != nil && !nearRel(a.value.Value, b.value.Value, 0.06) && !upTo {
		return false
	}
	// (a power figure or a sum over sites yields to the deal's own MW)
	if a.capacity != nil && b.capacity != nil && !nearRel(a.capacity.MW, b.capacity.MW, 0.03) && !a.capSoft && !b.capSoft {
		return false
	}
	if a.term != nil && b.term != nil && a.term.Years != b.term.Years {
		return false
	}
	same := a.value != nil && b.value != nil && (a.capacity == nil || b.capacity == nil || nearRel(a.capacity.MW, b.capacity.MW, 0.03))
	return a.aggregate == b.aggregate || a.value == nil || b.value == nil || same
}

// baseOf reports a value that can be the base of a bound above it (the
// upside of options is a fraction of the base, not a multiple).
func baseOf(v, bound float64) bool { return v < bound && v >= 0.7*bound }

func nearRel(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// absorb takes another frame's figures where they are missing or were read
// with less support.
func (f *frame) absorb(o *frame) {
	take := func(field string) bool {
		return o.scores[field] > f.scores[field]
	}
	if o.d.value != nil && (f.d.value == nil || f.d.value.Bound == "up_to" && o.d.value.Bound != "up_to" && baseOf(o.d.value.Value, f.d.value.Value) ||
		!(o.d.value.Bound == "up_to" && f.d.value.Bound != "up_to" && baseOf(f.d.value.Value, o.d.value.Value)) && (take("value") && !o.d.value.Approx || f.d.value.Approx && !o.d.value.Approx)) {
		f.d.value, f.scores["value"] = o.d.value, o.scores["value"]
	}
	if o.d.capacity != nil && (f.d.capacity == nil || f.d.capSoft && !o.d.capSoft || take("cap") && !(o.d.capSoft && !f.d.capSoft)) {
		f.d.capacity, f.scores["cap"], f.d.capSoft = o.d.capacity, o.scores["cap"], o.d.capSoft
	}
	if o.d.term != nil && (f.d.term == nil || take("term")) {
		f.d.term, f.scores["term"] = o.d.term, o.scores["term"]
	}
	f.d.aggregate = f.d.aggregate || o.d.aggregate
	if f.d.prepayment == nil {
		f.d.prepayment = o.d.prepayment
	}
	if f.d.guarantee == nil {
		f.d.guarantee = o.d.guarantee
	}
	if f.d.unitPrice == nil {
		f.d.unitPrice = o.d.unitPrice
	}
	if f.d.guarantor == nil {
		f.d.guarantor = o.d.guarantor
	}
	if f.d.endUser == nil {
		f.d.endUser = o.d.endUser
	}
	if f.d.date == "" {
		f.d.date = o.d.date
	}
	if f.d.until == 0 {
		f.d.until = o.d.until
	}
	if f.titleDeal && !o.titleDeal {
		f.d.block = o.d.block
		f.titleDeal = false
	}
	if len(f.d.anchorText) < maxDealText {
		f.d.anchorText += " " + o.d.anchorText
	}
	f.d.addText(o.d.text.String())
	for _, e := range o.d.evidence {
		if len(f.d.evidence) >= maxEvidence {
			break
		}
		f.d.addEvidence(e)
	}
	for k, v := range o.d.fieldEv {
		if _, ok := f.d.fieldEv[k]; !ok {
			f.d.setField(k, v)
		}
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// label is the counterparty's name, or its descriptor when undisclosed.
func (d *draft) label() string {
	if d.counterparty != nil {
		return d.counterparty.Name
	}
	return d.descriptor
}
