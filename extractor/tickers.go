package extractor

import "strings"

// Tickers maps the tickers of the entities file (upper case) to the
// companies' canonical names: the companies an EDGAR source may name by ticker.
func (g *Gazetteer) Tickers() map[string]string {
	out := map[string]string{}
	for _, e := range g.all {
		if e.Ticker != nil && *e.Ticker != "" {
			out[strings.ToUpper(*e.Ticker)] = e.Name
		}
	}
	return out
}
