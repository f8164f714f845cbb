package schemas

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"testing"
)

func allFields(Field) bool { return true }

func TestFieldRegistryMatchesContract(t *testing.T) {
	if got, want := FieldNames(allFields), JSONNames(Contract{}); !slices.Equal(got, want) {
		t.Errorf("Fields = %v\nContract's JSON fields = %v", got, want)
	}
	for _, f := range Fields {
		switch {
		case f.Kind == KindNumber && f.Number == nil, f.Kind == KindText && f.Text == nil, f.Kind == KindParty && f.Party == nil:
			t.Errorf("%s: %s field without its accessor", f.Name, f.Kind)
		case f.Provenance && !f.Review:
			t.Errorf("%s: a merged field a reviewer cannot correct", f.Name)
		}
	}
	// The accessors reach their own field: set each through it and read the JSON.
	var c Contract
	for i, f := range Fields {
		v := float64(i)
		s := f.Name
		switch {
		case f.Number != nil:
			*f.Number(&c) = &v
		case f.Text != nil:
			*f.Text(&c) = &s
		case f.Party != nil:
			*f.Party(&c) = &Party{Name: s}
		}
	}
	raw, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for i, f := range Fields {
		switch {
		case f.Number != nil && m[f.Name] != float64(i), f.Text != nil && m[f.Name] != f.Name:
			t.Errorf("%s: the accessor reaches another field (%v)", f.Name, m[f.Name])
		case f.Party != nil && !reflect.DeepEqual(m[f.Name], map[string]any{"name": f.Name}):
			t.Errorf("%s: the accessor reaches another field (%v)", f.Name, m[f.Name])
		}
	}
}

func TestFieldRegistryMatchesJSONSchema(t *testing.T) {
	raw, err := File(ContractSchema)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	var props []string
	for k := range s.Properties {
		props = append(props, k)
	}
	want := FieldNames(allFields)
	sort.Strings(props)
	sort.Strings(want)
	if !slices.Equal(props, want) {
		t.Errorf("contract.schema.json properties = %v\nregistry = %v", props, want)
	}
}

func TestFieldRegistryMatchesIndexTemplate(t *testing.T) {
	var tpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(IndexTemplate(), &tpl); err != nil {
		t.Fatal(err)
	}
	props := tpl.Template.Mappings.Properties
	if len(props) == 0 {
		t.Fatal("no mapping properties in es-index-template.json")
	}
	for _, f := range Fields {
		if f.Golden || f.Kind == KindNumber {
			if _, ok := props[f.Name]; !ok {
				t.Errorf("es-index-template.json maps no %s", f.Name)
			}
		}
	}
}
