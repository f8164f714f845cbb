package extractor

import (
	"github.com/mwledger/mwledger/schemas"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var reLeadingNumber = regexp.MustCompile(`^\s*(\d+(?:[.,]\d+)?)`)

// column kinds of a deal table
const (
	colNone = iota
	colOperator
	colCounterparty
	colMW
	colValue
	colTerm
	colUnitPrice
	colType
	colDate
	colSite
)

func columnKind(h string) (int, float64) {
	l := strings.ToLower(h)
	scale := 1.0
	switch {
	case containsAny(l, []string{"bn", "billion", "$b", "十亿", "mil millones", "milliard", "miliard", "bilhões", "miljard", "mrd"}):
		scale = 1e9
	case strings.Contains(l, "亿"):
		scale = 1e8
	case containsAny(l, []string{"$m", "million", "mn", "millones", "milioni", "milhões", "miljoen", "millioner", "miljoner", "mio"}):
		scale = 1e6
	}
	squashed := strings.ReplaceAll(l, " ", "")
	switch {
	case containsAny(squashed, []string{"/mw", "permw", "unitprice", "mw-yr", "mw-year", "mw/yr", "单价", "單價", "每兆瓦"}):
		return colUnitPrice, scale
	case containsAny(l, []string{"site", "location", "campus", "地点", "地點", "园区"}):
		return colSite, scale
	case containsAny(l, []string{"counterparty", "client", "customer", "tenant", "lessee", "客户", "客戶", "交易对手", "对手方",
		"klant", "kunde", "inquilino", "locataire", "mieter", "huurder", "leietaker", "locatario", "arrendatario"}):
		return colCounterparty, scale
	case containsAny(l, []string{"operator", "company", "miner", "lessor", "provider", "公司", "运营商", "運營商", "矿企", "礦企",
		"empresa", "operador", "betreiber", "exploitant", "opérateur", "operatore", "arrendador"}):
		return colOperator, scale
	case containsAny(l, []string{"mw", "capacity", "load", "兆瓦", "容量", "负荷", "carga", "capacidad", "capacité", "kapazität", "capaciteit", "kapasitet", "capacità", "capacidade"}):
		return colMW, scale
	case containsAny(l, []string{"value", "amount", "tcv", "金额", "金額", "价值", "價值", "总额", "$", "valor", "valeur", "wert", "waarde", "verdi", "importo", "volumen", "monto", "montant"}):
		return colValue, scale
	case containsAny(l, []string{"term", "years", "duration", "期限", "年限", "租期", "plazo", "prazo", "años", "anos", "durée", "(ans)", "laufzeit", "jahre", "looptijd", "jaar", "varighet", "durata", "anni"}):
		return colTerm, scale
	case containsAny(l, []string{"type", "stage", "类型", "類型", "阶段", "階段", "tipo", "typ"}):
		return colType, scale
	case containsAny(l, []string{"date", "signed", "announced", "时间", "時間", "日期", "fecha", "firma", "datum"}) || l == "data":
		// ("data" only alone: a "Data center" column is no date)
		return colDate, scale
	}
	return colNone, scale
}

// tableDeal reads one row of a deal table whose header names the columns.
func tableDeal(a analysis, lastOp *Entity, g *Gazetteer, decimalComma bool) *draft {
	d := &draft{block: a.Block}
	for i, cell := range a.Cells {
		if k, _ := columnKind(a.Header[i]); (k == colCounterparty || k == colOperator || i == 0) && isTotalRow(cell) {
			return nil // "Total 125 2,260.5": the sum of the rows above
		}
	}

	for i, cell := range a.Cells {
		kind, scale := columnKind(a.Header[i])
		switch kind {
		case colOperator:
			for _, m := range g.Find(cell) {
				if d.operator == nil {
					d.operator = m.E
				}
			}
		case colCounterparty:
			if ms := g.Find(cell); len(ms) > 0 {
				d.counterparty = ms[0].E
				for _, m := range ms[1:] {
					switch roleOf(strings.ToLower(cell), m) {
					case roleGuarantor:
						d.guarantor = m.E
					case roleEndUser:
						d.endUser = m.E
					}
				}
			} else if ds := findDescriptors(strings.TrimRight(cell, "0123456789*†")); len(ds) > 0 {
				d.descriptor = ds[0].Text
			} else if c := strings.TrimRight(strings.TrimSpace(cell), "0123456789*†"); c != "" && c != "-" {
				if cellName(c) {
					d.counterparty = &Entity{Name: c} // "Cóndor AI": a company the gazetteer does not know
				} else {
					d.descriptor = strings.ToLower(c)
				}
			}
		case colMW:
			if cs := parseCapacity(cell, decimalComma); len(cs) > 0 {
				d.capacity = &cs[0]
			} else if v, ok := parseNumber(strings.TrimSpace(cell), decimalComma); ok && v > 0 {
				d.capacity = &Capacity{MW: v}
			}
		case colValue:
			if ms := parseMoney(cell, decimalComma); len(ms) > 0 {
				if ms[0].Currency == "USD" {
					d.value = &ms[0]
				}
			} else if v, ok := parseNumber(strings.Trim(strings.TrimSpace(cell), "$"), decimalComma); ok && v > 0 {
				d.value = &Money{Value: v * scale, High: v * scale, Currency: "USD"}
			}
		case colTerm:
			if ts := parseTerms(cell); len(ts) > 0 && ts[0].Years > 0 {
				d.term = &ts[0]
			} else if m := reLeadingNumber.FindStringSubmatch(cell); m != nil {
				if v, ok := parseNumber(m[1], decimalComma); ok && v > 0 && v <= 50 {
					d.term = &Term{Years: v}
				}
			}
		case colUnitPrice:
			if ps := parseUnitPrices(cell); len(ps) > 0 {
				d.unitPrice = &ps[0]
			} else if ms := parseMoney(cell, false); len(ms) > 0 {
				d.unitPrice = &UnitPrice{USD: ms[0].Value}
			} else if v, ok := parseNumber(strings.TrimSpace(cell), false); ok && v > 0 {
				v *= scaleForUnitPrice(a.Header[i])
				if v < 1000 { // "9.70" in a $/MW/year column is millions: no deal rents a MW for $10
					v *= 1e6
				}
				d.unitPrice = &UnitPrice{USD: v}
			}
		case colDate:
			if ds := parseDates(cell); len(ds) > 0 {
				d.date = ds[0].Value
			}
		case colSite:
			if loc := findLocation([]string{cell}); loc != "" {
				d.site = loc
			}
		default:
			// Notes and other columns: their words tell terms and type, and the
			// amounts and parties they name ("US$1.94bn prepaid", "Google backstop").
			notes := analyze(Sentence{Text: cell}, g, false)
			d.fill(notes, segment{0, len(cell)}, false)
		}
	}
	if d.operator == nil {
		d.operator, d.opInferred = lastOp, true
	}
	if d.operator == nil || (d.counterparty == nil && d.descriptor == "") || (d.value == nil && d.capacity == nil) {
		return nil
	}
	d.text.WriteString(a.lower)
	d.addEvidence(a.Text)
	d.setField(schemas.FieldCapacityMW, a.Text)
	d.setField(schemas.FieldTotalValueUSD, a.Text)
	d.aggregate = isAggregate(a.lower) && countsContracts(a.lower)
	return d
}

// isTotalRow reports a table row that sums the rows above ("Total",
// "Totaal", "Gesamt", "合计").
func isTotalRow(cell string) bool {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(cell), ":*"))
	switch l {
	case "total", "totals", "totaal", "totale", "gesamt", "summe", "sum", "totalt", "合计", "合計", "总计", "總計", "소계", "합계", "合計額":
		return true
	}
	return false
}

// cellName reports a table cell that names a company rather than describing
// one: capitalised, a few words, not a description ("Undisclosed
// hyperscaler", "Cliente hiperescala no revelado").
func cellName(c string) bool {
	ws := strings.Fields(c)
	if len(ws) == 0 || len(ws) > 4 || len(findDescriptors(c)) > 0 {
		return false
	}
	caps := 0
	for _, w := range ws {
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) {
			caps++
		}
	}
	return caps == len(ws) && !lex().stop[strings.ToLower(ws[0])]
}

func scaleForUnitPrice(h string) float64 {
	l := strings.ToLower(h)
	if strings.Contains(l, "million") || strings.Contains(l, "$m") || strings.Contains(l, "mn") {
		return 1e6
	}
	if strings.Contains(l, "万") {
		return 1e4
	}
	return 1
}
