package schemas

import (
	"reflect"
	"strings"
)

// The field registry: every field of a contract record, once, with what the
// rest of the program needs to know about it. The other lists of fields are
// made from it (eval.Fields, ledger.ReviewFields, the ledger's merged
// fields) or checked against it by a test that fails when they drift (the
// JSON Schema, the index template, the golden record, the alert message, the
// CSV export, the ledger's partial reads).

// Field names: code that reads, sets or queries one field names it with
// these constants, never with a literal (internal/archtest checks the names
// that cannot be mistaken for ordinary words: those with an underscore).
const (
	FieldSchemaVersion        = "schema_version"
	FieldID                   = "id"
	FieldOperator             = "operator"
	FieldCounterparty         = "counterparty"
	FieldEndUser              = "end_user"
	FieldGuarantor            = "guarantor"
	FieldContractType         = "contract_type"
	FieldCapacityMW           = "capacity_mw"
	FieldTotalValueUSD        = "total_value_usd"
	FieldTermYears            = "term_years"
	FieldUSDPerMWYear         = "usd_per_mw_year"
	FieldReportedUSDPerMWYear = "reported_usd_per_mw_year"
	FieldPrepaymentUSD        = "prepayment_usd"
	FieldGuaranteeUSD         = "guarantee_usd"
	FieldTerms                = "terms"
	FieldLocation             = "location"
	FieldHardware             = "hardware"
	FieldAnnouncedOn          = "announced_on"
	FieldAggregate            = "aggregate"
	FieldSource               = "source"
	FieldEvidence             = "evidence"
	FieldFieldEvidence        = "field_evidence"
	FieldWarnings             = "warnings"
	FieldConfidence           = "confidence"
	FieldExtractorVersion     = "extractor_version"
	FieldEvent                = "event"
)

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
	// and keeps who said what (the ledger's merge).
	Provenance bool
	// Number and Text reach the field of a record, for KindNumber and KindText.
	Number func(*Contract) **float64
	Text   func(*Contract) **string
	// Party reaches the field of a record, for KindParty.
	Party func(*Contract) **Party
}

// Fields are the fields of a contract record, in the order of Contract.
var Fields = []Field{
	{Name: FieldSchemaVersion, Kind: KindOther},
	{Name: FieldID, Kind: KindOther},
	{Name: FieldOperator, Kind: KindOperator, Golden: true, Review: true},
	{Name: FieldCounterparty, Kind: KindCounterparty, Golden: true, Review: true, Provenance: true},
	{Name: FieldEndUser, Kind: KindParty, Golden: true, Review: true, Provenance: true,
		Party: func(c *Contract) **Party { return &c.EndUser }},
	{Name: FieldGuarantor, Kind: KindParty, Golden: true, Review: true, Provenance: true,
		Party: func(c *Contract) **Party { return &c.Guarantor }},
	{Name: FieldContractType, Kind: KindContractType, Golden: true, Review: true, Provenance: true},
	number(FieldCapacityMW, true, func(c *Contract) **float64 { return &c.CapacityMW }),
	number(FieldTotalValueUSD, true, func(c *Contract) **float64 { return &c.TotalValueUSD }),
	number(FieldTermYears, true, func(c *Contract) **float64 { return &c.TermYears }),
	// Derived from the three above: never corrected or merged itself.
	{Name: FieldUSDPerMWYear, Kind: KindNumber, Golden: true, Number: func(c *Contract) **float64 { return &c.USDPerMWYear }},
	number(FieldReportedUSDPerMWYear, true, func(c *Contract) **float64 { return &c.ReportedUSDPerMWYear }),
	number(FieldPrepaymentUSD, true, func(c *Contract) **float64 { return &c.PrepaymentUSD }),
	number(FieldGuaranteeUSD, true, func(c *Contract) **float64 { return &c.GuaranteeUSD }),
	{Name: FieldTerms, Kind: KindList, Golden: true},
	text(FieldLocation, func(c *Contract) **string { return &c.Location }),
	text(FieldHardware, func(c *Contract) **string { return &c.Hardware }),
	text(FieldAnnouncedOn, func(c *Contract) **string { return &c.AnnouncedOn }),
	{Name: FieldAggregate, Kind: KindBool, Golden: true},
	{Name: FieldSource, Kind: KindOther},
	{Name: FieldEvidence, Kind: KindList},
	{Name: FieldFieldEvidence, Kind: KindOther},
	{Name: FieldWarnings, Kind: KindList},
	{Name: FieldConfidence, Kind: KindOther},
	{Name: FieldExtractorVersion, Kind: KindOther},
	{Name: FieldEvent, Kind: KindOther},
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
