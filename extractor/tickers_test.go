package extractor

import "testing"

func TestTickers(t *testing.T) {
	tk := DefaultGazetteer().Tickers()
	for ticker, name := range map[string]string{"IREN": "IREN", "HUT": "Hut 8", "CIFR": "Cipher Mining", "MSFT": "Microsoft"} {
		if tk[ticker] != name {
			t.Errorf("%s → %q, want %q", ticker, tk[ticker], name)
		}
	}
	if _, ok := tk["FLUIDSTACK"]; ok {
		t.Error("a company without a ticker has one")
	}
}
