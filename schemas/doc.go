// Package schemas holds the wire formats of mwledger: the JSON Schemas of the Kafka
// messages (raw articles on mwledger.articles, contract records on
// mwledger.contracts, dead letters on mwledger.dlq), the Elasticsearch index template,
// and the Go types that match them. Every message carries SchemaVersion.
package schemas
