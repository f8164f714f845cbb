package schemas

import (
	"reflect"
	"strings"
)

// The field registry: every field of a contract record, once, with what the
// rest of the program needs to know about it. The other lists of fields are
// made from it (eval.Fields, indexer.ReviewFields, the indexer's merged
// fields) or checked against it by a test that fails when they drift (the
// JSON Schema, the index template, the golden record, the alert message, the
// CSV export, the indexer's partial reads).

// Kind is the shape of a field's value.
type Kind string

// Kinds of Field.
const (
	KindNumber       Kind = "number"        // *float64, null when unknown
	KindText         Kind = "text"          // *string, null when unknown
	KindParty        Kind = "party"         // *Party: {name} or null
	KindOperator     Kind = "operator"      // Operator: {name, ticker}
	KindCounterparty Kind = "counterparty"  // Counterparty: {name, descriptor, hyperscaler}
	KindContractType Kind = "contract_type" // one of the Type* constants
	KindBool         Kind = "bool"
	KindList         Kind = "list"  // []string
	KindOther        Kind = "other" // anything else (ids, versions, source, event, maps)
)

// Field is one field of Contract.
type Field struct {
	// Name is the JSON name, as in contract.schema.json and the index.
	Name string
	Kind Kind
	// Golden: an analyst field, kept in golden files and scored by eval.
	Golden bool
	// Review: a reviewer may correct it (`mwledger review correct`).
	Review bool
	// Provenance: the ledger merges it across a deal's sources by authority
	// and keeps who said what (indexer's merge).
	Provenance bool
	// Number and Text reach the field of a record, for KindNumber and KindText.
	Number func(*Contract) **float64
	Text   func(*Contract) **string
	// Party reaches the field of a record, for KindParty.
	Party func(*Contract) **Party
}

// Fields are the fields of a contract record, in the order of Contract.
var Fields = []Field{
	{Name: "schema_version", Kind: KindOther},
	{Name: "id", Kind: KindOther},
	{Name: "operator", Kind: KindOperator, Golden: true, Review: true},
	{Name: "counterparty", Kind: KindCounterparty, Golden: true, Review: true, Provenance: true},
	{Name: "end_user", Kind: KindParty, Golden: true, Review: true, Provenance: true,
		Party: func(c *Contract) **Party { return &c.EndUser }},
	{Name: "guarantor", Kind: KindParty, Golden: true, Review: true, Provenance: true,
		Party: func(c *Contract) **Party { return &c.Guarantor }},
	{Name: "contract_type", Kind: KindContractType, Golden: true, Review: true, Provenance: true},
	number("capacity_mw", true, func(c *Contract) **float64 { return &c.CapacityMW }),
	number("total_value_usd", true, func(c *Contract) **float64 { return &c.TotalValueUSD }),
	number("term_years", true, func(c *Contract) **float64 { return &c.TermYears }),
	// Derived from the three above: never corrected or merged itself.
	{Name: "usd_per_mw_year", Kind: KindNumber, Golden: true, Number: func(c *Contract) **float64 { return &c.USDPerMWYear }},
	number("reported_usd_per_mw_year", true, func(c *Contract) **float64 { return &c.ReportedUSDPerMWYear }),
	number("prepayment_usd", true, func(c *Contract) **float64 { return &c.PrepaymentUSD }),
	number("guarantee_usd", true, func(c *Contract) **float64 { return &c.GuaranteeUSD }),
	{Name: "terms", Kind: KindList, Golden: true},
	text("location", func(c *Contract) **string { return &c.Location }),
	text("hardware", func(c *Contract) **string { return &c.Hardware }),
	text("announced_on", func(c *Contract) **string { return &c.AnnouncedOn }),
	{Name: "aggregate", Kind: KindBool, Golden: true},
	{Name: "source", Kind: KindOther},
	{Name: "evidence", Kind: KindList},
	{Name: "field_evidence", Kind: KindOther},
	{Name: "warnings", Kind: KindList},
	{Name: "confidence", Kind: KindOther},
	{Name: "extractor_version", Kind: KindOther},
	{Name: "event", Kind: KindOther},
}

func number(name string, reviewed bool, p func(*Contract) **float64) Field {
	return Field{Name: name, Kind: KindNumber, Golden: true, Review: reviewed, Provenance: reviewed, Number: p}
}

func text(name string, p func(*Contract) **string) Field {
	return Field{Name: name, Kind: KindText, Golden: true, Review: true, Provenance: true, Text: p}
}

// FieldNames are the names of the fields keep selects, in registry order.
func FieldNames(keep func(Field) bool) []string {
	var out []string
	for _, f := range Fields {
		if keep(f) {
			out = append(out, f.Name)
		}
	}
	return out
}

// FieldByName returns the field called name.
func FieldByName(name string) (Field, bool) {
	for _, f := range Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// IsNumber reports whether name is a numeric field (capacity_mw, total_value_usd, …).
func IsNumber(name string) bool {
	f, ok := FieldByName(name)
	return ok && f.Kind == KindNumber
}

// JSONNames are the JSON names of the fields of a struct value v, in order,
// with the fields of an embedded struct in its place: what a test compares
// with the registry to find a list that drifted.
func JSONNames(v any) []string { return jsonNames(reflect.TypeOf(v)) }

func jsonNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch {
		case name == "" && sf.Anonymous && sf.Type.Kind() == reflect.Struct:
			out = append(out, jsonNames(sf.Type)...)
		case name != "" && name != "-":
			out = append(out, name)
		}
	}
	return out
}
