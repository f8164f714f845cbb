// Package indexer writes contract records into the deal ledger.
//
// Reads: Kafka topic mwledger.contracts (schemas.Contract, key = deal id).
// Writes: a Store, one document per deal listing every article that reported
// it. The ledger's logic is here (identity resolution, merge, reviews,
// alerts, queries, aggregations); the storage is a backend's: ledger/es
// (Elasticsearch, alias mwledger-contracts), or the embedded ledger file
// (KVStore over ledger/sqlite or ledger/bolt). It imports no storage library.
// Offsets are committed only after the store acknowledged; what the store
// rejects goes to mwledger.dlq with the reason.
package indexer
