package backfill

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/mwledger/mwledger/internal/statedb"
)

// State is what a backfill remembers across runs, in a state file
// (internal/statedb: SQLite): where each WARC file was left (a resume point)
// and every article published, by canonical URL and by content hash. A
// checkpoint and the articles published before it are written in one
// transaction.
type State struct {
	db *statedb.DB
}

const (
	tableFiles  = "files"
	tableURLs   = "urls"
	tableHashes = "hashes"
)

// FileState is the resume point of one WARC file.
type FileState struct {
	// Size of the file when the point was recorded: a file of another size is
	// another file (or one still being downloaded) and is read again from the
	// point only when it grew.
	Size int64 `json:"size"`
	// Offset is the compressed offset of the gzip member to resume at, Skip
	// the decompressed bytes to discard in it.
	Offset int64 `json:"offset"`
	Skip   int64 `json:"skip"`
	// Done: the file was read to its end (or to a break, Broken).
	Done      bool      `json:"done"`
	Broken    string    `json:"broken,omitempty"`
	Records   int64     `json:"records"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OpenState opens (or creates) the state file (see statedb.Open for a bbolt
// file of an older mwledger: it is moved aside with a warning on log).
func OpenState(path string, log *slog.Logger) (*State, error) {
	db, err := statedb.Open(path, "backfill state", log, tableFiles, tableURLs, tableHashes)
	if err != nil {
		return nil, err
	}
	return &State{db: db}, nil
}

// Close closes the file.
func (s *State) Close() error { return s.db.Close() }

// File returns the resume point of a file (by absolute path).
func (s *State) File(path string) (FileState, bool, error) {
	var fs FileState
	raw, err := s.db.Get(tableFiles, path)
	if err != nil || raw == nil {
		return fs, false, err
	}
	if err := json.Unmarshal(raw, &fs); err != nil {
		return fs, false, fmt.Errorf("backfill state of %s: %w", path, err)
	}
	return fs, true, nil
}

// Seen says whether an article with this canonical URL or this content hash
// was published.
func (s *State) Seen(url, hash string) (bool, error) {
	for _, k := range [][2]string{{tableURLs, url}, {tableHashes, hash}} {
		v, err := s.db.Get(k[0], k[1])
		if err != nil || v != nil {
			return v != nil, err
		}
	}
	return false, nil
}

// seenKey is an article published: its canonical URL and content hash.
type seenKey struct{ url, hash string }

// Commit records the articles published and the file's new resume point.
func (s *State) Commit(path string, fs FileState, published []seenKey) error {
	fs.UpdatedAt = time.Now().UTC()
	v, err := json.Marshal(fs)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *statedb.Tx) error {
		for _, k := range published {
			if err := tx.Put(tableURLs, k.url, []byte(k.hash)); err != nil {
				return err
			}
			if err := tx.Put(tableHashes, k.hash, []byte(k.url)); err != nil {
				return err
			}
		}
		return tx.Put(tableFiles, path, v)
	})
}

// Published returns the number of articles recorded.
func (s *State) Published() (int, error) { return s.db.Count(tableURLs) }
