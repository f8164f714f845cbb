package extractor

import (
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// pageRecords extracts the records of an article body.
func pageRecords(t *testing.T, x *Extractor, body string) []schemas.Contract {
	t.Helper()
	p, err := ReadHTML([]byte("<html><body><article>"+body+"</article></body></html>"), "")
	if err != nil {
		t.Fatal(err)
	}
	return x.FromPage(p, "https://t.example/")
}

// TestCompaniesNamedInOtherLanguages: companies the gazetteer does not know,
// found from the words of the language the article is written in — the
// subject of a deal verb, a noun that introduces a company (also inside a
// compound or a capitalised run of nouns), a legal form, a short headline
// form of a longer name.
func TestCompaniesNamedInOtherLanguages(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body, op, cp string
		mw, usd, years     float64
	}{
		{"Norwegian subject of a signing verb",
			"<p>Fjellkraft Datasenter har signert en sjuårig leieavtale med Tindvik Compute for 30 MW IT-last.</p><p>Avtalen er verdt 540 millioner dollar.</p>",
			"Fjellkraft Datasenter", "Tindvik Compute", 30, 540e6, 7},
		{"Dutch compound deal noun and verb-final clause",
			"<p>Duinhaven Datacenters heeft een negenjarig huurcontract getekend met Kwartel AI voor 22 MW.</p><p>Het contract heeft een waarde van 0,41 miljard dollar.</p>",
			"Duinhaven Datacenters", "Kwartel AI", 22, 410e6, 9},
		{"German noun run before the name, legal form AG",
			"<p>Die Auental Energie AG stellt in Bitterfeld 44 MW IT-Last bereit. Genutzt wird die Fläche von dem Kölner Sprachmodell-Entwickler Falkenhorst KI GmbH.</p><p>Der Achtjahresvertrag hat ein Volumen von 820 Millionen US-Dollar, wie Auental am Montag mitteilte.</p>",
			"Auental Energie", "Falkenhorst KI", 44, 820e6, 8},
		{"Italian provider verb and 'a' before the tenant",
			"<p>Valbruna Calcolo affitta 26 MW a Gheppio AI con un contratto di sei anni da 380 milioni di dollari.</p>",
			"Valbruna Calcolo", "Gheppio AI", 26, 380e6, 6},
		{"Portuguese: headline short form, 'Data Centers' ending, spelled-out term",
			"<h2>Ribeira Funda fecha locação de 18 MW</h2><p>A Ribeira Funda Data Centers fechou um contrato de locação de 18 MW com a Sabiá Compute.</p><p>Pelos próximos oito anos, a Sabiá pagará US$ 300 milhões.</p>",
			"Ribeira Funda Data Centers", "Sabiá Compute", 18, 300e6, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := onlyRecord(t, x, tc.body)
			if c.Operator.Name != tc.op || c.Counterparty.Label() != tc.cp {
				t.Fatalf("%s–%s, want %s–%s", c.Operator.Name, c.Counterparty.Label(), tc.op, tc.cp)
			}
			if deref(c.CapacityMW) != tc.mw || deref(c.TotalValueUSD) != tc.usd || deref(c.TermYears) != tc.years {
				t.Fatalf("%v MW, $%v, %v years; want %v MW, $%v, %v years", deref(c.CapacityMW), deref(c.TotalValueUSD), deref(c.TermYears), tc.mw, tc.usd, tc.years)
			}
		})
	}
}

// TestNoCompanyFromCommentOrHeadlineWords: the subject rule does not take a
// commentator, an outlet or a capitalised verb for a party.
func TestNoCompanyFromCommentOrHeadlineWords(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<h2>A Bitcoin Miner Leases a 90-Megawatt AI Hall in Texas</h2>"+
		"<p>Morgan Stanley said the deal shows what miners' power is worth.</p>"+
		"<p>Hut 8 signed a 10-year lease with Anthropic for 90 MW worth $1.9 billion.</p>")
	if len(cs) != 1 || cs[0].Operator.Name != "Hut 8" || cs[0].Counterparty.Label() != "Anthropic" {
		for _, c := range cs {
			t.Logf("%s–%s", c.Operator.Name, c.Counterparty.Label())
		}
		t.Fatalf("got %d records, want Hut 8–Anthropic only", len(cs))
	}
}

