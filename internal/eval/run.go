package eval

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"github.com/mwledger/mwledger/extractor"
)

// Case is one fixture's result.
type Case struct {
	Name      string
	Got, Want []Golden
}

// RunFixtures extracts every <case>.html of fsys and reads its golden file.
func RunFixtures(fsys fs.FS, x *extractor.Extractor) ([]Case, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".html")
		if !ok {
			continue
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		page, err := extractor.ReadHTML(body, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		c := Case{Name: name}
		for _, r := range x.FromPage(page, page.Canonical) {
			c.Got = append(c.Got, FromContract(r))
		}
		gb, err := fs.ReadFile(fsys, name+".golden.jsonl")
		if err != nil {
			return nil, fmt.Errorf("%s: no golden file: %w", name, err)
		}
		if c.Want, err = ReadGolden(bytes.NewReader(gb)); err != nil {
			return nil, fmt.Errorf("%s.golden.jsonl: %w", name, err)
		}
		out = append(out, c)
	}
	return out, nil
}
