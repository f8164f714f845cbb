package schemas

import (
	"encoding/json"
	"fmt"
)

// The embedded JSON Schemas, by the name Validate and Decode take.
const (
	ArticleSchema  = "article.schema.json"
	ContractSchema = "contract.schema.json"
	DLQSchema      = "dlq.schema.json"
)

// Reasons a DecodeError gives: they are the dead letters' reasons too.
const (
	ReasonInvalidJSON   = "invalid_json"
	ReasonSchemaVersion = "schema_version"
	ReasonSchemaInvalid = "schema_invalid"
)

// DecodeError says why a message could not be decoded. Nothing a consumer can
// do makes the same bytes decode: the message is dead-lettered with Reason.
type DecodeError struct {
	Schema string // e.g. "contract.schema.json"
	Reason string // ReasonInvalidJSON, ReasonSchemaVersion or ReasonSchemaInvalid
	Err    error
}

func (e *DecodeError) Error() string { return e.Err.Error() }

func (e *DecodeError) Unwrap() error { return e.Err }

// Decode reads one message of the given schema into a T: it checks that the
// message is JSON, that its schema_version is Version, that it matches the
// schema, and then unmarshals it. Every failure is a *DecodeError.
func Decode[T any](schema string, msg []byte) (T, error) {
	var v T
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(msg, &probe); err != nil {
		return v, &DecodeError{schema, ReasonInvalidJSON, err}
	}
	if probe.SchemaVersion == nil || *probe.SchemaVersion != Version {
		got := "none"
		if probe.SchemaVersion != nil {
			got = fmt.Sprint(*probe.SchemaVersion)
		}
		return v, &DecodeError{schema, ReasonSchemaVersion, fmt.Errorf("%s: schema_version %s, this build reads %d", schema, got, Version)}
	}
	if err := Validate(schema, msg); err != nil {
		return v, &DecodeError{schema, ReasonSchemaInvalid, err}
	}
	if err := json.Unmarshal(msg, &v); err != nil {
		return v, &DecodeError{schema, ReasonInvalidJSON, err}
	}
	return v, nil
}
