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

var reHardware = regexp.MustCompile(`(?i)\b(GB300|GB200|B300|B200|H200|H100|MI355X|MI350|MI325X|MI300X|MI450|Vera Rubin|Rubin|Blackwell Ultra|Blackwell|Hopper)\b`)

var hardwareCanon = map[string]string{"vera rubin": "Vera Rubin", "rubin": "Rubin", "blackwell ultra": "Blackwell Ultra", "blackwell": "Blackwell", "hopper": "Hopper"}

// findHardware returns the most specific system a deal's wording names.
func findHardware(lower string) string {
	ms := reHardware.FindAllString(lower, -1)
	best := ""
	for _, m := range ms {
		name := hardwareCanon[strings.ToLower(m)]
		if name == "" {
			name = strings.ToUpper(m)
			return name // a model number beats a family name
		}
		if best == "" {
			best = name
		}
	}
	return best
}
