// Package integration holds the tests that run the pipeline against the real Kafka
// broker and Elasticsearch node started by scripts/services.sh. They live in one
// package so that they run one after another and can compare index counts.
package integration
