package extractor

import (
	"strings"
	"sync"

	"github.com/jdkato/prose/v2"
)

var (
	proseOnce  sync.Once
	proseModel *prose.Model
)

func model() *prose.Model {
	proseOnce.Do(func() { proseModel = prose.ModelFromData("en") })
	return proseModel
}

// tagged is a sentence's tokens with their part-of-speech tags.
type tagged []prose.Token

func tag(s string) tagged {
	doc, err := prose.NewDocument(s, prose.UsingModel(model()), prose.WithSegmentation(false), prose.WithExtraction(false))
	if err != nil {
		return nil
	}
	return doc.Tokens()
}

var dealVerbs = map[string]bool{"signed": true, "signs": true, "sign": true, "inked": true, "inks": true, "secured": true, "secures": true,
	"entered": true, "enters": true, "agreed": true, "agrees": true, "won": true, "wins": true, "struck": true, "strikes": true,
	"landed": true, "lands": true, "reached": true, "reaches": true, "announced": true, "announces": true, "executed": true, "closed": true}

// dealBases are the base forms a hedge must govern for a deal to be hypothetical:
// "could sign" is, "a client it would not identify" is not.
var dealBases = map[string]bool{"sign": true, "ink": true, "secure": true, "announce": true, "reach": true, "strike": true, "land": true,
	"agree": true, "close": true, "enter": true, "lease": true, "win": true, "finalize": true, "finalise": true, "award": true}

var hedges = map[string]bool{"could": true, "may": true, "might": true, "would": true, "should": true}

// hypothetical reports a deal spoken of as possible, not done: a hedging modal
// before a verb ("could sign", "may soon announce"), or "plans/aims/hopes to" + verb.
func (t tagged) hypothetical() bool {
	for i, tok := range t {
		w := strings.ToLower(tok.Text)
		if tok.Tag == "MD" && hedges[w] {
			for j := i + 1; j < len(t) && j <= i+3; j++ {
				if dealBases[strings.ToLower(t[j].Text)] {
					return true
				}
			}
		}
		if (w == "plans" || w == "aims" || w == "hopes" || w == "seeks" || w == "intends") && i+2 < len(t) &&
			strings.ToLower(t[i+1].Text) == "to" && dealBases[strings.ToLower(t[i+2].Text)] {
			return true
		}
	}
	return false
}

var notSubjects = map[string]bool{"The": true, "A": true, "An": true, "This": true, "That": true, "It": true, "On": true, "In": true,
	"Its": true, "Our": true, "We": true, "They": true, "He": true, "She": true, "CEO": true, "Shares": true, "Analysts": true}

// properSubject returns the proper-noun phrase that opens the sentence and is the
// subject of a deal verb ("Northwind Compute signed …"), or "".
func (t tagged) properSubject() string {
	var words []string
	i := 0
	for ; i < len(t); i++ {
		tok := t[i]
		if tok.Tag == "NNP" || tok.Tag == "NNPS" || (len(words) > 0 && (tok.Tag == "CD" || tok.Text == "&")) {
			words = append(words, tok.Text)
			continue
		}
		break
	}
	if len(words) == 0 || notSubjects[words[0]] || i >= len(t) {
		return ""
	}
	// Allow "has"/"have" before the verb: "Northwind has signed".
	if (t[i].Text == "has" || t[i].Text == "have") && i+1 < len(t) {
		i++
	}
	if !dealVerbs[strings.ToLower(t[i].Text)] {
		return ""
	}
	return strings.Join(words, " ")
}
