package warc_test

import (
	"compress/gzip"
	"io"
)

func newGzip(w io.Writer) *gzip.Writer {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return zw
}
