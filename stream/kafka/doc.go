// Package kafka is stream's Kafka implementation (github.com/segmentio/kafka-go):
// a Publisher that waits for all in-sync replicas and hashes keys to partitions,
// a Consumer that fetches and commits explicitly (never ReadMessage) and never
// commits what it fetched before a rebalance (kafka-go's ConsumerGroup and a
// partition reader per assigned partition, not its group Reader), topic
// creation (EnsureTopics), a connection check (Ping), TLS and SASL (Security).
//
// Reads and writes: Kafka topics. Imports: stream, redact, kafka-go.
package kafka
