package eval

import (
	"bytes"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/mwledger/mwledger/extractor"
)

// Case is one fixture's result.
type Case struct {
	Name      string
	Got, Want []Golden
}

// CaseNames lists the cases of fsys: the names of its <case>.html files, sorted.
func CaseNames(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".html"); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// RunFixture extracts <name>.html of fsys and reads <name>.golden.jsonl.
func RunFixture(fsys fs.FS, x *extractor.Extractor, name string) (Case, error) {
	body, err := fs.ReadFile(fsys, name+".html")
	if err != nil {
		return Case{}, err
	}
	page, err := extractor.ReadHTML(body, "")
	if err != nil {
		return Case{}, fmt.Errorf("%s.html: %w", name, err)
	}
	c := Case{Name: name}
	for _, r := range x.FromPage(page, page.Canonical) {
		c.Got = append(c.Got, FromContract(r))
	}
	gb, err := fs.ReadFile(fsys, name+".golden.jsonl")
	if err != nil {
		return Case{}, fmt.Errorf("%s: no golden file: %w", name, err)
	}
	if c.Want, err = ReadGolden(bytes.NewReader(gb)); err != nil {
		return Case{}, fmt.Errorf("%s.golden.jsonl: %w", name, err)
	}
	return c, nil
}

// RunFixtures runs every case of fsys (RunFixture), in name order.
func RunFixtures(fsys fs.FS, x *extractor.Extractor) ([]Case, error) {
	names, err := CaseNames(fsys)
	if err != nil {
		return nil, err
	}
	out := make([]Case, 0, len(names))
	for _, name := range names {
		c, err := RunFixture(fsys, x, name)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
