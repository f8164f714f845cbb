package warc

import (
	"bufio"
	"compress/gzip"
	"errors"
	"io"
)

// members reads a gzip file member after member as one stream, and knows where
// (at which compressed offset) each member starts in decompressed terms, so
// that a position in the stream can be named by a member to seek to and a
// number of decompressed bytes to skip in it. A file that is not gzip is read
// as it is: one "member" at offset 0, and positions are file offsets.
type members struct {
	file *countReader
	br   *bufio.Reader // over file; gzip reads it byte by byte through io.ByteReader, never past a member
	zr   *gzip.Reader  // nil for a plain file
	base int64         // compressed offset the reader started at (a resume)

	out      int64  // decompressed bytes produced so far
	starts   []mark // members whose data may still be buffered above us, oldest first
	eof      bool   // the stream ended (no further member)
	atMember bool   // the current member ended; the next starts at the file position
}

// mark says that decompressed position pos is the first byte of the member at
// compressed offset off.
type mark struct {
	pos, off int64
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// errNotGzipMember is a member header that is not gzip after the first member.
var errNotGzipMember = errors.New("bytes after a gzip member are not another gzip member")

// newMembers starts reading r, whose first byte is at compressed offset base.
func newMembers(r io.Reader, base int64) (*members, error) {
	m := &members{file: &countReader{r: r}, base: base}
	m.br = bufio.NewReaderSize(m.file, 256<<10)
	magic, err := m.br.Peek(2)
	if err != nil && len(magic) == 0 {
		if err == io.EOF {
			m.eof = true
			return m, nil
		}
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(m.br)
		if err != nil {
			return nil, err
		}
		zr.Multistream(false)
		m.zr = zr
		m.starts = []mark{{pos: 0, off: base}}
	}
	return m, nil
}

// filePos is the compressed offset of the next byte gzip has not consumed.
func (m *members) filePos() int64 { return m.base + m.file.n - int64(m.br.Buffered()) }

// Gzip reports whether the file is gzip-compressed.
func (m *members) Gzip() bool { return m.zr != nil }

func (m *members) Read(p []byte) (int, error) {
	if m.eof {
		return 0, io.EOF
	}
	if m.zr == nil {
		n, err := m.br.Read(p)
		m.out += int64(n)
		if err == io.EOF {
			m.eof = true
		}
		return n, err
	}
	for {
		if m.atMember {
			if _, err := m.br.Peek(1); err != nil {
				m.eof = true
				if err == io.EOF {
					return 0, io.EOF
				}
				return 0, err
			}
			off := m.filePos()
			if err := m.zr.Reset(m.br); err != nil {
				m.eof = true
				if errors.Is(err, gzip.ErrHeader) {
					return 0, errNotGzipMember
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return 0, err
			}
			m.zr.Multistream(false)
			m.atMember = false
			m.starts = append(m.starts, mark{pos: m.out, off: off})
		}
		n, err := m.zr.Read(p)
		m.out += int64(n)
		if err == io.EOF {
			m.atMember = true
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			m.eof = true
		}
		return n, err
	}
}

// position names decompressed position pos (at or after the oldest member
// still remembered) as a member to seek to and bytes to skip in it, and
// forgets the members before that one.
func (m *members) position(pos int64) (off, skip int64) {
	if m.zr == nil {
		return m.base + pos, 0
	}
	if pos == m.out && m.atMember {
		// Exactly at the end of a member: the next member starts here.
		return m.filePos(), 0
	}
	i := len(m.starts) - 1
	for i > 0 && m.starts[i].pos > pos {
		i--
	}
	s := m.starts[i]
	m.starts = m.starts[i:]
	return s.off, pos - s.pos
}
