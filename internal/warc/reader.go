package warc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Limits of the reader. A record's header block over MaxHeaderBytes is a
// format error; a content block over Options.MaxBlockBytes is skipped
// (streamed to nowhere, never buffered) and a block that declares more than
// Options.MaxSkipBytes ends the file.
const (
	MaxHeaderBytes      = 64 << 10
	DefaultMaxBlock     = 10 << 20
	DefaultMaxSkipBytes = 1 << 30
)

// Errors of Next. Each leaves the reader unusable: the rest of the file is
// given up (and counted by the caller with Reason).
var (
	// ErrTruncated: the file ends inside a record (a cut download, a partial
	// final member).
	ErrTruncated = errors.New("warc: file ends inside a record")
	// ErrFormat: the bytes are not a WARC record where one should start.
	ErrFormat = errors.New("warc: not a WARC record")
	// ErrTooLarge: a record declares a content block larger than MaxSkipBytes.
	ErrTooLarge = errors.New("warc: record larger than the skip limit")
)

// Reason names an error of Next for counters: truncated_eof, format,
// record_too_large, corrupt_gzip, read_error.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrTruncated):
		return "truncated_eof"
	case errors.Is(err, ErrFormat):
		return "format"
	case errors.Is(err, ErrTooLarge):
		return "record_too_large"
	case errors.Is(err, errNotGzipMember), isGzipError(err):
		return "corrupt_gzip"
	}
	return "read_error"
}

// Options bound a Reader.
type Options struct {
	// MaxBlockBytes is the largest content block read into memory; larger
	// blocks are skipped (Record.TooLarge). Default DefaultMaxBlock (10 MiB).
	MaxBlockBytes int
	// MaxSkipBytes is the largest content block skipped; a record that
	// declares more ends the file with ErrTooLarge, so that a small hostile
	// file cannot make the reader inflate without end. Default 1 GiB.
	MaxSkipBytes int64
}

// Record is one WARC record. Block and the header values are valid until the
// next call of Next.
type Record struct {
	// Type is WARC-Type: warcinfo, response, request, metadata, revisit, resource, …
	Type string
	// TargetURI is WARC-Target-URI (angle brackets removed).
	TargetURI string
	// Date is WARC-Date (zero when absent or unreadable).
	Date time.Time
	// ContentType is the record's Content-Type ("application/http; msgtype=response").
	ContentType string
	// Truncated is WARC-Truncated ("length", "time", …) when the crawler cut the
	// payload: such a record is not the whole page.
	Truncated string
	// ContentLength is the declared length of the content block.
	ContentLength int64
	// Block is the content block; nil when TooLarge.
	Block []byte
	// TooLarge: the block was over Options.MaxBlockBytes and was skipped.
	TooLarge bool
	// Offset and Skip name where the record starts: the compressed offset of
	// its gzip member and the decompressed bytes before it in that member.
	Offset, Skip int64
	// End and EndSkip name where the record ends, i.e. where the next one
	// starts: give them to Open to resume after this record.
	End, EndSkip int64
}

// Reader reads the records of a WARC file, gzip-compressed (one member per
// record, as Common Crawl writes them, or any other cut) or not.
type Reader struct {
	m    *members
	br   *bufio.Reader
	opts Options
	buf  []byte
	hdr  []byte
	err  error
}

// NewReader reads records from r, whose first byte is the file's byte at
// offset off; skip decompressed bytes are discarded first (see Record.End).
func NewReader(r io.Reader, off, skip int64, opts Options) (*Reader, error) {
	if opts.MaxBlockBytes <= 0 {
		opts.MaxBlockBytes = DefaultMaxBlock
	}
	if opts.MaxSkipBytes <= 0 {
		opts.MaxSkipBytes = DefaultMaxSkipBytes
	}
	m, err := newMembers(r, off)
	if err != nil {
		return nil, fmt.Errorf("warc: opening at offset %d: %w", off, err)
	}
	rd := &Reader{m: m, br: bufio.NewReaderSize(m, 64<<10), opts: opts}
	if skip > 0 {
		if _, err := rd.br.Discard(int(min(skip, 1<<40))); err != nil {
			return nil, fmt.Errorf("warc: skipping %d bytes at offset %d: %w", skip, off, err)
		}
	}
	return rd, nil
}

