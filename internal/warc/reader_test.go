package warc_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/warc"
	"github.com/mwledger/mwledger/internal/warc/warctest"
)

var day = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

type got struct {
	typ, uri string
	tooLarge bool
}

func readAll(t *testing.T, b []byte, off, skip int64, opts warc.Options) ([]got, []*warc.Record, error) {
	t.Helper()
	r, err := warc.NewReader(bytes.NewReader(b[off:]), off, skip, opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []got
	var recs []*warc.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, recs, nil
		}
		if err != nil {
			return out, recs, err
		}
		out = append(out, got{rec.Type, rec.TargetURI, rec.TooLarge})
		c := *rec
		c.Block = append([]byte(nil), rec.Block...)
		recs = append(recs, &c)
	}
}

func mixedFile() *warctest.File {
	rng := rand.New(rand.NewPCG(1, 2))
	page := func(n int) []byte {
		return warctest.Response("https://news.example/a/"+string(rune('a'+n)), day, "text/html; charset=utf-8",
			warctest.Page(rng, "Story", "<p>text</p>", 2000))
	}
	split := page(4)
	at := bytes.Index(split, []byte("Content-Type: text/html")) + 5 // inside the HTTP header
	f := &warctest.File{}
	f.Add(warctest.Warcinfo(day), warctest.Request("https://news.example/a/a", day), page(0), warctest.Metadata("https://news.example/a/a", day))
	f.Add(warctest.Revisit("https://news.example/a/a", day))
	f.AddSplit(split, at)
	f.AddJoined(page(1), page(2))
	f.Add(page(3))
	return f
}

func TestReaderRecords(t *testing.T) {
	f := mixedFile()
	recs, full, err := readAll(t, f.Bytes(), 0, 0, warc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []got{{"warcinfo", "", false}, {"request", "https://news.example/a/a", false}, {"response", "https://news.example/a/a", false},
		{"metadata", "https://news.example/a/a", false}, {"revisit", "https://news.example/a/a", false},
		{"response", "https://news.example/a/e", false}, {"response", "https://news.example/a/b", false},
		{"response", "https://news.example/a/c", false}, {"response", "https://news.example/a/d", false}}
	if len(recs) != len(want) {
		t.Fatalf("got %d records %v, want %d", len(recs), recs, len(want))
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d: got %+v, want %+v", i, recs[i], want[i])
		}
	}
	// The record cut across two members inside its HTTP header reads whole.
	resp, err := warc.ParseHTTP(full[5].Block)
	if err != nil || resp.Status != 200 || resp.Header["content-type"] != "text/html; charset=utf-8" || !bytes.HasSuffix(resp.Body, []byte("</html>\n")) {
		t.Errorf("split record: status %d, header %v, err %v", resp.Status, resp.Header, err)
	}
	if !full[0].Date.Equal(day) {
		t.Errorf("date %v", full[0].Date)
	}

	// Resuming at any record's end gives the records after it.
	for i, rec := range full {
		rest, _, err := readAll(t, f.Bytes(), rec.End, rec.EndSkip, warc.Options{})
		if err != nil {
			t.Fatalf("resume after record %d at %d+%d: %v", i, rec.End, rec.EndSkip, err)
		}
		if len(rest) != len(want)-i-1 {
			t.Fatalf("resume after record %d at %d+%d: %d records, want %d", i, rec.End, rec.EndSkip, len(rest), len(want)-i-1)
		}
		for j := range rest {
			if rest[j] != want[i+1+j] {
				t.Errorf("resume after %d: record %d = %+v, want %+v", i, j, rest[j], want[i+1+j])
			}
		}
	}
	// One member per record: the record starts at its own member (skip 0).
	if full[2].Skip != 0 || full[3].Offset != full[2].End {
		t.Errorf("member offsets: record 2 at %d+%d ends %d+%d, record 3 at %d", full[2].Offset, full[2].Skip, full[2].End, full[2].EndSkip, full[3].Offset)
	}
	// Two records in one member: the second is named by a skip into it.
	if full[7].Skip == 0 || full[7].Offset != full[6].Offset {
		t.Errorf("joined member: record 7 at %d+%d, record 6 at %d+%d", full[7].Offset, full[7].Skip, full[6].Offset, full[6].Skip)
	}
}

func TestReaderBrokenFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	page := warctest.Response("https://news.example/x", day, "text/html", warctest.Page(rng, "X", "", 3000))
	tests := []struct {
		name    string
		file    func() []byte
		records int
		reason  string
	}{
		{"truncated final record", func() []byte {
			f := &warctest.File{}
			return f.Add(page, page, page).Truncate(200).Bytes()
		}, 2, "truncated_eof"},
		{"truncated plain record", func() []byte {
			f := &warctest.File{Plain: true}
			return f.Add(page, page).Truncate(500).Bytes()
		}, 1, "truncated_eof"},
		{"garbage after a member", func() []byte {
			f := &warctest.File{}
			f.Add(page)
			f.WriteString("this is not gzip at all")
			return f.Bytes()
		}, 1, "corrupt_gzip"},
		{"not a warc", func() []byte { return warctest.Member([]byte("HTTP/1.1 200 OK\r\n\r\nhello")) }, 0, "format"},
		{"bad version line", func() []byte { return warctest.Member([]byte("HELLO/1.0\r\nContent-Length: 1\r\n\r\nx\r\n\r\n")) }, 0, "format"},
		{"negative length", func() []byte {
			return warctest.Member([]byte("WARC/1.0\r\nWARC-Type: response\r\nContent-Length: -5\r\n\r\n"))
		}, 0, "format"},
		{"endless header", func() []byte {
			return warctest.Member(append([]byte("WARC/1.0\r\nX: "), bytes.Repeat([]byte("a"), 100<<10)...))
		}, 0, "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, _, err := readAll(t, tt.file(), 0, 0, warc.Options{})
			if len(recs) != tt.records {
				t.Errorf("records %d, want %d", len(recs), tt.records)
			}
			if err == nil || warc.Reason(err) != tt.reason {
				t.Errorf("err %v (reason %q), want reason %q", err, warc.Reason(err), tt.reason)
			}
		})
	}
}

func TestReaderPlainWARC(t *testing.T) {
	f := (&warctest.File{Plain: true}).Add(warctest.Warcinfo(day), warctest.Response("https://a.example/1", day, "text/html", []byte("<html>one</html>")),
		warctest.Response("https://a.example/2", day, "text/html", []byte("<html>two</html>")))
	recs, full, err := readAll(t, f.Bytes(), 0, 0, warc.Options{})
	if err != nil || len(recs) != 3 {
		t.Fatalf("%v %v", recs, err)
	}
	rest, _, err := readAll(t, f.Bytes(), full[1].End, full[1].EndSkip, warc.Options{})
	if err != nil || len(rest) != 1 || rest[0].uri != "https://a.example/2" {
		t.Fatalf("resume: %v %v", rest, err)
	}
}

