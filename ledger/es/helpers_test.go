package es

import (
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

func f(v float64) *float64 { return &v }
func s(v string) *string   { return &v }

func aggDeal(id, op, cp string, hyper bool, typ string, mw, value, price float64, on string) ledger.Deal {
	d := ledger.Deal{Contract: schemas.Contract{ID: id, Operator: schemas.Operator{Name: op},
		Counterparty: schemas.Counterparty{Name: s(cp), Hyperscaler: hyper}, ContractType: typ,
		CapacityMW: f(mw), TotalValueUSD: f(value), USDPerMWYear: f(price)}, Status: "active"}
	if on != "" {
		d.AnnouncedOn = s(on)
	}
	return d
}
