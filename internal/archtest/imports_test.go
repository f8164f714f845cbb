package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/mwledger/mwledger"

type pkg struct {
	ImportPath string
	Module     *struct{ Path string }
	Imports    []string
	Deps       []string
}

// storage libraries: only a ledger backend subpackage may import one, and
// none imports both.
var (
	esLib     = "github.com/elastic/go-elasticsearch/"
	boltLib   = "go.etcd.io/bbolt"
	sqliteLib = "modernc.org/sqlite"
)

// pending are the rule breaks that are known and not fixed yet, each with
// why. The test fails when a break is not listed here, and when a listed one
// no longer happens (remove it: the list only shrinks).
var pending = map[string]string{}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("reading go list output: %v", err)
		}
		if p.Module != nil && p.Module.Path == module {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of %s", len(pkgs), module)
	}
	return pkgs
}

// breaks lists every break of the rules, as "PKG imports WHAT".
func breaks(pkgs []pkg) []string {
	var out []string
	imports := func(p pkg, lib string) bool {
		return slices.ContainsFunc(p.Imports, func(i string) bool { return strings.HasPrefix(i, lib) })
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		top, _, _ := strings.Cut(rel, "/")
		// 1. Nothing outside cmd/ and internal/ imports internal/.
		if top != "cmd" && top != "internal" {
			for _, i := range p.Imports {
				if strings.HasPrefix(i, module+"/internal/") {
					out = append(out, fmt.Sprintf("%s imports %s", rel, strings.TrimPrefix(i, module+"/")))
				}
			}
		}
		// 2. Only a ledger backend subpackage imports a storage library;
		// 3. none imports both.
		backend := strings.HasPrefix(rel, "ledger/") && strings.Count(rel, "/") == 1
		es, bolt, sql := imports(p, esLib), imports(p, boltLib), imports(p, sqliteLib)
		if es && !backend {
			out = append(out, rel+" imports go-elasticsearch")
		}
		if bolt && !backend {
			out = append(out, rel+" imports bbolt")
		}
		if sql && !backend {
			out = append(out, rel+" imports sqlite")
		}
		if n := btoi(es) + btoi(bolt) + btoi(sql); n > 1 {
			out = append(out, rel+" imports more than one storage library")
		}
		// 4. The ledger logic depends on none, even indirectly: the backends
		// plug into it (ledger/<backend> imports ledger, never the other
		// way); nor do the stages, stream and schemas.
		if rel == "ledger" || rel == "indexer" || rel == "alert" || rel == "stream" || rel == "schemas" || rel == "extractor" {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, esLib) || strings.HasPrefix(d, boltLib) || strings.HasPrefix(d, sqliteLib) {
					out = append(out, fmt.Sprintf("%s depends on %s", rel, d))
					break
				}
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestImportRules(t *testing.T) {
	got := breaks(listPackages(t))
	for _, b := range got {
		if _, ok := pending[b]; !ok {
			t.Errorf("import rule broken: %s", b)
		}
	}
	for b, why := range pending {
		if !slices.Contains(got, b) {
			t.Errorf("%q is listed as pending (%s) but no longer happens: remove it from pending", b, why)
		}
	}
}

// The rules catch what they are meant to catch.
func TestImportRulesCatchBreaks(t *testing.T) {
	p := func(path string, imports ...string) pkg {
		return pkg{ImportPath: module + "/" + path, Imports: imports}
	}
	got := breaks([]pkg{
		p("extractor", module+"/internal/textsafe"),
		p("cmd/mwledger", module+"/internal/cli"),
		p("ledger/es", esLib+"v8"),
		p("ledger/bolt", boltLib),
		p("ledger/mixed", esLib+"v8", boltLib),
		p("ledger/sqlite", sqliteLib),
		p("ledger/sqlbolt", sqliteLib, boltLib),
		p("web", boltLib),
		p("alert", sqliteLib),
		p("ledger", esLib+"v8", module+"/schemas"),
		{ImportPath: module + "/indexer", Deps: []string{module + "/ledger/es", esLib + "v8/esapi"}},
		{ImportPath: module + "/stream", Deps: []string{boltLib}},
		p("ledger/es/estest", esLib+"v8"),
	})
	want := []string{
		"alert imports sqlite",
		"extractor imports internal/textsafe",
		"indexer depends on github.com/elastic/go-elasticsearch/v8/esapi",
		"ledger imports go-elasticsearch",
		"ledger/es/estest imports go-elasticsearch",
		"ledger/mixed imports more than one storage library",
		"ledger/sqlbolt imports more than one storage library",
		"stream depends on go.etcd.io/bbolt",
		"web imports bbolt",
	}
	if !slices.Equal(got, want) {
		t.Errorf("breaks = %q\nwant %q", got, want)
	}
}
