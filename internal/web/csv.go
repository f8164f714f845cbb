package web

import (
	"encoding/csv"
	"github.com/mwledger/mwledger/schemas"
	"io"
	"strconv"
	"strings"

	"github.com/mwledger/mwledger/internal/textsafe"
	"github.com/mwledger/mwledger/ledger"
)

// CSVHeader are the export columns: one row per deal, numbers unformatted
// (plain USD and MW), empty when unknown; multi-valued cells are joined with " | ".
var CSVHeader = []string{
	"id", "operator", "operator_ticker", "counterparty", "counterparty_hyperscaler", schemas.FieldEndUser, "guarantor",
	schemas.FieldContractType, schemas.FieldCapacityMW, schemas.FieldTotalValueUSD, schemas.FieldTermYears, schemas.FieldUSDPerMWYear, schemas.FieldReportedUSDPerMWYear,
	schemas.FieldPrepaymentUSD, schemas.FieldGuaranteeUSD, "terms", "location", "hardware", schemas.FieldAnnouncedOn, "aggregate", "status",
	"confidence", "warnings", "conflicts", "sources_count", "source_urls", "review_status", "reviewed_by", "review_reasons",
}

// WriteCSV writes the header and one row per deal.
func WriteCSV(w io.Writer, deals []ledger.Deal) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, d := range deals {
		if err := cw.Write(CSVRow(d)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVRow is one deal's row, in CSVHeader's order. Control characters are
// removed, and cells that a spreadsheet would run as a formula (=, +, -, @ or
// their full-width forms first, also after spaces, NULs and escapes) are
// prefixed with a quote (textsafe.CSVCell).
func CSVRow(d ledger.Deal) []string {
	var urls []string
	for _, s := range d.Sources {
		urls = append(urls, s.URL)
	}
	var endUser, guarantor string
	if d.EndUser != nil {
		endUser = d.EndUser.Name
	}
	if d.Guarantor != nil {
		guarantor = d.Guarantor.Name
	}
	row := []string{
		d.ID, d.Operator.Name, str(d.Operator.Ticker), d.Counterparty.Label(), strconv.FormatBool(d.Counterparty.Hyperscaler), endUser, guarantor,
		d.ContractType, fnum(d.CapacityMW), fnum(d.TotalValueUSD), fnum(d.TermYears), fnum(d.USDPerMWYear), fnum(d.ReportedUSDPerMWYear),
		fnum(d.PrepaymentUSD), fnum(d.GuaranteeUSD), strings.Join(d.Terms, " | "), str(d.Location), str(d.Hardware), str(d.AnnouncedOn),
		strconv.FormatBool(d.Aggregate), d.Status, strconv.FormatFloat(d.Confidence, 'f', -1, 64),
		strings.Join(d.Warnings, " | "), strings.Join(d.Conflicts, " | "), strconv.Itoa(len(d.Sources)), strings.Join(urls, " | "),
		"", "", strings.Join(d.ReviewReasons, " | "),
	}
	if d.Review != nil {
		row[len(row)-3], row[len(row)-2] = d.Review.Status, d.Review.By
	}
	for i, c := range row {
		row[i] = textsafe.CSVCell(c)
	}
	return row
}

func fnum(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