// pos is the decompressed position of the next unread byte.
func (r *Reader) pos() int64 { return r.m.out - int64(r.br.Buffered()) }

// Next returns the next record, or io.EOF at the clean end of the file.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
	}
	return rec, err
}

func (r *Reader) next() (*Record, error) {
	// Records are separated by two CRLFs; be lenient about how many.
	for {
		b, err := r.br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, readErr(err)
		}
		if b[0] != '\r' && b[0] != '\n' {
			break
		}
		r.br.Discard(1)
	}
	start := r.pos()
	rec := &Record{ContentLength: -1}
	rec.Offset, rec.Skip = r.m.position(start)
	hdr, err := r.header()
	if err != nil {
		return nil, err
	}
	if err := parseHeader(hdr, rec); err != nil {
		return nil, err
	}
	n := rec.ContentLength
	switch {
	case n > r.opts.MaxSkipBytes:
		return nil, fmt.Errorf("%w: %d bytes declared at offset %d", ErrTooLarge, n, rec.Offset)
	case n > int64(r.opts.MaxBlockBytes):
		rec.TooLarge = true
		if _, err := io.CopyN(io.Discard, r.br, n); err != nil {
			return nil, readErr(err)
		}
	default:
		if cap(r.buf) < int(n) {
			r.buf = make([]byte, n, max(n, int64(cap(r.buf))*5/4))
		}
		rec.Block = r.buf[:n]
		if _, err := io.ReadFull(r.br, rec.Block); err != nil {
			return nil, readErr(err)
		}
	}
	// The two CRLFs after the block: consumed when present, so that End names
	// the next record (or the next member) rather than the separator.
	for range 4 {
		b, err := r.br.Peek(1)
		if err != nil || (b[0] != '\r' && b[0] != '\n') {
			break
		}
		r.br.Discard(1)
	}
	rec.End, rec.EndSkip = r.m.position(r.pos())
	return rec, nil
}

func readErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ErrTruncated
	}
	if isGzipError(err) {
		return fmt.Errorf("warc: corrupt gzip: %w", err)
	}
	return err
}

func isGzipError(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.HasPrefix(s, "gzip: ") || strings.HasPrefix(s, "flate: ") || errors.Is(err, errNotGzipMember)
}

// header reads the version line and the named fields up to the blank line.
func (r *Reader) header() ([]byte, error) {
	r.hdr = r.hdr[:0]
	for {
		line, err := r.br.ReadSlice('\n')
		if len(r.hdr)+len(line) > MaxHeaderBytes {
			return nil, fmt.Errorf("%w: header block over %d bytes", ErrFormat, MaxHeaderBytes)
		}
		r.hdr = append(r.hdr, line...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, readErr(err)
		}
		if len(line) <= 2 && strings.TrimSpace(string(line)) == "" {
			return r.hdr, nil
		}
	}
}

// parseHeader reads the fields mwledger uses from a header block.
func parseHeader(hdr []byte, rec *Record) error {
	line, rest, _ := bytes.Cut(hdr, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if !bytes.HasPrefix(line, []byte("WARC/")) {
		return fmt.Errorf("%w: version line %q", ErrFormat, truncate(line, 40))
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue // blank line at the end, or a continuation line we do not need
		}
		v := string(bytes.TrimSpace(value))
		switch strings.ToLower(string(bytes.TrimSpace(name))) {
		case "warc-type":
			rec.Type = strings.ToLower(v)
		case "warc-target-uri":
			rec.TargetURI = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
		case "warc-date":
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				rec.Date = t.UTC()
			}
		case "content-type":
			rec.ContentType = v
		case "warc-truncated":
			rec.Truncated = v
		case "content-length":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: Content-Length %q", ErrFormat, truncate([]byte(v), 40))
			}
			rec.ContentLength = n
		}
	}
	if rec.ContentLength < 0 {
		return fmt.Errorf("%w: no Content-Length", ErrFormat)
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
