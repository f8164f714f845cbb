package textsafe

import "testing"

func TestTerminal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"IREN", "IREN"},
		{"Evil\x1b[2J\x1b]0;pwned\x07Corp", "Evil[2J]0;pwnedCorp"},
		{"C1 \u009b31mred", "C1 31mred"},
		{"two\nlines\tand\rtab", "two lines and tab"},
		{"\u202eevil\u2066x\u2069", "evilx"},
		{"Zürich 北京", "Zürich 北京"},
		{"bad \xff byte", "bad  byte"},
	} {
		if got := Terminal(tc.in); got != tc.want {
			t.Errorf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCSVCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"IREN", "IREN"},
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"\x00=1+1", "'=1+1"},
		{"＝HYPERLINK(\"http://evil\")", "'＝HYPERLINK(\"http://evil\")"},
		{"＋1", "'＋1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"  =cmd|' /C calc'!A0", "'  =cmd|' /C calc'!A0"},
		{"\x1b[31m=1", "[31m=1"},
		{"\t=1", "'\t=1"},
		{"-5", "-5"},
		{"+1e3", "+1e3"},
		{"-abc", "'-abc"},
		{"line\nbreak", "line\nbreak"},
		{"", ""},
	} {
		if got := CSVCell(tc.in); got != tc.want {
			t.Errorf("CSVCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
