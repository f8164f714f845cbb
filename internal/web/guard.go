package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Who may do what. Reads (the page, searches, exports) are open to whoever
// reaches the port and names an allowed Host; writes (reviews) need a
// reviewer's credentials, and the reviewer's name comes from them, never from
// the request body. Browsers are kept out of writes they did not mean
// (Origin or Sec-Fetch-Site must say the page is ours), and DNS rebinding is
// kept out of everything by the Host allow-list: the Origin is compared with a
// Host that was itself checked, not with whatever the attacker's name is.

// Reviewers authenticates writes: bearer tokens (kept as SHA-256 digests) and
// basic-auth accounts. The zero value accepts no one.
type Reviewers struct {
	tokens map[[sha256.Size]byte]string // digest of the token → reviewer
	basic  map[string][sha256.Size]byte // user → digest of the password
}

// Len is the number of tokens and accounts.
func (r *Reviewers) Len() int {
	if r == nil {
		return 0
	}
	return len(r.tokens) + len(r.basic)
}

// AddToken accepts token as reviewer name.
func (r *Reviewers) AddToken(name, token string) {
	if r.tokens == nil {
		r.tokens = map[[sha256.Size]byte]string{}
	}
	r.tokens[sha256.Sum256([]byte(token))] = name
}

// AddBasic accepts basic auth user:password; the reviewer is the user.
func (r *Reviewers) AddBasic(user, password string) {
	if r.basic == nil {
		r.basic = map[string][sha256.Size]byte{}
	}
	r.basic[user] = sha256.Sum256([]byte(password))
}

// Identify returns the reviewer a request's Authorization header names.
func (r *Reviewers) Identify(req *http.Request) (string, bool) {
	if r == nil {
		return "", false
	}
	auth := req.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
		name, ok := r.tokens[sha256.Sum256([]byte(strings.TrimSpace(tok)))]
		return name, ok
	}
	if user, pass, ok := req.BasicAuth(); ok {
		want, known := r.basic[user]
		got := sha256.Sum256([]byte(pass))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known {
			return user, true
		}
	}
	return "", false
}

// challenge is the WWW-Authenticate header of a 401.
func (r *Reviewers) challenge() string {
	c := `Bearer realm="mwledger"`
	if r != nil && len(r.basic) > 0 {
		c = `Basic realm="mwledger", charset="UTF-8"`
	}
	return c
}

// NewToken returns a random token (256 bits, URL-safe base64).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoadTokens reads a token file: one "reviewer sha256hex" per line, '#'
// comments. The file must be a regular file (not a symlink) that only its
// owner can read or write.
func LoadTokens(path string, into *Reviewers) error {
	b, err := readPrivate(path)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, digest, ok := strings.Cut(line, " ")
		d, err := hex.DecodeString(strings.TrimSpace(digest))
		if !ok || err != nil || len(d) != sha256.Size || name == "" {
			return fmt.Errorf("token file %s: line %d is not \"reviewer sha256hex\"", path, i+1)
		}
		if into.tokens == nil {
			into.tokens = map[[sha256.Size]byte]string{}
		}
		into.tokens[[sha256.Size]byte(d)] = name
	}
	return nil
}

// AddTokenToFile creates a token for reviewer, appends its digest to the
// token file (created 0600 when missing; a symlink is refused) and returns
// the token: it is shown once and kept nowhere in clear.
func AddTokenToFile(path, reviewer string) (string, error) {
	if reviewer == "" || strings.ContainsAny(reviewer, " \t\r\n#") || len(reviewer) > 100 {
		return "", fmt.Errorf("reviewer name %q: one word, no spaces or '#'", reviewer)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	defer f.Close()
	if err := checkPrivate(path, f); err != nil {
		return "", err
	}
	tok := NewToken()
	d := sha256.Sum256([]byte(tok))
	if _, err := fmt.Fprintf(f, "%s %s\n", reviewer, hex.EncodeToString(d[:])); err != nil {
		return "", err
	}
	return tok, f.Close()
}

func readPrivate(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	defer f.Close()
	if err := checkPrivate(path, f); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

func checkPrivate(path string, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("token file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("token file %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	return nil
}

// hostAllowed says whether a Host header names this server: one of hosts
// (host:port exactly, or a bare name on any port), or a loopback name
// (localhost, 127.0.0.1, ::1) on any port.
func hostAllowed(host string, hosts []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	switch name {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	for _, h := range hosts {
		h = strings.ToLower(h)
		if h == host || strings.Trim(h, "[]") == name {
			return true
		}
	}
	return false
}

// guardHost answers 421 to a request whose Host is not ours (DNS rebinding).
func guardHost(next http.Handler, hosts []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, hosts) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusMisdirectedRequest)
			fmt.Fprintf(w, "{\"error\":%q}\n", "this server does not answer to that host name (mwledger serve --host NAME allows one)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

var errCrossSite = errors.New("writes are taken from this site's own page only (send Origin, or Sec-Fetch-Site: same-origin)")

// sameOrigin checks that a write comes from our own page: Sec-Fetch-Site,
// when the browser sends it, must be same-origin; the Origin, when sent,
// must be the server's own (scheme and checked Host) or a configured one;
// one of the two must be there.
func sameOrigin(r *http.Request, origins []string) error {
	sfs := r.Header.Get("Sec-Fetch-Site")
	if sfs != "" && sfs != "same-origin" {
		return errCrossSite
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		if sfs == "" {
			return errCrossSite
		}
		return nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(origin, scheme+"://"+r.Host) {
		return nil
	}
	for _, o := range origins {
		if strings.EqualFold(origin, strings.TrimSuffix(o, "/")) {
			return nil
		}
	}
	return errCrossSite
}