// TestDealSplitOverTwoSentencesInARoundup: a providing verb between two
// companies, its figures in the next sentence; and a section's figures stay
// in their section.
func TestDealSplitOverTwoSentencesInARoundup(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<h2>Orbitra Cloud to supply GPUs to Lumen Labs</h2>"+
		"<p>The Austin neocloud Orbitra Cloud will supply managed GPU cloud capacity to the Boston AI lab Lumen Labs. The three-year contract is worth $1.2 billion.</p>"+
		"<h2>Redwater signs colocation deal</h2>"+
		"<p>Redwater Data Centers signed an 18 MW colocation contract with Kievit Cloud in Ohio, with a term of eight years.</p>")
	got := map[string]schemas.Contract{}
	for _, c := range cs {
		got[c.Operator.Name+"–"+c.Counterparty.Label()] = c
	}
	o, ok := got["Orbitra Cloud–Lumen Labs"]
	if !ok || deref(o.TotalValueUSD) != 1.2e9 || deref(o.TermYears) != 3 {
		t.Fatalf("Orbitra–Lumen: %+v (records %v)", o, len(cs))
	}
	r, ok := got["Redwater Data Centers–Kievit Cloud"]
	if !ok || r.TotalValueUSD != nil || deref(r.CapacityMW) != 18 || deref(r.TermYears) != 8 {
		t.Fatalf("Redwater–Kievit: value %v, %v MW, %v years; want no value (the $1.2B is the section before)", deref(r.TotalValueUSD), deref(r.CapacityMW), deref(r.TermYears))
	}
}

