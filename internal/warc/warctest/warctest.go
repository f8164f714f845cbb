// Package warctest builds WARC files for tests and benchmarks: records of
// pages we write ourselves, compressed one gzip member per record as Common
// Crawl does, or cut across members anywhere, or truncated.
package warctest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Record returns the bytes of one uncompressed WARC/1.1 record (header, block
// and the two CRLFs that end it). extra are more header lines ("Name: value").
func Record(typ, uri string, date time.Time, contentType string, block []byte, extra ...string) []byte {
	var b bytes.Buffer
	b.WriteString("WARC/1.1\r\n")
	fmt.Fprintf(&b, "WARC-Type: %s\r\n", typ)
	fmt.Fprintf(&b, "WARC-Record-ID: <urn:uuid:%08x-0000-4000-8000-%012x>\r\n", rand.Uint32(), rand.Uint64()&0xffffffffffff)
	fmt.Fprintf(&b, "WARC-Date: %s\r\n", date.UTC().Format(time.RFC3339))
	if uri != "" {
		fmt.Fprintf(&b, "WARC-Target-URI: %s\r\n", uri)
	}
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(block))
	b.Write(block)
	b.WriteString("\r\n\r\n")
	return b.Bytes()
}

// HTTP returns an HTTP/1.1 response (status line, headers, body) as a
// response record's block holds it.
func HTTP(status int, contentType string, body []byte, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, statusText(status))
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

func statusText(s int) string {
	switch s {
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 404:
		return "Not Found"
	}
	return "Status"
}

// Response is a response record of an HTML page.
func Response(uri string, date time.Time, contentType string, body []byte, headers ...string) []byte {
	return Record("response", uri, date, "application/http; msgtype=response", HTTP(200, contentType, body, headers...))
}

// Warcinfo, Request, Metadata and Revisit are the records a reader skips.
func Warcinfo(date time.Time) []byte {
	return Record("warcinfo", "", date, "application/warc-fields", []byte("software: mwledger-warctest\r\nformat: WARC File Format 1.1\r\n"))
}

// Request is the request record of uri.
func Request(uri string, date time.Time) []byte {
	return Record("request", uri, date, "application/http; msgtype=request", []byte("GET / HTTP/1.1\r\nHost: example\r\nUser-Agent: warctest\r\n\r\n"))
}

// Metadata is a metadata record of uri.
func Metadata(uri string, date time.Time) []byte {
	return Record("metadata", uri, date, "application/warc-fields", []byte("fetchTimeMs: 12\r\n"))
}

// Revisit is a revisit record of uri: headers only, the payload is elsewhere.
func Revisit(uri string, date time.Time) []byte {
	return Record("revisit", uri, date, "application/http; msgtype=response",
		[]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"),
		"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
		"WARC-Refers-To-Target-URI: "+uri)
}

// Member returns b as one gzip member.
func Member(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// File builds a gzip WARC file member by member.
type File struct {
	bytes.Buffer
	// Plain writes records uncompressed (a .warc file).
	Plain bool
}

// Add appends each record as a gzip member of its own (the Common Crawl way).
func (f *File) Add(records ...[]byte) *File {
	for _, r := range records {
		if f.Plain {
			f.Write(r)
		} else {
			f.Write(Member(r))
		}
	}
	return f
}

// AddSplit appends a record cut into two gzip members at byte at (e.g. inside
// its HTTP header): a reader must join them.
func (f *File) AddSplit(record []byte, at int) *File {
	f.Write(Member(record[:at]))
	f.Write(Member(record[at:]))
	return f
}

// AddJoined appends several records as one gzip member.
func (f *File) AddJoined(records ...[]byte) *File {
	f.Write(Member(bytes.Join(records, nil)))
	return f
}

// Truncate drops the last n bytes (a cut download).
func (f *File) Truncate(n int) *File {
	f.Buffer.Truncate(f.Len() - n)
	return f
}

// words are the vocabulary of generated filler text: common words of our own
// choosing, so that pages compress like prose does.
var words = strings.Fields(`the a of to and in for on with by from at as is was are were be been has have had
that this these those it its their our we they he she his her which who whom what when where while after before
market city council school weather report season team game player coach museum garden river bridge road train
station airport festival music film book author library county state board vote plan budget tax price rate
bank loan house home family child students teacher hospital doctor health park lake mountain village farm crop
harvest rain snow storm summer winter spring autumn morning evening week month year today yesterday tomorrow
said says told asked announced reported added noted explained expected planned opened closed moved raised lower
higher new old small large local national regional public private early late first last next second third
people residents officials visitors members workers drivers owners buyers sellers fans readers viewers voters
street avenue square corner building office shop store restaurant kitchen menu recipe bread cheese coffee tea
paint gallery stage theatre concert band song album dance class course lesson exam grade degree campus dorm`)

// Filler returns about n bytes of paragraphs of generated prose.
func Filler(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString("<p>")
		for i, k := 0, 12+rng.IntN(20); i < k; i++ {
			w := words[rng.IntN(len(words))]
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b.WriteString(w)
			if i < k-1 {
				b.WriteByte(' ')
			}
		}
		fmt.Fprintf(&b, " %d.</p>\n", rng.IntN(1000))
	}
	return b.String()
}

// Page returns an HTML page with a title, some navigation and script, and
// paragraphs: body (HTML) first, then about size bytes of filler.
func Page(rng *rand.Rand, title, body string, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n", title)
	fmt.Fprintf(&b, "<script>window.cfg={id:%d,slot:\"top-%d\",t:%d};</script>\n", rng.IntN(1<<30), rng.IntN(100), rng.IntN(1<<30))
	b.WriteString("</head><body><nav><a href=\"/\">Home</a> <a href=\"/local\">Local</a> <a href=\"/sport\">Sport</a></nav>\n<article>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n%s\n%s</article>\n<footer>Copyright the example outlet</footer></body></html>\n", title, body, Filler(rng, size))
	return []byte(b.String())
}
