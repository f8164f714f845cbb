package schemas

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

func compileAll() {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	compiled = map[string]*jsonschema.Schema{}
	for _, name := range []string{"article.schema.json", "contract.schema.json", "dlq.schema.json"} {
		raw, err := files.ReadFile(name)
		if err != nil {
			compileErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			compileErr = fmt.Errorf("parsing %s: %w", name, err)
			return
		}
		if err := c.AddResource(name, doc); err != nil {
			compileErr = fmt.Errorf("adding %s: %w", name, err)
			return
		}
		s, err := c.Compile(name)
		if err != nil {
			compileErr = fmt.Errorf("compiling %s: %w", name, err)
			return
		}
		compiled[name] = s
	}
}

// Validate checks a JSON message against one of the embedded schemas
// ("article.schema.json", "contract.schema.json", "dlq.schema.json").
func Validate(schema string, msg []byte) error {
	compileOnce.Do(compileAll)
	if compileErr != nil {
		return compileErr
	}
	s, ok := compiled[schema]
	if !ok {
		return fmt.Errorf("unknown schema %q", schema)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("invalid json: %w", err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("does not match %s: %w", schema, err)
	}
	return nil
}
