package schemas

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// KeyVersion changes whenever Key does, or what is keyed: a store that keeps
// keys (an index built on them) rebuilds what it built with another version.
// 2: counterparty labels are keyed by Key too (they were case-folded).
const KeyVersion = 2

// Key is the normalised form of a company name: what the ledger stores beside
// the name when it writes it (operator.key, counterparty.key) and compares
// names by. The name in compatibility form (NFKC: full-width letters are
// letters), lower case, with only its letters, combining marks and digits, of
// every script: "Hut 8" → "hut8", "IREN Ltd." → "irenltd", "ＩＲＥＮ" → "iren",
// "Société Générale" → "sociétégénérale", "鸿海" → "鸿海". A name written
// wholly in a non-Latin script keeps its letters; only a name with no letter
// or digit at all has the key "".
func Key(name string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
