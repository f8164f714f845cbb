// Package es is the ledger in Elasticsearch: the deals behind the alias
// mwledger-contracts (indices mwledger-contracts-vN, template
// schemas/es-index-template.json, _id = deal id), written with conditional
// bulk requests (if_seq_no), read by candidate msearches, aggregated with
// Elasticsearch's own aggregations and migrated by a reindex when
// MappingVersion changes. Identity resolution, merge, reviews and alerts are
// the ledger's (ledger.ApplyBatch over this package's candidate searches):
// it imports ledger and go-elasticsearch, and nothing else of storage.
package es
