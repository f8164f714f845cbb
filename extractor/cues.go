package extractor

import (
	"regexp"
	"strings"
)

// Word lists the rules read. Each is matched on the lower-cased sentence.
var (
	dealCues = []string{"contract", "agreement", "deal", "lease", "leasing", "lessee", "lessor", "tenant", "order", "signed", "signs", "inked", "secured",
		"awarded", "colocation", "hosting", "partnership", "合同", "协议", "協議", "签署", "簽署", "签订", "簽訂", "订单", "訂單", "租赁", "租賃",
		"vertrag", "vereinbarung", "abkommen", "contrat", "accord", "contratto", "accordo", "contrato", "acuerdo", "firmó", "signé", "unterzeichnet", "firmato",
		"bail", "baux", "loue", "alquiler", "arrendamiento", "locazione", "签下", "簽下", "租约", "租約", "合约", "合約"}
	rumourCues = []string{"in talks", "reportedly", "rumor", "rumour", "people familiar", "could sign", "may sign", "might sign",
		"is said to", "are said to", "exploring a", "negotiating", "in negotiations", "potential deal", "expected to sign", "if they sign",
		"would sign", "considering a", "framework", "not contracted", "memorandum of understanding", "letter of intent", "non-binding", "term sheet", "传闻", "傳聞", "据悉", "洽谈", "洽談", "谈判", "談判", "soll angeblich", "selon des sources", "secondo indiscrezioni", "según fuentes"}
	// totalCues mark company or sector totals, which are not contracts.
	totalCues = []string{"company total", "book stands", "stands at", "brings its total", "brings the total", "brings total", "total signed",
		"total contracted", "signed a total of", "in the sector", "across the company", "makes for", "all told", "altogether", "in all,", "across the sector", "sector total", "合计签约", "累计"}
	cloudCues = []string{"ai cloud", "gpu cloud", "cloud services", "cloud service", "managed gpu", "neocloud", "cloud contract", "gpu-as-a-service", "gpu services", "gpu capacity", "access to gpu", "compute capacity from",
		"云服务", "雲服務", "ai云", "ai 云", "算力云", "services cloud", "cloud-dienst", "servizi cloud", "servicios en la nube",
		"servicios de nube", "nube de ia", "nube gpu", "cloud gestito", "cloud ia", "cloud gpu", "cloud de ia", "cloud d'ia", "ki-cloud", "gpu-cloud",
		"雲端服務", "云端服务", "雲端運算服務", "クラウドサービス", "클라우드 서비스", "dịch vụ đám mây", "điện toán đám mây", "servizi di cloud", "servizio cloud", "servizi cloud", "serviços de nuvem", "serviços em nuvem", "облачн"}
	bareMetalCues  = []string{"bare metal", "bare-metal", "裸金属", "裸金屬", "gpu server rental", "server rental", "gpu rental"}
	colocationCues = []string{"colocation", "co-location", "lease", "leasing", "hosting", "powered shell", "data center capacity",
		"triple net", "triple-net", "托管", "租赁", "租賃", "租约", "租約", "主机托管", "托管協議", "bail", "baux", "alquiler", "mietvertrag", "miete", "location de", "locazione", "arrendamiento", "arrienda",
		"huurcontract", "huurovereenkomst", "colocatie", "colocación", "colocação", "coubicación", "leieavtale", "hyresavtal", "lejeaftale", "locação", "arrendamento", "pag-upa", "upa ng",
		// the tenant brings its own machines: space, power and cooling are what is sold
		"its own servers", "their own servers", "own equipment", "eigen servers", "eigene server", "egne servere", "egna servrar", "propri server", "próprios servidores", "propios servidores", "propres serveurs"}
	notCloudNoun = []string{"厂商", "廠商", "服务商", "服務商", "公司", " provider", " company", " firm", " platform", " customer", " giant", " operator", " player", " startup", " specialist", " infrastructure provider",
		"-plattform", " plattform", "-anbieter", " anbieter", "-unternehmen"}
)

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

var contractNouns = []string{" contract", " agreement", " lease", " order", " deal", " rental", "合同", "协议", "協議", "订单", "訂單", " contrato", " contratto", " contrat", " vertrag"}

