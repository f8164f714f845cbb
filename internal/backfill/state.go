package backfill

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// State is what a backfill remembers across runs, in a bbolt file: where each
// WARC file was left (a resume point) and every article published, by
// canonical URL and by content hash. A checkpoint and the articles published
// before it are written in one transaction.
type State struct {
	db *bolt.DB
}

var (
	bucketFiles  = []byte("files")
	bucketURLs   = []byte("urls")
	bucketHashes = []byte("hashes")
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

// OpenState opens (or creates) the state file. One process at a time.
func OpenState(path string) (*State, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("opening backfill state %s: locked by another backfill", path)
		}
		return nil, fmt.Errorf("opening backfill state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFiles, bucketURLs, bucketHashes} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising backfill state %s: %w", path, err)
	}
	return &State{db: db}, nil
}

// Close closes the file.
func (s *State) Close() error { return s.db.Close() }

// File returns the resume point of a file (by absolute path).
func (s *State) File(path string) (FileState, bool, error) {
	var fs FileState
	var raw []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketFiles).Get([]byte(path)); v != nil {
			raw = append(raw, v...)
		}
		return nil
	})
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
	seen := false
	err := s.db.View(func(tx *bolt.Tx) error {
		seen = tx.Bucket(bucketURLs).Get([]byte(url)) != nil || tx.Bucket(bucketHashes).Get([]byte(hash)) != nil
		return nil
	})
	return seen, err
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
	return s.db.Update(func(tx *bolt.Tx) error {
		urls, hashes := tx.Bucket(bucketURLs), tx.Bucket(bucketHashes)
		for _, k := range published {
			if err := urls.Put([]byte(k.url), []byte(k.hash)); err != nil {
				return err
			}
			if err := hashes.Put([]byte(k.hash), []byte(k.url)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketFiles).Put([]byte(path), v)
	})
}

// Published returns the number of articles recorded.
func (s *State) Published() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketURLs).Stats().KeyN
		return nil
	})
	return n, err
}
