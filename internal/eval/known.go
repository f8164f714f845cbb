package eval

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"
)

// KnownMiss is a difference between the extractor and a golden file that the
// golden test accepts, with the reason.
type KnownMiss struct {
	// Record is the record's RecordKey ("IREN / Microsoft / 200 MW").
	Record string `yaml:"record"`
	// Field is a golden field, Missed or Unexpected.
	Field string `yaml:"field"`
	// Reason says why the difference is accepted for now.
	Reason string `yaml:"reason"`
}

// KnownMisses are the accepted differences per fixture (case name).
type KnownMisses map[string][]KnownMiss

const knownMissesHeader = `# Differences between the extractor's records and the golden files that
# TestGolden (go test ./extractor) accepts, per fixture. Any other difference
# fails the fixture's subtest, and so does an entry here that no longer
# happens (remove it). record: as the test names it (operator / counterparty /
# MW); field: a golden field, or "missed" (golden record not extracted) or
# "unexpected" (extracted record not in the golden file); reason: why.
#
# Rewrite from the current differences (keeps the reasons of entries that
# still apply; new entries get -known-misses-reason):
#   go test ./extractor -run TestGolden -known-misses-update -known-misses-reason "why"
`

// ReadKnownMisses reads a known-misses file; a missing file is an empty list.
func ReadKnownMisses(path string) (KnownMisses, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return KnownMisses{}, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := ParseKnownMisses(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParseKnownMisses parses and validates a known-misses file.
func ParseKnownMisses(b []byte) (KnownMisses, error) {
	k := KnownMisses{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil && err != io.EOF {
		return nil, err
	}
	if k == nil {
		k = KnownMisses{}
	}
	return k, k.Validate()
}

// Validate names the first entry with an unknown field, no record, no reason,
// or listed twice.
func (k KnownMisses) Validate() error {
	for _, name := range k.fixtures() {
		seen := map[[2]string]bool{}
		for i, m := range k[name] {
			switch {
			case m.Record == "":
				return fmt.Errorf("%s entry %d: no record", name, i+1)
			case m.Field != Missed && m.Field != Unexpected && !slices.Contains(Fields, m.Field):
				return fmt.Errorf("%s entry %d (%s): field %q is not one of %v, %q or %q", name, i+1, m.Record, m.Field, Fields, Missed, Unexpected)
			case m.Reason == "":
				return fmt.Errorf("%s entry %d (%s, %s): no reason", name, i+1, m.Record, m.Field)
			case seen[[2]string{m.Record, m.Field}]:
				return fmt.Errorf("%s entry %d (%s, %s): listed twice", name, i+1, m.Record, m.Field)
			}
			seen[[2]string{m.Record, m.Field}] = true
		}
	}
	return nil
}

func (k KnownMisses) fixtures() []string {
	names := make([]string, 0, len(k))
	for n := range k {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Check splits a fixture's differences into the new ones and the known ones,
// and lists the known misses of the fixture that did not happen.
func (k KnownMisses) Check(fixture string, diffs []Difference) (fresh, known []Difference, stale []KnownMiss) {
	listed := map[[2]string]bool{}
	for _, m := range k[fixture] {
		listed[[2]string{m.Record, m.Field}] = true
	}
	happened := map[[2]string]bool{}
	for _, d := range diffs {
		key := [2]string{d.Record, d.Field}
		happened[key] = true
		if listed[key] {
			known = append(known, d)
		} else {
			fresh = append(fresh, d)
		}
	}
	for _, m := range k[fixture] {
		if !happened[[2]string{m.Record, m.Field}] {
			stale = append(stale, m)
		}
	}
	return fresh, known, stale
}

// Set makes diffs the fixture's known misses: an entry that still applies
// keeps its reason, the others get reason. No diffs removes the fixture.
func (k KnownMisses) Set(fixture string, diffs []Difference, reason string) {
	old := map[[2]string]string{}
	for _, m := range k[fixture] {
		old[[2]string{m.Record, m.Field}] = m.Reason
	}
	var ms []KnownMiss
	for _, d := range diffs {
		r, ok := old[[2]string{d.Record, d.Field}]
		if !ok {
			r = reason
		}
		ms = append(ms, KnownMiss{Record: d.Record, Field: d.Field, Reason: r})
	}
	if len(ms) == 0 {
		delete(k, fixture)
		return
	}
	k[fixture] = ms
}

// Marshal renders the file: the header, then the fixtures in name order.
func (k KnownMisses) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(knownMissesHeader)
	if len(k) == 0 {
		b.WriteString("{}\n")
		return b.Bytes(), nil
	}
	for _, name := range k.fixtures() {
		b.WriteByte('\n')
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(map[string][]KnownMiss{name: k[name]}); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