// TestBrokenTypography: a lost space after a full stop, a stray space after
// a decimal separator.
func TestBrokenTypography(t *testing.T) {
	for in, want := range map[string]string{
		"signed with Lumen.The deal":    "signed with Lumen. The deal",
		"avec Héron.L’accord porte":     "avec Héron. L’accord porte",
		"shares rose at Amazon.com.":    "shares rose at Amazon.com.",
		"the U.S. Department":           "the U.S. Department",
		"runs on Node.JS servers":       "runs on Node.JS servers",
		"a valeur de 2, 35 milliards":   "a valeur de 2, 35 milliards",
		"worth $4. 2 billion over time": "worth $4. 2 billion over time",
	} {
		if got := unglue(in); got != want {
			t.Errorf("unglue(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]float64{
		"une valeur de 2, 35 milliards de dollars": 2.35e9,
		"worth $4. 2 billion over the term":        4.2e9,
		"worth $4.2 billion, 3 more later":         4.2e9,
	} {
		ms := parseMoney(closeSplitDecimals(in), in[0] == 'u')
		if len(ms) == 0 || ms[0].Value != want {
			t.Errorf("%q: %+v, want %v", in, ms, want)
		}
		if len(closeSplitDecimals(in)) != len(in) {
			t.Errorf("closeSplitDecimals(%q) changed the length", in)
		}
	}
}

// TestTermsInOtherLanguagesAndHorizons: spelled-out terms in other languages;
// "over the next N years" is a term only where a deal is named.
func TestTermsInOtherLanguagesAndHorizons(t *testing.T) {
	for in, want := range map[string]float64{
		"un contrat de location de douze ans":                           12,
		"pelos próximos sete anos":                                      7,
		"un contratto di undici anni":                                   11,
		"een achtjarig contract":                                        8,
		"will supply GPUs to the lab over the next seven years for $1B": 7,
		"the lease is expected to run roughly 12 years":                 12,
	} {
		ts := parseTerms(in)
		if len(ts) != 1 || ts[0].Years != want {
			t.Errorf("parseTerms(%q) = %+v, want %v years", in, ts, want)
		}
	}
	if ts := parseTerms("the group plans to build 2 GW over the next five years"); len(ts) != 0 {
		t.Errorf("a plan's horizon read as a term: %+v", ts)
	}
}

// TestSumOverSeveralCustomers: a company's contracts summed over several
// customers is no deal of its own.
func TestSumOverSeveralCustomers(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<p>Oracle said it has signed contracts worth $120 billion with four customers this quarter.</p>"+
		"<p>Oracle works with builder Crusoe on sites in Texas.</p>")
	if len(cs) != 0 {
		t.Fatalf("got %d records, want none: %+v", len(cs), cs)
	}
}

// TestWhatIsLeased: the object of a lease verb and the tenant's own machines
// tell the contract type, in several languages.
func TestWhatIsLeased(t *testing.T) {
	for in, want := range map[string]string{
		"the chipmaker agreed to lease back the chips it sold to the neocloud":   "bare_metal",
		"the lab will rent gpu servers from the operator for three years":        "bare_metal",
		"the hyperscaler will lease computing power from the neocloud's fleet":   "cloud_services",
		"a ten-year lease for 90 mw of critical it load":                         "colocation",
		"the tenant will lease space for its servers in two halls":               "colocation",
		"el cliente instala sus propios servidores y el operador aporta energía": "colocation",
		"brattli setter inn egne servere, mens skarvheim står for bygg og strøm": "colocation",
		"polderkracht heeft een tienjarig huurcontract getekend":                 "colocation",
		"fechou um contrato de locação com a neocloud jacarandá compute":         "colocation",
	} {
		if got := contractType(in); got != want {
			t.Errorf("contractType(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestTableInAnotherLanguage: column headers in Spanish with the scale and the
// unit in the header, decimal commas, a row of totals, a caption that says
// what the contracts are.
func TestTableInAnotherLanguage(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<p>La desarrolladora Brisamar Datos firmó dos contratos de colocación en su campus de Lampa.</p>"+
		"<table><tr><th>Cliente</th><th>MW (carga TI)</th><th>Valor (millones de US$)</th><th>Plazo (años)</th></tr>"+
		"<tr><td>Chercán AI</td><td>35</td><td>612,5</td><td>9</td></tr>"+
		"<tr><td>Cliente hiperescala no revelado</td><td>50</td><td>1.080,0</td><td>12</td></tr>"+
		"<tr><td>Total</td><td>85</td><td>1.692,5</td><td>—</td></tr></table>")
	if len(cs) != 2 {
		t.Fatalf("got %d records, want 2 (the total row is no contract): %+v", len(cs), cs)
	}
	want := map[string][3]float64{"Chercán AI": {35, 612.5e6, 9}, "cliente hiperescala no revelado": {50, 1080e6, 12}}
	for _, c := range cs {
		w, ok := want[c.Counterparty.Label()]
		if !ok || c.Operator.Name != "Brisamar Datos" || deref(c.CapacityMW) != w[0] || deref(c.TotalValueUSD) != w[1] || deref(c.TermYears) != w[2] || c.ContractType != schemas.TypeColocation {
			t.Errorf("%s–%s: %v MW, $%v, %v years, %s", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW), deref(c.TotalValueUSD), deref(c.TermYears), c.ContractType)
		}
	}
}

// TestListsOfDeals: "respectively" pairs amounts and capacities with their
// customers in order; a closing ", both …" clause speaks of each deal; a list
// led by its own provider is that provider's, and an undisclosed customer in
// it does not crowd out the named one.
func TestListsOfDeals(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<p>Harrowgate Power said it had signed colocation contracts worth $1.4 billion and $2.2 billion respectively with Tern AI and Plover Cloud, for 70 MW and 115 MW respectively, both running twelve years.</p>"+
		"<p>Mossbank Data signed an 80 MW, $1.3 billion contract with Curlew Labs and a 30 MW, $0.5 billion contract with an unnamed enterprise customer, both for ten years.</p>")
	want := map[string][4]float64{
		"Harrowgate Power–Tern AI":                  {70, 1.4e9, 12},
		"Harrowgate Power–Plover Cloud":             {115, 2.2e9, 12},
		"Mossbank Data–Curlew Labs":                 {80, 1.3e9, 10},
		"Mossbank Data–unnamed enterprise customer": {30, 0.5e9, 10},
	}
	if len(cs) != len(want) {
		t.Errorf("got %d records, want %d", len(cs), len(want))
	}
	for _, c := range cs {
		k := c.Operator.Name + "–" + c.Counterparty.Label()
		w, ok := want[k]
		if !ok || deref(c.CapacityMW) != w[0] || deref(c.TotalValueUSD) != w[1] || deref(c.TermYears) != w[2] {
			t.Errorf("%s: %v MW, $%v, %v years (want %v)", k, deref(c.CapacityMW), deref(c.TotalValueUSD), deref(c.TermYears), w)
		}
	}
}

// TestTenantInOneDealSupplierInTheNext: a "GPU cloud operator" is a neocloud,
// the tenant of a developer's lease; its own sale to a lab is another record,
// which does not take the lease's phase from the sentences about the lease.
func TestTenantInOneDealSupplierInTheNext(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<p>Corrow Infrastructure has signed a 12-year lease with GPU cloud operator Dunlin Cloud for 90 megawatts at its campus in Casper, Wyoming, in a deal it valued at $2.1 billion.</p>"+
		"<p>Corrow will deliver powered, cooled halls; Dunlin will fill them with its own GPU servers. The first 30 MW is due in 2027.</p>"+
		"<p>In a separate deal Dunlin agreed to supply Wrenfield AI with managed GPU cloud capacity for two years for $600 million.</p>")
	got := map[string]schemas.Contract{}
	for _, c := range cs {
		got[c.Operator.Name+"–"+c.Counterparty.Label()] = c
	}
	if len(cs) != 2 {
		t.Errorf("got %d records, want 2", len(cs))
	}
	if c, ok := got["Corrow Infrastructure–Dunlin Cloud"]; !ok || deref(c.CapacityMW) != 90 || deref(c.TotalValueUSD) != 2.1e9 || deref(c.TermYears) != 12 {
		t.Errorf("the lease: %+v", got)
	}
	if c, ok := got["Dunlin Cloud–Wrenfield AI"]; !ok || c.CapacityMW != nil || deref(c.TotalValueUSD) != 600e6 || deref(c.TermYears) != 2 {
		t.Errorf("the cloud deal: %v MW, $%v, %v years (the 30 MW is the lease's phase)", deref(c.CapacityMW), deref(c.TotalValueUSD), deref(c.TermYears))
	}
}

// TestSubjectAfterALeadIn: a company named only as the subject of a deal verb
// after a lead-in ("Last spring", "the part that matters:"), known in full
// from another sentence; an AI lab that leases part of its campus to a
// neocloud is the landlord.
func TestSubjectAfterALeadIn(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := onlyRecord(t, x, "<p>Pellory Hashworks published its quarterly letter this morning.</p>"+
		"<p>The part that matters: Pellory signed a nine-year, $1.7 billion lease for 95 MW with Skellan Compute.</p>")
	if c.Operator.Name != "Pellory Hashworks" || c.Counterparty.Label() != "Skellan Compute" || deref(c.CapacityMW) != 95 || deref(c.TermYears) != 9 {
		t.Errorf("%s–%s %v MW %v years", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW), deref(c.TermYears))
	}
	// the name that ends a subject noun phrase is not the subject
	for _, c := range pageRecords(t, x, "<p>The lab behind Quillchat struck a $2 billion cloud deal with CoreWeave in March.</p>") {
		if c.Operator.Name == "Quillchat" {
			t.Errorf("Quillchat read as the provider: %s–%s", c.Operator.Name, c.Counterparty.Label())
		}
	}
	c = onlyRecord(t, x, "<h1>Brisk Intelligence leases part of its Nebraska campus to Ortolan Cloud</h1>"+
		"<p>Brisk Intelligence has agreed to lease 40 MW of its campus to Ortolan Cloud.</p>")
	if c.Operator.Name != "Brisk Intelligence" || c.Counterparty.Label() != "Ortolan Cloud" {
		t.Errorf("%s–%s, want the lab as landlord", c.Operator.Name, c.Counterparty.Label())
	}
}

