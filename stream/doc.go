// Package stream carries messages between the stages and holds what every stage
// shares: the message, Publisher and Consumer (message.go), batch fetching
// (batch.go), an in-process bus for the embedded mode (memory.go), the typed
// StageError that says whether to retry or dead-letter (errors.go), dead
// letters (deadletter.go), retry backoff (backoff.go) and the one stage runner
// (runner.go). Its Kafka implementation is stream/kafka.
//
// Delivery is at-least-once: a consumer commits a message only after the work
// it caused is done, and an uncommitted message is delivered again.
//
// Reads: a topic through a Consumer. Writes: topics through a Publisher, dead
// letters to schemas.TopicDLQ. Imports: the standard library and schemas.
package stream
