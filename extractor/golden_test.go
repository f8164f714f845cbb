package extractor_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/eval"
)

var update = flag.Bool("update", false, "rewrite fixtures/*.golden.jsonl from the extractor's output (review the diff!)")

// floorsFile pins the lowest F1 each field may have on the golden set. Raise the
// floors when the extractor improves; never lower them to make a change pass.
const floorsFile = "testdata/f1_floors.json"

type floors struct {
	Fields map[string]float64 `json:"fields"`
	// Records is the floor of the record-level F1 (a record found at all).
	Records float64 `json:"records"`
	// MaxNegativeHits is how many negative fixtures may still produce records.
	MaxNegativeHits int `json:"max_negative_hits"`
	// MaxUnitPriceOff is how many records may have $/MW/year off by >0.5% with right inputs.
	MaxUnitPriceOff int `json:"max_unit_price_off"`
}

func TestGolden(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := eval.RunFixtures(fixtures.FS(), x)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("only %d fixtures; the golden set must keep at least 40", len(cases))
	}
	if *update {
		for _, c := range cases {
			path := filepath.Join("..", "fixtures", c.Name+".golden.jsonl")
			if err := os.WriteFile(path, eval.WriteGolden(c.Got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("rewrote %d golden files: review `git diff fixtures/` before committing", len(cases))
		return
	}
	b, err := os.ReadFile(floorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var fl floors
	if err := json.Unmarshal(b, &fl); err != nil {
		t.Fatalf("%s: %v", floorsFile, err)
	}
	r := eval.NewReport()
	for _, c := range cases {
		r.Add(c.Name, c.Got, c.Want)
	}
	failed := false
	if f := r.Records.F1(); f < fl.Records {
		t.Errorf("record F1 %.3f is below the floor %.3f", f, fl.Records)
		failed = true
	}
	for _, field := range eval.Fields {
		floor, ok := fl.Fields[field]
		if !ok {
			t.Errorf("%s has no floor for field %s", floorsFile, field)
			continue
		}
		if f := r.Fields[field].F1(); f < floor {
			t.Errorf("field %s: F1 %.3f is below the floor %.3f", field, f, floor)
			failed = true
		}
	}
	if len(r.NegativeHits) > fl.MaxNegativeHits {
		t.Errorf("negative fixtures produced records: %v", r.NegativeHits)
		failed = true
	}
	if len(r.UnitPriceOff) > fl.MaxUnitPriceOff {
		t.Errorf("$/MW/year off by more than 0.5%% with right inputs: %v", r.UnitPriceOff)
		failed = true
	}
	if failed || testing.Verbose() {
		var sb strings.Builder
		r.Print(&sb)
		t.Log("\n" + sb.String())
		for _, m := range r.Mismatches {
			t.Log(m)
		}
	}
}