// TestSignedOrNot: a signed letter of intent binds no one; a framework's
// gigawatts are not a lease's size; a plan the same sentence says was signed
// is a deal; two companies after a dateline are the two sides of one deal; a
// place before "-based" is not part of a name.
func TestSignedOrNot(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<h1>Brackmoor unveils 2 GW AI partnership and signs a small lease</h1>"+
		"<p>DENVER, May 4 (Wirecast) - Brackmoor Power announced a partnership with Ilex AI covering up to 2 GW of future capacity, with no sites or prices agreed.</p>"+
		"<p>Brackmoor announced plans to lease 15 MW at its Pueblo site to Corvid Labs, under an agreement the two companies signed on Friday.</p>"+
		"<p>The lease is worth $240 million over six years.</p>"+
		"<p>Corvid also signed a non-binding letter of intent for a further 25 MW.</p>"+
		"<p>Analysts warned against reading the 2 GW figure as demand.</p>")
	if len(cs) != 1 {
		for _, c := range cs {
			t.Logf("%s–%s %v MW", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW))
		}
		t.Fatalf("got %d records, want the one signed lease", len(cs))
	}
	if c := cs[0]; c.Operator.Name != "Brackmoor Power" || c.Counterparty.Label() != "Corvid Labs" || deref(c.CapacityMW) != 15 || deref(c.TotalValueUSD) != 240e6 || deref(c.TermYears) != 6 {
		t.Errorf("%s–%s %v MW $%v %v years", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW), deref(c.TotalValueUSD), deref(c.TermYears))
	}
	c := onlyRecord(t, x, "<p>AUSTIN, June 2 (Wirecast) - Tolland Infrastructure and Merlin AI have entered into a nine-year colocation agreement worth $1.4 billion for 80 MW, the companies said.</p>"+
		"<p>Before Merlin, Tolland's first customer was Qasr Compute, the Doha-based AI infrastructure group.</p>")
	if c.Operator.Name != "Tolland Infrastructure" || c.Counterparty.Label() != "Merlin AI" || deref(c.CapacityMW) != 80 {
		t.Errorf("%s–%s %v MW", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW))
	}
}

