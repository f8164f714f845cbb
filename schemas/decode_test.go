package schemas

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	good := `{"schema_version":1,"url":"https://a.example/x","canonical_url":"https://a.example/x","fetched_at":"2026-01-02T03:04:05Z","status":200,"html":"<p>x</p>","content_hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","source":"s"}`
	tests := []struct {
		name        string
		msg         string
		reason      string
		errContains string
	}{
		{"ok", good, "", ""},
		{"not json", `{"schema_version":`, ReasonInvalidJSON, "unexpected end"},
		{"binary", "\xff\xfe", ReasonInvalidJSON, "invalid character"},
		{"no version", `{"url":"x"}`, ReasonSchemaVersion, "schema_version none, this build reads 1"},
		{"other version", `{"schema_version":9}`, ReasonSchemaVersion, "schema_version 9"},
		{"schema", `{"schema_version":1,"url":7}`, ReasonSchemaInvalid, "does not match article.schema.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Decode[Article](ArticleSchema, []byte(tt.msg))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if a.URL != "https://a.example/x" {
					t.Fatalf("decoded %+v", a)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason != tt.reason || de.Schema != ArticleSchema {
				t.Fatalf("Decode error = %#v, want a DecodeError with reason %s", err, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Decode error %q does not contain %q", err, tt.errContains)
			}
		})
	}
}
