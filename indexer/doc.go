// Package indexer is the stage that writes contract records into the deal
// ledger.
//
// Reads: Kafka topic mwledger.contracts (schemas.Contract, key = deal id).
// Writes: a ledger.Store (ledger/es, or the embedded ledger file over
// ledger/sqlite or ledger/bolt). Records are decoded and checked against the
// contract schema here; what the ledger does with them (identity, merge,
// alerts) is package ledger's. Offsets are committed only after the store
// acknowledged; what the store rejects goes to mwledger.dlq with the reason.
// Imports: stream, schemas, ledger; no storage library and nothing internal.
package indexer