// TestNamesInChineseJapaneseKorean: Latin names set in Japanese text without
// spaces, Korean names in Hangul with their particles, terms after 契約期間,
// IT load against received power, a per-MW cost that is no size, and a deal
// dated last year that keeps its own figures.
func TestNamesInChineseJapaneseKorean(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := onlyRecord(t, x, "<p>大阪府で建設中のデータセンターは、第1期でIT負荷30MWを供給する。受電容量は45MWである。</p>"+
		"<p>米開発会社のHolloway Ridge Dataは、この第1期を国内のAI企業Suzume AIに賃貸する契約を結んだと発表した。</p>"+
		"<p>契約期間は12年で、賃料総額は約9億ドルになる。</p>")
	if c.Operator.Name != "Holloway Ridge Data" || c.Counterparty.Label() != "Suzume AI" || deref(c.CapacityMW) != 30 || deref(c.TotalValueUSD) != 900e6 || deref(c.TermYears) != 12 {
		t.Errorf("Japanese: %s–%s %v MW $%v %v years", c.Operator.Name, c.Counterparty.Label(), deref(c.CapacityMW), deref(c.TotalValueUSD), deref(c.TermYears))
	}
	cs := pageRecords(t, x, "<p>데이터센터 개발사 은하수데이터는 AI 스타트업 새벽랩스에 IT 용량 18MW를 추가로 임대하는 계약을 맺었다고 밝혔다.</p>"+
		"<p>추가 계약 규모는 6년간 약 2억 달러다. 1MW당 건설 비용은 900만 달러다.</p>"+
		"<p>새벽랩스는 지난해 30MW 규모의 첫 임대 계약을 맺은 바 있다.</p>")
	got := map[float64]schemas.Contract{}
	for _, c := range cs {
		got[deref(c.CapacityMW)] = c
	}
	if c, ok := got[18]; !ok || c.Operator.Name != "은하수데이터" || c.Counterparty.Label() != "새벽랩스" || deref(c.TotalValueUSD) != 200e6 || deref(c.TermYears) != 6 {
		t.Errorf("Korean, the new lease: %+v", got)
	}
	if c, ok := got[30]; ok && (c.TotalValueUSD != nil || c.TermYears != nil) {
		t.Errorf("Korean, last year's lease keeps its own figures only: $%v, %v years", deref(c.TotalValueUSD), deref(c.TermYears))
	}
	for _, c := range cs {
		if deref(c.CapacityMW) == 1 {
			t.Errorf("the per-MW cost read as a 1 MW contract")
		}
	}
}

