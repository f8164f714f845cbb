package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// fieldLiterals lists, as "file:line: name", every string literal in the Go
// files under root (tests and package schemas aside) that spells one of names.
// Struct tags are not literals here: the tests of each package compare its
// tags with the registry (schemas.JSONNames).
func fieldLiterals(t *testing.T, root string, names []string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "schemas", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				// The type, not the tag.
				if n.Type != nil {
					ast.Inspect(n.Type, func(m ast.Node) bool { return visitLit(fset, m, names, &out) })
				}
				return false
			case *ast.ImportSpec:
				return false
			}
			return visitLit(fset, n, names, &out)
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func visitLit(fset *token.FileSet, n ast.Node, names []string, out *[]string) bool {
	bl, ok := n.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return true
	}
	if v, err := strconv.Unquote(bl.Value); err == nil && slices.Contains(names, v) {
		*out = append(*out, fset.Position(bl.Pos()).String()+": "+v)
	}
	return true
}

// distinctiveFields are the registry's names that cannot be an ordinary word
// ("capacity_mw", not "operator" or "source").
func distinctiveFields() []string {
	return schemas.FieldNames(func(f schemas.Field) bool { return strings.Contains(f.Name, "_") })
}

// The field registry is the only place a field's name is spelled: everything
// else uses the schemas.Field* constants or the registry itself.
func TestFieldNamesComeFromTheRegistry(t *testing.T) {
	names := distinctiveFields()
	if len(names) < 10 {
		t.Fatalf("only %d distinctive field names in the registry: %q", len(names), names)
	}
	for _, l := range fieldLiterals(t, "../..", names) {
		t.Errorf("field name spelled as a literal (use the schemas.Field* constant): %s", l)
	}
}

// The check finds a literal, and leaves tags, imports and constants alone.
func TestFieldLiteralCheckCatches(t *testing.T) {
	dir := t.TempDir()
	src := "package p\n\ntype T struct {\n\tMW *float64 `json:\"capacity_mw\"`\n}\n\nvar m = map[string]int{\"capacity_mw\": 1}\n\nfunc f(x string) bool { return x == \"term_years\" || x == \"capacity\" }\n"
	writeFile(t, filepath.Join(dir, "p.go"), src)
	writeFile(t, filepath.Join(dir, "p_test.go"), "package p\n\nvar _ = \"capacity_mw\"\n")
	writeFile(t, filepath.Join(dir, "schemas", "s.go"), "package schemas\n\nconst X = \"capacity_mw\"\n")
	got := fieldLiterals(t, dir, distinctiveFields())
	want := []string{
		filepath.Join(dir, "p.go") + ":7:24: capacity_mw",
		filepath.Join(dir, "p.go") + ":9:37: term_years",
	}
	if !slices.Equal(got, want) {
		t.Errorf("found %q\nwant %q", got, want)
	}
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
