package testkit

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/schemas"
)

// The companies of the sample records, by name: tickers and hyperscaler
// flags come from the extractor's gazetteer (company).
var (
	sampleOperators = []string{"IREN", "Hut 8", "Applied Digital", "Cipher Mining", "TeraWulf", "Galaxy Digital",
		"Core Scientific", "Riot Platforms", "Bitdeer", "MARA Holdings", "CleanSpark", "Bitfarms", "HIVE Digital"}
	sampleCounterparties = []string{"Microsoft", "Amazon", "Google", "Meta", "Oracle", "NVIDIA", "AMD", "CoreWeave",
		"Fluidstack", "Anthropic", "Core42",
		"", // an undisclosed hyperscaler
	}
)

// SampleContracts generates n plausible contract records (deterministic for a
// seed) for tests, demos and latency measurements: varied operators,
// counterparties (some undisclosed), types, figures, dates, locations and
// hardware; every fifth deal is reported by a second outlet. Ids and source
// URLs carry prefix, so several runs can share a store.
func SampleContracts(prefix string, n int, seed uint64) []schemas.Contract {
	r := rand.New(rand.NewPCG(seed, 0x6d776c))
	ops, cps := sampleOperators, sampleCounterparties
	types := []string{schemas.TypeColocation, schemas.TypeBareMetal, schemas.TypeCloudServices, schemas.TypeUnknown}
	places := []string{"Childress, Texas", "Abilene, Texas", "Ellendale, North Dakota", "Lake Mariner, New York", "Denton, Texas", "Sweetwater, Texas", "Quebec, Canada"}
	hw := []string{"GB300", "GB200 NVL72", "B200", "H100", "MI355X"}
	outlets := []string{"Reuters", "Bloomberg", "The Block", "DCD", "CoinDesk"}
	out := make([]schemas.Contract, 0, n+n/5)
	for i := range n {
		op := company(ops[r.IntN(len(ops))])
		cp := cps[r.IntN(len(cps))]
		typ := types[r.IntN(len(types))]
		c := schemas.Contract{
			SchemaVersion: 1,
			ID:            fmt.Sprintf("%s-%06d", prefix, i),
			Operator:      schemas.Operator{Name: op.Name, Ticker: op.Ticker},
			Counterparty:  schemas.Counterparty{Hyperscaler: cp == "" || company(cp).Hyperscaler},
			ContractType:  typ,
			Terms:         []string{},
			Confidence:    float64(50+r.IntN(50)) / 100,
			// Distinct sizes keep generated deals apart in identity resolution.
			ExtractorVersion: "sample",
		}
		if cp != "" {
			c.Counterparty.Name = ptr(cp)
		} else {
			c.Counterparty.Descriptor = ptr("investment-grade hyperscaler")
		}
		if r.IntN(10) > 0 {
			c.CapacityMW = ptrF(float64(10 + i%997 + r.IntN(3)*1000))
		}
		years := float64(1 + r.IntN(15))
		if r.IntN(8) > 0 {
			c.TermYears = &years
		}
		if c.CapacityMW != nil && r.IntN(7) > 0 {
			unit := map[string]float64{schemas.TypeColocation: 1.5e6, schemas.TypeBareMetal: 9.7e6, schemas.TypeCloudServices: 11.3e6, schemas.TypeUnknown: 3e6}[typ]
			v := float64(int64(*c.CapacityMW*years*unit*(0.7+0.6*r.Float64())/1e6)) * 1e6
			c.TotalValueUSD = &v
		}
		c.USDPerMWYear = schemas.DerivedUSDPerMWYear(c.TotalValueUSD, c.CapacityMW, c.TermYears)
		if r.IntN(6) > 0 {
			day := fmt.Sprintf("%d-%02d", 2024+r.IntN(3), 1+r.IntN(12))
			if r.IntN(2) == 0 {
				day += fmt.Sprintf("-%02d", 1+r.IntN(28))
			}
			c.AnnouncedOn = &day
		}
		if r.IntN(3) > 0 {
			c.Location = ptr(places[r.IntN(len(places))])
		}
		if typ != schemas.TypeColocation && r.IntN(2) == 0 {
			c.Hardware = ptr(hw[r.IntN(len(hw))])
		}
		if c.Confidence < 0.6 {
			c.Warnings = []string{"usd_per_mw_year outside the band for " + typ}
		}
		label := c.Counterparty.Label()
		sentence := fmt.Sprintf("%s signed a %s agreement with %s for %s at %s.", op.Name, typ, label, mwText(c.CapacityMW), placeText(c.Location))
		title := fmt.Sprintf("%s and %s sign %s deal", op.Name, label, typ)
		c.Evidence = []string{sentence}
		c.Source = schemas.Source{URL: fmt.Sprintf("https://news.example/%s/%d", prefix, i), Title: ptr(title), Outlet: ptr(outlets[r.IntN(len(outlets))])}
		out = append(out, c)
		if i%5 == 0 {
			d := c
			d.Source = schemas.Source{URL: fmt.Sprintf("https://wire.example/%s/%d", prefix, i), Title: ptr(title + " (update)"), Outlet: ptr("Newswire")}
			d.Evidence = []string{fmt.Sprintf("The contract between %s and %s was confirmed by both companies.", op.Name, label)}
			out = append(out, d)
		}
	}
	return out
}

func mwText(p *float64) string {
	if p == nil {
		return "undisclosed capacity"
	}
	return fmt.Sprintf("%.0f MW", *p)
}

func placeText(p *string) string {
	if p == nil {
		return "an undisclosed site"
	}
	return *p
}

func ptr(s string) *string    { return &s }
func ptrF(f float64) *float64 { return &f }

var gazetteer = sync.OnceValue(extractor.DefaultGazetteer)

// company is the gazetteer's entry for a name the generators use: its
// canonical name, ticker and hyperscaler flag. A name the gazetteer does not
// have is a mistake in this package (TestCompaniesAreTheGazetteers).
func company(name string) *extractor.Entity {
	e := gazetteer().Lookup(name)
	if e == nil || e.Name != name {
		panic(fmt.Sprintf("testkit: %q is not a company of extractor/data/entities.yaml", name))
	}
	return e
}