// TestTermFromValueAndUnitPrice: "$300 million in total" for one lease is its
// value, not a sum, and with the stated unit price and the capacity it gives
// the term the text leaves out; the subject that "leased" MW to a customer is
// the provider, not one of the page's other landlords.
func TestTermFromValueAndUnitPrice(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<h2>Hallam Data to Wick AI</h2><p>Hallam Data has leased 40 MW at its Ohio building to Wick AI for $1.2 billion over ten years.</p>"+
		"<h2>Quarrel Energy to Finchley Labs</h2><p>Quarrel Energy leased 25 MW in Abilene, Kansas, to Finchley Labs for $450 million in total, priced at $2.0 million per MW per year.</p>")
	var found bool
	for _, c := range cs {
		if c.Counterparty.Label() != "Finchley Labs" {
			continue
		}
		found = true
		if c.Operator.Name != "Quarrel Energy" || c.Aggregate || deref(c.TotalValueUSD) != 450e6 || deref(c.TermYears) != 9 {
			t.Errorf("%s–%s aggregate=%v $%v %v years; want Quarrel Energy, one lease, $450M, 9 years", c.Operator.Name, c.Counterparty.Label(), c.Aggregate, deref(c.TotalValueUSD), deref(c.TermYears))
		}
	}
	if !found || len(cs) != 2 {
		t.Errorf("got %d records, want the two leases", len(cs))
	}
}

// TestSectorReports: a capitalised phrase that qualifies a noun ("North
// American AI power") is no company; a sentence that names only an
// undisclosed customer belongs to the landlord its section is about.
func TestSectorReports(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<h2>Bitdeer</h2><p>Bitdeer holds 500 MW of North American AI power with no contract yet.</p>"+
		"<h2>Hut 8</h2><p>Hut 8 has two leases. The first is with Fluidstack for 245 MW and about $7 billion.</p>"+
		"<p>The second is the 352 MW, $9.8 billion lease with an investment-grade client, priced at about $1.86 million per MW per year.</p>")
	for _, c := range cs {
		if c.Counterparty.Label() == "North American AI" {
			t.Errorf("a qualifier read as a company: %s–%s", c.Operator.Name, c.Counterparty.Label())
		}
		if c.Counterparty.Label() == "investment-grade client" && c.Operator.Name != "Hut 8" {
			t.Errorf("the undisclosed tenant's landlord: %s, want Hut 8 (its section)", c.Operator.Name)
		}
	}
}

