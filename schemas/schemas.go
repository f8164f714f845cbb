package schemas

import (
	"embed"
)

// Version is the schema_version every message of this build writes and accepts.
const Version = 1

// Topic names.
const (
	TopicArticles  = "mwledger.articles"
	TopicContracts = "mwledger.contracts"
	TopicDLQ       = "mwledger.dlq"
)

//go:embed *.json
var files embed.FS

// File returns one of the embedded schema files by name, e.g. "contract.schema.json".
func File(name string) ([]byte, error) { return files.ReadFile(name) }

// IndexTemplate returns the Elasticsearch index template.
func IndexTemplate() []byte {
	b, err := files.ReadFile("es-index-template.json")
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return b
}
