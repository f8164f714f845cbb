// Package sqlite is the embedded ledger in an SQLite file in WAL mode
// (through the pure-Go driver modernc.org/sqlite): the ledger's KVStore
// over tables, shared by several processes (mwledger serve, search, review
// and run on one file). It reads and writes the ledger file (table deals:
// id, doc JSON) and nothing else; it imports ledger and the driver.
package sqlite
