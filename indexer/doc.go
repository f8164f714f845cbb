// Package indexer writes contract records into the deal ledger.
//
// Reads: Kafka topic mwledger.contracts (schemas.Contract, key = deal id). Writes:
// the Elasticsearch index behind the alias mwledger-contracts (template in
// schemas/es-index-template.json, _id = deal id), or the embedded bbolt store of
// `mwledger run`. One document per deal lists every article that reported it.
// Offsets are committed only after the store acknowledged; what the store rejects
// goes to mwledger.dlq with the reason.
package indexer
