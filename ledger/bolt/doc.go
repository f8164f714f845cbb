// Package bolt is the embedded ledger in a bbolt file: the format mwledger
// wrote before SQLite (ledger/sqlite), still read and written, by one
// process at a time (bbolt locks the file). It is the ledger's KVStore over
// bbolt buckets; it imports ledger and go.etcd.io/bbolt.
package bolt
