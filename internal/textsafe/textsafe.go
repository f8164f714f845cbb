// Package textsafe makes text from articles safe to print: on a terminal (no
// escape sequences) and in a spreadsheet (no formulas).
package textsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// control says whether r must not reach a terminal: C0 controls (ESC starts
// ANSI and OSC sequences), DEL, C1 controls (U+009B is an 8-bit CSI), and the
// bidirectional overrides and isolates that reorder what is shown.
func control(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return r == utf8.RuneError
}

// Terminal returns s for one cell of a table: control characters and escape
// sequences removed, tabs and line breaks as spaces.
func Terminal(s string) string {
	if !needsWork(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case control(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsWork(s string) bool {
	for _, r := range s {
		if control(r) {
			return true
		}
	}
	return false
}

// formulaStart are the characters a spreadsheet starts a formula with,
// full-width forms included (they are folded to ASCII by some).
const formulaStart = "=+-@\t\r＝＋－＠"

// CSVCell returns s for a CSV cell: control characters removed (line breaks
// kept: CSV quotes them) and, when a spreadsheet would run it as a formula (=,
// +, -, @ or their full-width forms first, after any spaces and controls), a
// quote in front. Plain numbers (-5, +1e3) are left alone.
func CSVCell(s string) string {
	if needsWork(s) {
		var b strings.Builder
		for _, r := range s {
			if r == '\n' || r == '\t' || !control(r) {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	if t == "" {
		return s
	}
	first, _ := utf8.DecodeRuneInString(t)
	if !strings.ContainsRune(formulaStart, first) && !strings.ContainsRune(formulaStart, rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}
