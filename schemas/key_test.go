package schemas

import "testing"

func TestKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"spaces and digits", "Hut 8", "hut8"},
		{"case and punctuation", "IREN Ltd.", "irenltd"},
		{"same key", "Hut-8", "hut8"},
		{"full width", "ＩＲＥＮ", "iren"},
		{"accents kept", "Société Générale", "sociétégénérale"},
		{"decomposed accents compose", "Socie\u0301te\u0301", "société"},
		{"chinese", "鸿海精密", "鸿海精密"},
		{"cyrillic", "Яндекс", "яндекс"},
		{"arabic digits", "G42 ٤٢", "g42٤٢"},
		{"nothing", "— & —", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.in); got != tt.want {
				t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Key is stable: a key's key is itself.
	for _, tt := range tests {
		if k := Key(tt.in); Key(k) != k {
			t.Errorf("Key(Key(%q)) = %q, not %q", tt.in, Key(k), k)
		}
	}
}

// An ASCII name has the key the indexer's old read-time squash gave it, so
// ledgers of ASCII names group their deals as before.
func TestKeyOfASCIIIsTheOldSquash(t *testing.T) {
	squash := func(s string) string {
		var b []byte
		for _, c := range []byte(s) {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
				b = append(b, c)
			}
		}
		return string(b)
	}
	for _, s := range []string{"IREN", "Hut 8", "Cipher Mining, Inc.", "Core42", "TeraWulf (WULF)", "a_b-c.d/e"} {
		if Key(s) != squash(s) {
			t.Errorf("Key(%q) = %q, squash %q", s, Key(s), squash(s))
		}
	}
}
