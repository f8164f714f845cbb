// Package ledger is the deal ledger's logic, written once over a small
// backend interface.
//
// It holds the deal document, identity resolution, merging of reports,
// source authority, a deal's lifecycle, reviews, alert outbox entries,
// queries and aggregations. Storage is a backend's: ledger/es
// (Elasticsearch, alias mwledger-contracts) implements Store itself with
// native searches and aggregations; the embedded ledger file is a KVStore
// over ledger/sqlite (what mwledger writes) or ledger/bolt (older files).
// ledger/ledgertest is the conformance suite every backend passes.
// Imports: schemas only from this module; no storage library.
package ledger
