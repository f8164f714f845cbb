package es

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// mappingHashes records, per MappingVersion, the SHA-256 of the template's
// mappings (keys sorted, compact). An index keeps the mapping it was created
// with and the mapping is strict: a changed mapping under the same version
// would make writes to existing indices fail. So a change to the mappings must
// bump MappingVersion (existing indices then migrate by reindex) and add its
// hash here.
var mappingHashes = map[int]string{
	3: "364e191e29452ae63bda29d1d0b04ded9d54f9831de31e9c32a00f83bd45e7cc",
	4: "db4112d74936fe7cc2a2b7f1f30c4fd5cad141b8c526c5e9b2560e43b5937f24", // source(s).fetched_url
	5: "2f72aaef6cca6c71e8ad4fbf770de6ae9a1635e0c65c3b4c8857bfe3b74c0067", // operator.key, counterparty.key (schemas.Key)
	// The same mappings: version 6 migrates (by reindex) so that every
	// document has the keys identity now looks deals up by (counterparty.key
	// of an undisclosed counterparty's descriptor too).
	6: "2f72aaef6cca6c71e8ad4fbf770de6ae9a1635e0c65c3b4c8857bfe3b74c0067",
}

func TestMappingChangeBumpsVersion(t *testing.T) {
	var tmpl struct {
		Version  int `json:"version"`
		Template struct {
			Mappings any `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(schemas.IndexTemplate(), &tmpl); err != nil {
		t.Fatal(err)
	}
	if tmpl.Version != MappingVersion {
		t.Errorf("the template's version is %d, MappingVersion %d: keep them equal", tmpl.Version, MappingVersion)
	}
	canon, err := json.Marshal(tmpl.Template.Mappings) // maps marshal with sorted keys
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	got := hex.EncodeToString(sum[:])
	if want := mappingHashes[MappingVersion]; got != want {
		t.Errorf("the mappings changed under MappingVersion %d (hash %s, recorded %q): bump MappingVersion in es.go and the template's version, and record %s for it in mappingHashes",
			MappingVersion, got, want, got)
	}
}
