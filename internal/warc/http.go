package warc

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"strconv"
	"strings"
)

// HTTPResponse is the HTTP response a WARC response record holds.
type HTTPResponse struct {
	Status int
	// Header holds the fields with lower-cased names (the last value of a
	// repeated field).
	Header map[string]string
	// Body is the payload as the server sent it (dechunked, not decoded).
	Body []byte
}

// ErrHTTP: the block of a response record is not an HTTP response.
var ErrHTTP = errors.New("warc: block is not an HTTP response")

// ParseHTTP reads the HTTP status line and header of a response record's
// block. The header must fit in MaxHeaderBytes. Body aliases block.
func ParseHTTP(block []byte) (HTTPResponse, error) {
	var resp HTTPResponse
	end, sep := bytes.Index(block, []byte("\r\n\r\n")), 4
	if lf := bytes.Index(block, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
		end, sep = lf, 2
	}
	if end < 0 || end > MaxHeaderBytes {
		return resp, fmt.Errorf("%w: no end of header in the first %d bytes", ErrHTTP, MaxHeaderBytes)
	}
	head := string(block[:end])
	resp.Body = block[end+sep:]
	line, rest, _ := strings.Cut(head, "\n")
	line = strings.TrimRight(line, "\r")
	proto, status, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return resp, fmt.Errorf("%w: status line %q", ErrHTTP, truncate([]byte(line), 40))
	}
	code, _, _ := strings.Cut(strings.TrimSpace(status), " ")
	n, err := strconv.Atoi(code)
	if err != nil || n < 100 || n > 599 {
		return resp, fmt.Errorf("%w: status %q", ErrHTTP, truncate([]byte(code), 10))
	}
	resp.Status = n
	resp.Header = make(map[string]string, 8)
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\n")
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if ok {
			resp.Header[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
		}
	}
	if strings.Contains(strings.ToLower(resp.Header["transfer-encoding"]), "chunked") && looksChunked(resp.Body) {
		b, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(resp.Body)))
		if err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
			resp.Body = b
		}
	}
	return resp, nil
}

// looksChunked: a chunked body starts with a hex size and CRLF. Archives often
// keep the Transfer-Encoding header of a payload they stored dechunked.
func looksChunked(b []byte) bool {
	i := bytes.IndexByte(b, '\n')
	if i <= 0 || i > 20 {
		return false
	}
	size, _, _ := bytes.Cut(bytes.TrimRight(b[:i], "\r"), []byte(";"))
	_, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 64)
	return err == nil && len(bytes.TrimSpace(size)) > 0
}

// ErrEncoding: a Content-Encoding the reader does not decode (br, zstd, …).
var ErrEncoding = errors.New("warc: unsupported Content-Encoding")

// ErrBodyTooLarge: a compressed payload inflates past the limit.
var ErrBodyTooLarge = errors.New("warc: payload larger than the limit once decompressed")

// Decode returns the payload with its Content-Encoding (gzip, deflate)
// removed, inflating at most limit bytes: a small payload that would inflate
// to more is refused (ErrBodyTooLarge), never buffered.
func (h HTTPResponse) Decode(limit int) ([]byte, error) {
	enc := strings.ToLower(strings.TrimSpace(h.Header["content-encoding"]))
	var r io.Reader
	switch enc {
	case "", "identity":
		return h.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(h.Body))
		if err != nil {
			// Archives often store the decoded payload and keep the header.
			return h.Body, nil
		}
		r = zr
	case "deflate":
		r = flate.NewReader(bytes.NewReader(h.Body))
	default:
		return nil, fmt.Errorf("%w: %q", ErrEncoding, truncate([]byte(enc), 20))
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if len(b) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, limit)
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("warc: decoding %s payload: %w", enc, err)
	}
	return b, nil
}
