package alert

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mwledger/mwledger/schemas"
)

// Changes a rule can alert on.
const (
	OnNew                   = "new"
	OnCounterpartyDisclosed = "counterparty_disclosed"
)

// Roles a hyperscaler can take in a deal.
const (
	RoleCounterparty = "counterparty"
	RoleGuarantor    = "guarantor"
	RoleEndUser      = schemas.FieldEndUser
)

//go:embed default-rules.yaml
var defaultRules []byte

// Rules is the alert rules file.
type Rules struct {
	// Hyperscalers are the names that count as hyperscalers (case-insensitive).
	// Required: at least one.
	Hyperscalers []string `yaml:"hyperscalers"`
	// DescriptorKeywords make an undisclosed counterparty count as a hyperscaler
	// when its descriptor contains one of them. Default: none.
	DescriptorKeywords []string `yaml:"descriptor_keywords"`
	// Rules are tried in order; the first that matches a change names the alert.
	// Required: at least one.
	Rules []Rule `yaml:"rules"`
}

// Rule says which changes of which deals alert.
type Rule struct {
	// Name identifies the rule in alerts. Required, unique.
	Name string `yaml:"name"`
	// On lists the changes: new, counterparty_disclosed, upsize, extension,
	// amendment, guarantee_added, cancellation. Required.
	On []string `yaml:"on"`
	// Roles where a hyperscaler must appear: counterparty, guarantor, end_user.
	// Default: counterparty and guarantor.
	Roles []string `yaml:"roles"`
	// MinMW and MinValueUSD: the deal qualifies when it reaches one of those
	// that are set (> 0). Default 0 (any size).
	MinMW       float64 `yaml:"min_mw"`
	MinValueUSD float64 `yaml:"min_value_usd"`
	// ContractTypes the deal must have. Default: any.
	ContractTypes []string `yaml:"contract_types"`
}

// DefaultRules returns the embedded default rules.
func DefaultRules() Rules {
	r, err := ParseRules(defaultRules)
	if err != nil {
		panic(err) // embedded and tested
	}
	return r
}

// LoadRules reads and validates a rules file.
func LoadRules(path string) (Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Rules{}, fmt.Errorf("reading alert rules: %w", err)
	}
	r, err := ParseRules(b)
	if err != nil {
		return Rules{}, fmt.Errorf("alert rules %s: %w", path, err)
	}
	return r, nil
}

// ParseRules decodes (strictly: unknown keys are errors) and validates rules.
func ParseRules(b []byte) (Rules, error) {
	var r Rules
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return Rules{}, fmt.Errorf("decoding: %w", err)
	}
	for i := range r.Rules {
		if len(r.Rules[i].Roles) == 0 {
			r.Rules[i].Roles = []string{RoleCounterparty, RoleGuarantor}
		}
	}
	return r, r.Validate()
}

// Validate names the first bad field.
func (r *Rules) Validate() error {
	if len(r.Hyperscalers) == 0 {
		return errors.New("hyperscalers: list at least one name")
	}
	if len(r.Rules) == 0 {
		return errors.New("rules: list at least one rule")
	}
	changes := append([]string{OnNew, OnCounterpartyDisclosed}, schemas.EventTypes...)
	types := []string{schemas.TypeColocation, schemas.TypeBareMetal, schemas.TypeCloudServices, schemas.TypeUnknown}
	names := map[string]bool{}
	for i, ru := range r.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		if ru.Name == "" {
			return fmt.Errorf("%s.name: required", at)
		}
		if names[ru.Name] {
			return fmt.Errorf("%s.name: %q is used twice", at, ru.Name)
		}
		names[ru.Name] = true
		if len(ru.On) == 0 {
			return fmt.Errorf("%s (%s).on: required, any of %s", at, ru.Name, strings.Join(changes, ", "))
		}
		for _, o := range ru.On {
			if !slices.Contains(changes, o) {
				return fmt.Errorf("%s (%s).on: %q is not one of %s", at, ru.Name, o, strings.Join(changes, ", "))
			}
		}
		for _, role := range ru.Roles {
			if role != RoleCounterparty && role != RoleGuarantor && role != RoleEndUser {
				return fmt.Errorf("%s (%s).roles: %q is not one of counterparty, guarantor, end_user", at, ru.Name, role)
			}
		}
		for _, t := range ru.ContractTypes {
			if !slices.Contains(types, t) {
				return fmt.Errorf("%s (%s).contract_types: %q is not one of %s", at, ru.Name, t, strings.Join(types, ", "))
			}
		}
		if ru.MinMW < 0 || ru.MinValueUSD < 0 {
			return fmt.Errorf("%s (%s): min_mw and min_value_usd must not be negative", at, ru.Name)
		}
	}
	return nil
}
