package extractor

import (
	"regexp"
	"strings"
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