// TestHeadlineTotalsAndLabels: a headline's amount that the body calls a
// company total is no deal's value; a label whose first word is a company's
// short name ("Core picks:") names no company.
func TestHeadlineTotalsAndLabels(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cs := pageRecords(t, x, "<h1>What the reported contract is, and what the $380 billion is not</h1>"+
		"<p>Later on Tuesday a newspaper reported that OpenAI has signed a contract with Oracle to buy $200 billion of computing power over roughly five years.</p>"+
		"<p>The $380 billion backlog: a company total that already includes the OpenAI contract.</p>"+
		"<p>Core Scientific was not part of the story. Core picks: IREN and Hut 8.</p>")
	if len(cs) != 1 || deref(cs[0].TotalValueUSD) != 200e9 {
		for _, c := range cs {
			t.Logf("%s–%s $%v", c.Operator.Name, c.Counterparty.Label(), deref(c.TotalValueUSD))
		}
		t.Fatalf("got %d records, want Oracle–OpenAI at $200 billion only", len(cs))
	}
}

// TestTheBackedIsNoGuarantor: "Google has agreed to backstop Fluidstack's
// lease payments" makes Google the guarantor and leaves Fluidstack the tenant.
func TestTheBackedIsNoGuarantor(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c := onlyRecord(t, x, "<h1>Cipher Mining's 120 MW Fluidstack lease: Google on the hook</h1>"+
		"<p>Quick take: Cipher Mining has its second AI tenant.</p>"+
		"<p>The deal with Fluidstack is a 12-year lease covering 120 MW, worth about $3 billion over the base term.</p>"+
		"<p>Google has agreed to backstop Fluidstack's lease payments — the credit support that lenders wanted before they would lend.</p>")
	if c.Operator.Name != "Cipher Mining" || c.Counterparty.Label() != "Fluidstack" || c.Guarantor == nil || c.Guarantor.Name != "Google" {
		t.Errorf("%s–%s guarantor %+v", c.Operator.Name, c.Counterparty.Label(), c.Guarantor)
	}
}

// TestYearBeforeAFigureIsNoDecimal: "by 2027, 15 MW" is a year and a
// capacity, not 2027.15 MW.
func TestYearBeforeAFigureIsNoDecimal(t *testing.T) {
	in := "By 2027, 15 MW will be online and the lease is worth $4. 2 billion."
	out := closeSplitDecimals(in)
	if len(out) != len(in) {
		t.Fatalf("length changed")
	}
	cs := parseCapacity(out, false)
	if len(cs) != 1 || cs[0].MW != 15 {
		t.Errorf("capacities %+v, want 15 MW", cs)
	}
	if ms := parseMoney(out, false); len(ms) != 1 || ms[0].Value != 4.2e9 {
		t.Errorf("amounts %+v, want $4.2 billion", ms)
	}
}

// TestSpansThatAreNoTerms: "over the last ten years" and "for the first two
// years" name a span of history or of a rent-free start, not the contract's
// term; "set to last four years" does.
func TestSpansThatAreNoTerms(t *testing.T) {
	for _, in := range []string{"the company grew over the last ten years", "rent is waived for the first two years of the lease"} {
		if ts := parseTerms(in); len(ts) != 0 {
			t.Errorf("parseTerms(%q) = %+v, want none", in, ts)
		}
	}
	if ts := parseTerms("the arrangement is set to last four years"); len(ts) != 1 || ts[0].Years != 4 {
		t.Errorf("set to last four years: %+v", parseTerms("the arrangement is set to last four years"))
	}
}

// TestUnglueOnBrokenBytes: invalid UTF-8 before a full stop does not crash
// the repair.
func TestUnglueOnBrokenBytes(t *testing.T) {
	for _, in := range []string{"\xff.Ab", "\xffa.Ab", "a\xff.Xy", "ab.\xf0", "..Ab"} {
		_ = unglue(in)
	}
}
