package extractor

import (
	"regexp"
	"strings"
	"unicode"
)

var states = map[string]string{
	"Texas": "Texas", "TX": "Texas", "North Dakota": "North Dakota", "ND": "North Dakota", "New York": "New York", "NY": "New York",
	"Louisiana": "Louisiana", "LA": "Louisiana", "Oklahoma": "Oklahoma", "Georgia": "Georgia", "Kentucky": "Kentucky", "Ohio": "Ohio",
	"Pennsylvania": "Pennsylvania", "PA": "Pennsylvania", "Wyoming": "Wyoming", "Nebraska": "Nebraska", "Tennessee": "Tennessee",
	"Washington": "Washington", "Virginia": "Virginia", "Arkansas": "Arkansas", "Mississippi": "Mississippi", "Alabama": "Alabama",
	"South Carolina": "South Carolina", "North Carolina": "North Carolina", "Indiana": "Indiana", "Illinois": "Illinois", "Michigan": "Michigan",
	"Arizona": "Arizona", "Nevada": "Nevada", "New Mexico": "New Mexico", "Colorado": "Colorado", "Montana": "Montana", "Utah": "Utah",
	"Quebec": "Quebec", "Québec": "Quebec", "Ontario": "Ontario", "Alberta": "Alberta", "British Columbia": "British Columbia", "Manitoba": "Manitoba",
}

var reLocation = regexp.MustCompile(`\b((?:[A-Z][a-z]+)(?:\s[A-Z][a-z]+){0,2}),\s(Texas|TX|North Dakota|ND|New York|NY|Louisiana|LA|Oklahoma|Georgia|Kentucky|Ohio|Pennsylvania|PA|Wyoming|Nebraska|Tennessee|Washington|Virginia|Arkansas|Mississippi|Alabama|South Carolina|North Carolina|Indiana|Illinois|Michigan|Arizona|Nevada|New Mexico|Colorado|Montana|Utah|Quebec|Québec|Ontario|Alberta|British Columbia|Manitoba)\b`)

var notPlaces = map[string]bool{"The": true, "In": true, "At": true, "Its": true, "Inc": true, "Corp": true, "Dallas-based": true}

// findLocation returns the first "City, State" of a deal's sentences.
func findLocation(sentences []string) string {
	for _, s := range sentences {
		for _, m := range reLocation.FindAllStringSubmatch(s, -1) {
			words := strings.Fields(m[1])
			for len(words) > 1 && notPlaces[words[0]] {
				words = words[1:]
			}
			if notPlaces[words[0]] {
				continue
			}
			return strings.Join(words, " ") + ", " + states[m[2]]
		}
	}
	return ""
}

// hardwareNames in the order they are preferred: model numbers first (the
// most specific), then family names, longer before shorter.
var hardwareNames = []string{"gb300", "gb200", "b300", "b200", "h200", "h100", "mi355x", "mi350", "mi325x", "mi300x", "mi450",
	"vera rubin", "blackwell ultra", "rubin", "blackwell", "hopper"}

var hardwareCanon = map[string]string{"vera rubin": "Vera Rubin", "rubin": "Rubin", "blackwell ultra": "Blackwell Ultra", "blackwell": "Blackwell", "hopper": "Hopper"}

// findHardware returns the most specific system a deal's wording names.
func findHardware(lower string) string {
	// The first model number named beats any family name; else the first family.
	model, family := "", ""
	mAt, fAt := len(lower)+1, len(lower)+1
	for _, h := range hardwareNames {
		i := wordIndex(lower, h, 0)
		if i < 0 {
			continue
		}
		if name, ok := hardwareCanon[h]; ok {
			if i < fAt {
				family, fAt = name, i
			}
		} else if i < mAt {
			model, mAt = strings.ToUpper(h), i
		}
	}
	if model != "" {
		return model
	}
	return family
}

// regions are the states, provinces and countries a deal's site is told by,
// by their words (one or two).
var regions = func() map[string]string {
	out := map[string]string{}
	for _, r := range []string{"Norway", "Sweden", "Finland", "Iceland", "Denmark", "Portugal", "Spain", "France", "Germany", "United Kingdom", "UK", "England", "Scotland",
		"Wales", "Ireland", "Netherlands", "Italy", "Poland", "Canada", "Japan", "Korea", "India", "Australia", "Malaysia", "Singapore", "Saudi Arabia", "UAE",
		"Brazil", "Chile", "Mexico", "Paraguay", "Ethiopia", "Kazakhstan"} {
		out[r] = r
	}
	for k, v := range states {
		if k == v && len(k) > 2 {
			out[k] = v
		}
	}
	return out
}()

// reDateline is a news dateline at a sentence's start ("NEW YORK, Dec. 17,
// 2025 (GLOBE NEWSWIRE) --", "New York, United States - December 17, 2025 -"):
// where the story was filed, not where the deal is.
var reDateline = regexp.MustCompile(`^[^.!?]{0,60}?(?:\((?:GLOBE NEWSWIRE|BUSINESS WIRE|PRNewswire|Reuters|AP)\)\s*(?:--|–|—|-)?|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},\s+\d{4}\s*(?:--|–|—|-))`)

// regionOf returns the first state, province or country a sentence names
// (after its dateline, if it has one).
func regionOf(s string) string {
	if strings.ContainsAny(firstBytes(s, 90), "(-–—") {
		if m := reDateline.FindStringIndex(s); m != nil {
			s = s[m[1]:]
		}
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	for i, w := range words {
		if w == "" || !unicode.IsUpper([]rune(w)[0]) {
			continue
		}
		if i+1 < len(words) {
			if r, ok := regions[w+" "+words[i+1]]; ok {
				return r
			}
		}
		if r, ok := regions[w]; ok {
			return r
		}
	}
	return ""
}