// contractType reads the type from the wording of a deal's sentences: first the
// words that qualify a contract noun ("two colocation contracts", "a managed GPU
// cloud contract"), then any cue in the order bare metal, cloud, colocation.
func contractType(lower string) string {
	// The first contract noun, in reading order, whose qualifier tells the type;
	// an unqualified lease is a lease.
	best, bestAt := "", len(lower)+1
	for _, n := range contractNouns {
		for off := 0; off < bestAt; {
			i := strings.Index(lower[off:], n)
			if i < 0 || off+i >= bestAt {
				break
			}
			i += off
			qual := lastRunes(lower[:i], 36)
			if containsAny(qual, contrastWords) { // "unlike a conventional lease"
				off = i + len(n)
				continue
			}
			t := cueType(qual)
			if t == "unknown" && leaseNouns[n] {
				// "to lease back the chips": the verb's object says what is
				// leased; otherwise a lease is of space and power
				if t = cueType(firstBytes(lower[i:], 60)); t == "unknown" {
					t = "colocation"
				}
			}
			if t != "unknown" {
				best, bestAt = t, i
				break
			}
			off = i + len(n)
		}
	}
	if best != "" {
		return best
	}
	return cueType(lower)
}

var contrastWords = []string{"unlike", "not a ", "rather than", "instead of", "than a", "compared with", "compared to", "next to", "versus", " vs"}

var leaseNouns = map[string]bool{" lease": true}

func cueType(lower string) string {
	// "cloud-services agreement", "AI-cloud operator": hyphens join the same words
	if strings.Contains(lower, "-") {
		lower = strings.NewReplacer("cloud-s", "cloud s", "ai-cloud", "ai cloud", "gpu-cloud", "gpu cloud").Replace(lower)
	}
	if containsAny(lower, bareMetalCues) {
		return "bare_metal"
	}
	// What is leased says the type: "lease back the chips", "rents GPU
	// servers" are machines; "lease computing power", "compute capacity
	// leasing" are a cloud; "lease 90 MW", "lease space for its servers" stay
	// colocation.
	if m := reLeaseMachines.FindStringSubmatch(lower); m != nil && !anyWord(m[1], []string{"space", "for", "power", "halls", "hall", "capacity", "land"}) {
		return "bare_metal"
	}
	if reLeaseCompute.MatchString(lower) {
		return "cloud_services"
	}
	for _, c := range cloudCues {
		for off := 0; ; {
			i := strings.Index(lower[off:], c)
			if i < 0 {
				break
			}
			end := off + i + len(c)
			rest := lower[end:]
			// "proveedor de nube de IA Fluidstack", "a lease with a neocloud":
			// the words describe a company, not what is sold.
			lead := strings.TrimRight(lower[max(0, off+i-24):off+i], " ")
			describes := hasAnySuffix(lead, []string{"proveedor de", "fournisseur de", "fournisseur", "fornitore di", "provedor de", "anbieter", "with a", "with an", "with", "to a", "to an", "com a", "com o", "con la", "con el", "con", "avec", "met", "mit", "med", "a la", "à la"})
			if !hasAnyPrefix(rest, notCloudNoun) && !describes {
				return "cloud_services"
			}
			off = end
		}
	}
	if containsAny(lower, colocationCues) {
		return "colocation"
	}
	return "unknown"
}

var (
	reLeaseMachines = regexp.MustCompile(`\b(?:lease|leases|leased|leasing|rent|rents|rented|renting)\s+(?:back\s+)?(?:the\s+|its\s+|their\s+)?([a-z0-9-]+\s+)?(?:gpus|chips|gpu servers|servers)\b`)
	reLeaseCompute  = regexp.MustCompile(`\b(?:lease|leases|leased|leasing|rent|rents|rented|renting)\s+(?:[a-z-]+\s+){0,2}?(?:computing power|compute power|compute capacity|computing capacity|ai compute|gpu compute)\b|\b(?:computing power|compute power|gpu|compute) (?:leasing|rental)\b`)
)

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// termsIn returns the contract terms the wording mentions.
func termsIn(lower string) []string {
	var out []string
	add := func(t string, cues ...string) {
		if containsAny(lower, cues) {
			out = append(out, t)
		}
	}
	add("equity_warrants", "warrant", "right to acquire up to", "right to purchase up to", "option to acquire up to", "认股权", "認股權")
	add("expansion_option", "option to expand", "expansion option", "right of first refusal", "rofr", "option for an additional", "option to add", "扩容选择权", "additional capacity option")
	add("guarantee", "guarantee", "backstop", "back-stop", "backed by", "-backed", "担保", "擔保", "garantie", "garanzia", "garantía", "bürgschaft")
	add("no_negotiation", "no negotiation", "non-negotiable", "no-negotiation", "不可协商", "不可談判")
	add("prepayment", "prepayment", "prepaid", "pre-payment", "upfront payment", "预付", "預付", "vorauszahlung", "prépaiement", "pagamento anticipato", "pago anticipado")
	add("take_or_pay", "take-or-pay", "take or pay", "照付不议", "照付不議")
	add("triple_net", "triple net", "triple-net", "nnn", "三净", "三淨")
	return out
}