// TestReaderBombs: a few dozen KiB of gzip declaring a 64 MiB record is
// skipped within the block limit or refused past the skip limit, never buffered.
func TestReaderBombs(t *testing.T) {
	const big = 64 << 20
	var zeros bytes.Buffer
	zeros.WriteString("WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://bomb.example/\r\nContent-Length: 67108864\r\n\r\n")
	hdr := zeros.Bytes()
	member := func() []byte {
		var out bytes.Buffer
		zw := newGzip(&out)
		zw.Write(hdr)
		chunk := make([]byte, 1<<20)
		for range big >> 20 {
			zw.Write(chunk)
		}
		zw.Write([]byte("\r\n\r\n"))
		zw.Close()
		return out.Bytes()
	}()
	tail := warctest.Member(warctest.Response("https://ok.example/", day, "text/html", []byte("<html>fine</html>")))
	file := append(append([]byte{}, member...), tail...)
	t.Logf("bomb file: %d bytes declaring %d", len(file), big)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	recs, _, err := readAll(t, file, 0, 0, warc.Options{MaxBlockBytes: 1 << 20, MaxSkipBytes: 1 << 30})
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if err != nil || len(recs) != 2 || !recs[0].tooLarge || recs[1].uri != "https://ok.example/" {
		t.Fatalf("skipped bomb: %v %v", recs, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB reading a bomb", alloc>>20)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
	// Past the skip limit the file is given up at once.
	recs, _, err = readAll(t, file, 0, 0, warc.Options{MaxBlockBytes: 1 << 20, MaxSkipBytes: 16 << 20})
	if len(recs) != 0 || warc.Reason(err) != "record_too_large" {
		t.Fatalf("over the skip limit: %v %v", recs, err)
	}
}

func TestDecodeBomb(t *testing.T) {
	var out bytes.Buffer
	zw := newGzip(&out)
	zw.Write(bytes.Repeat([]byte("<p>aaaa</p>"), 200<<10))
	zw.Close()
	resp := warc.HTTPResponse{Status: 200, Header: map[string]string{"content-encoding": "gzip"}, Body: out.Bytes()}
	if _, err := resp.Decode(1 << 20); !errors.Is(err, warc.ErrBodyTooLarge) {
		t.Fatalf("err %v", err)
	}
	b, err := resp.Decode(4 << 20)
	if err != nil || len(b) != 11*200<<10 {
		t.Fatalf("%d %v", len(b), err)
	}
	resp.Header["content-encoding"] = "br"
	if _, err := resp.Decode(1 << 20); !errors.Is(err, warc.ErrEncoding) {
		t.Fatalf("br: %v", err)
	}
}

func TestParseHTTP(t *testing.T) {
	tests := []struct {
		name, in    string
		status      int
		body        string
		errContains string
	}{
		{"plain", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html></html>", 200, "<html></html>", ""},
		{"bare LF", "HTTP/1.0 404 Not Found\nContent-Type: text/html\n\nnope", 404, "nope", ""},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 200, "hello world", ""},
		{"chunked header, stored dechunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n<html>x</html>", 200, "<html>x</html>", ""},
		{"no status", "GARBAGE\r\n\r\n", 0, "", "status line"},
		{"status out of range", "HTTP/1.1 999 Odd\r\n\r\n", 0, "", "status"},
		{"no end of header", "HTTP/1.1 200 OK\r\nX: y", 0, "", "no end of header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := warc.ParseHTTP([]byte(tt.in))
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("err %v, want %q", err, tt.errContains)
				}
				return
			}
			if err != nil || r.Status != tt.status || string(r.Body) != tt.body {
				t.Fatalf("got %d %q %v", r.Status, r.Body, err)
			}
		})
	}
}

// FuzzReader: no input makes the reader panic, loop or hold more than its limits.
func FuzzReader(f *testing.F) {
	f.Add(mixedFile().Bytes())
	f.Add((&warctest.File{Plain: true}).Add(warctest.Warcinfo(day), warctest.Revisit("https://x.example/", day)).Bytes())
	f.Add((&warctest.File{}).Add(warctest.Response("https://x.example/", day, "text/html", []byte("<html>x</html>"))).Truncate(9).Bytes())
	f.Add([]byte("WARC/1.0\r\nContent-Length: 3\r\n\r\nabc\r\n\r\nWARC/1.0\r\nContent-Length: 99999999999\r\n\r\n"))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := warc.NewReader(bytes.NewReader(b), 0, 0, warc.Options{MaxBlockBytes: 1 << 16, MaxSkipBytes: 1 << 20})
		if err != nil {
			return
		}
		for range 1000 {
			rec, err := r.Next()
			if err != nil {
				_ = warc.Reason(err)
				return
			}
			if len(rec.Block) > 1<<16 {
				t.Fatalf("block of %d bytes over the limit", len(rec.Block))
			}
			if rec.Type == "response" && rec.Block != nil {
				if resp, err := warc.ParseHTTP(rec.Block); err == nil {
					if body, err := resp.Decode(1 << 16); err == nil && len(body) > 1<<16 {
						t.Fatalf("decoded %d bytes over the limit", len(body))
					}
				}
			}
		}
	})
}
