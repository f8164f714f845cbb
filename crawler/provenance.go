package crawler

import (
	"hash/fnv"
	"math"
	"net/url"
	"path"
	"strings"
)

// Provenance. A page says where it belongs with <link rel=canonical>, and the
// crawler publishes it under that URL; the URL it was fetched from goes with it
// (Article.URL, and the record's source.fetched_url). A page may claim any URL,
// so a claim is taken only:
//
//   - within the fetched site: the same host give or take www., amp. or m.,
//     on the same port (http and https both), or on a host the source lists
//     in canonical_hosts (a syndication partner the operator vouches for);
//   - not the site's home page for a page that is not itself the home page (a
//     site whose pages all name their home page would collapse to one article);
//   - as a duplicate of a story already recorded under that URL only when the
//     text matches (textSimilar): another story on the same site naming it is
//     published under its own URL.
//
// Otherwise the page is published under its fetched URL.

// trustedCanonical returns the URL to publish a page under: its claimed
// canonical when the rules above allow it, else the fetched URL (canonicalised).
func (s Source) trustedCanonical(claimed, fetched string) (key string, trusted bool) {
	fallback, err := Canonical(fetched)
	if err != nil {
		fallback = fetched
	}
	if claimed == "" || claimed == fallback {
		return fallback, claimed != ""
	}
	cu, err1 := url.Parse(claimed)
	fu, err2 := url.Parse(fallback)
	if err1 != nil || err2 != nil || cu.Host == "" {
		return fallback, false
	}
	if isRoot(cu) && !isRoot(fu) {
		return fallback, false
	}
	if sameSite(cu, fu) || s.canonicalHostAllowed(cu.Hostname()) {
		return claimed, true
	}
	return fallback, false
}

func isRoot(u *url.URL) bool {
	p := path.Clean("/" + u.Path)
	return p == "/" && u.RawQuery == ""
}

// siteName is a host without the www., amp. and m. labels that name versions
// of the same site.
func siteName(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for {
		trimmed := false
		for _, p := range []string{"www.", "amp.", "m."} {
			if strings.HasPrefix(host, p) && strings.Count(host, ".") > 1 {
				host, trimmed = host[len(p):], true
			}
		}
		if !trimmed {
			return host
		}
	}
}

// sameSite: the same site name, and the same port (an explicit port must
// match; default ports of http and https are one site).
func sameSite(a, b *url.URL) bool {
	if siteName(a.Hostname()) != siteName(b.Hostname()) {
		return false
	}
	pa, pb := a.Port(), b.Port()
	if pa == "" && pb == "" {
		return true
	}
	return effectivePort(a) == effectivePort(b)
}

// canonicalHostAllowed says whether the source vouches for canonicals on host:
// an entry of CanonicalHosts, or a subdomain of a "*.suffix" entry.
func (s Source) canonicalHostAllowed(host string) bool {
	host = strings.ToLower(host)
	for _, h := range s.CanonicalHosts {
		h = strings.ToLower(h)
		if suf, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(host, "."+suf) {
				return true
			}
			continue
		}
		if host == h {
			return true
		}
	}
	return false
}

// sketchSize is the number of min-hashes in a text sketch.
const sketchSize = 64

// textSketch is a MinHash of the page's visible text: for each of sketchSize
// hash functions, the least hash over the text's 4-word shingles. Two sketches
// agree in about the Jaccard similarity of the shingle sets, so an AMP or
// print copy (the same story, other markup) matches and another story does not.
func textSketch(text []byte) []uint32 {
	words := strings.Fields(strings.ToLower(string(text)))
	if len(words) == 0 {
		return nil
	}
	sk := make([]uint32, sketchSize)
	for i := range sk {
		sk[i] = math.MaxUint32
	}
	const k = 4
	n := max(len(words)-k+1, 1)
	for i := 0; i < n; i++ {
		h := fnv.New64a()
		for _, w := range words[i:min(i+k, len(words))] {
			h.Write([]byte(w))
			h.Write([]byte{' '})
		}
		base := h.Sum64()
		h1, h2 := uint32(base), uint32(base>>32)|1
		for j := range sk {
			if v := h1 + uint32(j)*h2; v < sk[j] {
				sk[j] = v
			}
		}
	}
	return sk
}

// textSimilar says whether two sketches are of the same story (at least half
// of the shingles shared). A missing sketch (a seen-set written before
// sketches existed) is taken as similar, as before.
func textSimilar(a, b []uint32) bool {
	if len(a) != sketchSize || len(b) != sketchSize {
		return true
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return same*2 >= sketchSize
}
