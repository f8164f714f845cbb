package extractor

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// parseNumber reads a figure as printed: "9.7", "2,941", "1,5" (decimal comma),
// "5.500" (thousands dot) or "1.234,5". decimalComma says how to read a lone
// separator that is followed by exactly three digits (English "2,941" = 2941;
// German "1.500" = 1500 when decimalComma is true).
func parseNumber(s string, decimalComma bool) (float64, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\u00a0", ""), " ", ""))
	s = strings.ReplaceAll(s, "'", "") // Swiss thousands
	// A separator that ends the number is punctuation: "$4.15, up 12%", "$4. 2 billion" aside.
	s = strings.TrimRight(s, ".,")
	if s == "" {
		return 0, false
	}
	commas, dots := strings.Count(s, ","), strings.Count(s, ".")
	lastComma, lastDot := strings.LastIndexByte(s, ','), strings.LastIndexByte(s, '.')
	switch {
	case commas > 0 && dots > 0:
		if lastComma > lastDot { // 1.234,5
			s = strings.ReplaceAll(s, ".", "")
			s = strings.Replace(s, ",", ".", 1)
		} else { // 1,234.5
			s = strings.ReplaceAll(s, ",", "")
		}
	case commas > 1:
		s = strings.ReplaceAll(s, ",", "")
	case dots > 1:
		s = strings.ReplaceAll(s, ".", "")
	case commas == 1:
		frac := len(s) - lastComma - 1
		if frac == 3 && !decimalComma {
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.Replace(s, ",", ".", 1)
		}
	case dots == 1:
		frac := len(s) - lastDot - 1
		if frac == 3 && decimalComma {
			s = strings.ReplaceAll(s, ".", "")
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// numberWords are the spelled-out numbers used for terms and counts.
var numberWords = map[string]float64{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-five": 25, "thirty": 30,
	// German, French, Italian, Spanish
	"fünf": 5, "zehn": 10, "fünfzehn": 15, "zwanzig": 20, "cinq": 5, "dix": 10, "quinze": 15, "vingt": 20,
	"cinque": 5, "dieci": 10, "quindici": 15, "venti": 20, "cinco": 5, "diez": 10, "quince": 15, "veinte": 20,
	"drei": 3, "vier": 4, "sechs": 6, "sieben": 7, "acht": 8, "zwölf": 12,
	"trois": 3, "quatre": 4, "sept": 7, "douze": 12,
	"tre": 3, "quattro": 4, "sette": 7, "dodici": 12, "tres": 3, "cuatro": 4, "siete": 7, "doce": 12,
	"três": 3, "quatro": 4, "dez": 10, "doze": 12, "vinte": 20,
	// Dutch, Norwegian, Danish, Swedish
	"drie": 3, "vijf": 5, "zeven": 7, "tien": 10, "twaalf": 12, "vijftien": 15, "twintig": 20,
	"fire": 4, "fem": 5, "seks": 6, "syv": 7, "sju": 7, "ti": 10, "tolv": 12, "femten": 15, "tjue": 20, "tyve": 20, "tio": 10, "tjugo": 20,
	"neun": 9, "elf": 11, "huit": 8, "neuf": 9, "onze": 11, "sei": 6, "otto": 8, "nove": 9, "undici": 11,
	"seis": 6, "ocho": 8, "nueve": 9, "once": 11, "sete": 7, "oito": 8, "zes": 6, "negen": 9,
	"åtte": 8, "otte": 8, "åtta": 8, "ni": 9, "elleve": 11, "elva": 11, "fyra": 4,
	// Russian
	"два": 2, "четыре": 4, "шесть": 6, "восемь": 8, "девять": 9, "одиннадцать": 11,
	"три": 3, "пять": 5, "семь": 7, "десять": 10, "двенадцать": 12, "пятнадцать": 15, "двадцать": 20,
	// Chinese
	"三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十二": 12, "十五": 15, "二十": 20,
}

// otherNumberWords is an alternation of the spelled-out numbers of the
// languages other than English in Latin or Cyrillic script, longest first, for
// the term patterns of those languages ("six" is French too, so it stays).
func otherNumberWords() string {
	var ws []string
	for w := range numberWords {
		if englishNumberWords[w] || spacelessScript(w) {
			continue
		}
		ws = append(ws, regexp.QuoteMeta(w))
	}
	sort.Slice(ws, func(i, j int) bool {
		if len(ws[i]) != len(ws[j]) {
			return len(ws[i]) > len(ws[j])
		}
		return ws[i] < ws[j]
	})
	return strings.Join(ws, "|")
}

var englishNumberWords = map[string]bool{"one": true, "two": true, "three": true, "four": true, "five": true, "seven": true, "eight": true, "nine": true,
	"ten": true, "eleven": true, "twelve": true, "thirteen": true, "fourteen": true, "fifteen": true, "sixteen": true,
	"seventeen": true, "eighteen": true, "nineteen": true, "twenty": true, "twenty-five": true, "thirty": true}

// isDigit reports an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
