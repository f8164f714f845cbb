package backfill

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestPrefilter(t *testing.T) {
	p, err := NewPrefilter(nil)
	if err != nil {
		t.Fatal(err)
	}
	sjis, _ := japanese.ShiftJIS.NewEncoder().String("新しいデータセンターの契約")
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("公司签署了一份兆瓦级协议")
	latin1, _ := charmap.Windows1252.NewEncoder().String("un contrat de 200 mégawatts")
	tests := []struct {
		name, in string
		want     bool
	}{
		{"capacity spaced", "the campus will hold 300 MW of IT load", true},
		{"capacity glued", "a 1.2GW site", true},
		{"lower case", "about 90mw were energised", true},
		{"energy is not capacity", "it used 500 MWh last year", false},
		{"inside a word", "the Mwanza office reopened", false},
		{"base64 noise", "data:image/png;base64,iVBORwmwkGgoAAAAN", false},
		{"word inside a word", "ahpcb and schpc", false},
		{"phrase", "a long-term Colocation agreement", true},
		{"phrase any case", "THE HYPERSCALER SIGNED", true},
		{"multiword", "a new data centre in the north", true},
		{"german", "ein neues Rechenzentrum", true},
		{"chinese utf-8", "该公司的数据中心", true},
		{"japanese utf-8", "データセンターを建設", true},
		{"shift_jis", sjis, true},
		{"gbk", gbk, true},
		{"windows-1252", latin1, true},
		{"nothing", strings.Repeat("the council met on tuesday to discuss the park budget. ", 100), false},
		{"at the end", "total: 50 MW", true},
		{"at the start", "MW figures", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kw, ok := p.Match([]byte(tt.in))
			if ok != tt.want {
				t.Errorf("Match(%q) = %q %v, want %v", tt.in, kw, ok, tt.want)
			}
		})
	}
	own, err := NewPrefilter([]string{"Fluidstack", " ", "тест"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := own.Match([]byte("a deal with FLUIDSTACK")); !ok {
		t.Error("own keyword not found")
	}
	if _, ok := own.Match([]byte("300 MW")); ok {
		t.Error("default keyword found with an own list")
	}
	if _, err := NewPrefilter([]string{" "}); err == nil {
		t.Error("an empty list was accepted")
	}
}
