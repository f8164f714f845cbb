package schemas

import "time"

// DeadLetter is a message a stage could not process, on mwledger.dlq.
type DeadLetter struct {
	SchemaVersion int       `json:"schema_version"`
	Stage         string    `json:"stage"`
	Reason        string    `json:"reason"`
	Error         string    `json:"error"`
	FailedAt      time.Time `json:"failed_at"`
	Topic         string    `json:"topic,omitempty"`
	Partition     int       `json:"partition,omitempty"`
	Offset        int64     `json:"offset,omitempty"`
	Key           string    `json:"key,omitempty"`
	Payload       string    `json:"payload"`
	PayloadBase64 bool      `json:"payload_base64,omitempty"`
}
