package crawler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"strings"

	"golang.org/x/net/html"
)

// Reasons an article page is rejected: never published, not recorded as seen,
// fetched again next pass.
const (
	rejectNotHTML   = "not_html"
	rejectChallenge = "challenge"    // JavaScript bot check (Cloudflare, Akamai, DataDome, …)
	rejectCaptcha   = "captcha"      // a captcha to solve
	rejectConsent   = "consent_wall" // a cookie or privacy consent page instead of the article
	rejectEmpty     = "empty"        // (nearly) no visible text
	rejectAccepted  = "http_202"     // 202 Accepted: the page is not ready
)

// wallTextBytes: a page with more visible text than this is an article with a
// cookie banner or an analytics script, not a wall.
const wallTextBytes = 2500

var (
	challengeMarkers = []string{"cf-browser-verification", "cf_chl_", "cf-chl-", "jschl", "just a moment...", "checking your browser",
		"ddos-guard", "_incapsula_resource", "enable javascript and cookies to continue", "please enable js and disable any ad blocker",
		"/cdn-cgi/challenge-platform/h/", "px-captcha", "perimeterx", "datadome", "awswaf", "sgcaptcha", "bot verification",
		"verifying you are human", "attention required!"}
	captchaMarkers = []string{"g-recaptcha", "h-captcha", "hcaptcha.com", "cf-turnstile", "captcha-delivery", "verify you are human",
		"are you a robot", "complete the security check", "captcha"}
	consentMarkers = []string{"consent.google", "consent.yahoo", "before you continue", "we value your privacy", "cookie consent",
		"manage your privacy", "accept all cookies", "your privacy choices", "consent-page", "gdpr-consent", "cmp-container", "didomi", "sourcepoint", "onetrust"}
)

// rejectReason tells an article page that must not be published, or "". text
// is the page's visible text (visibleText).
func rejectReason(status int, contentType string, body []byte, text []byte, minText int) string {
	if !isHTML(contentType, body) {
		return rejectNotHTML
	}
	if r := wallReason(status, body, text); r != "" {
		return r
	}
	if len(text) < minText {
		return rejectEmpty
	}
	if status == http.StatusAccepted {
		return rejectAccepted
	}
	return ""
}

// wallReason recognises a bot check, a captcha or a consent wall: markers in a
// page with little text, or served with a status walls use (202, 403, 429, 503).
func wallReason(status int, body []byte, text []byte) string {
	short := len(text) < wallTextBytes
	if !short && !wallStatus(status) {
		return ""
	}
	head := body
	if len(head) > 256<<10 {
		head = head[:256<<10]
	}
	lower := bytes.ToLower(head)
	switch {
	case containsAnyBytes(lower, challengeMarkers):
		return rejectChallenge
	case containsAnyBytes(lower, captchaMarkers):
		return rejectCaptcha
	case short && containsAnyBytes(lower, consentMarkers):
		return rejectConsent
	}
	return ""
}

func containsAnyBytes(b []byte, markers []string) bool {
	for _, m := range markers {
		if bytes.Contains(b, []byte(m)) {
			return true
		}
	}
	return false
}

// isHTML accepts text/html and application/xhtml+xml, and sniffs the body when
// the server sends no type (or a generic one).
func isHTML(contentType string, body []byte) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType != "" && err == nil {
		switch mt {
		case "text/html", "application/xhtml+xml":
			return true
		case "application/octet-stream", "text/plain", "binary/octet-stream":
			// servers that do not know: sniff
		default:
			return false
		}
	}
	sniffed := http.DetectContentType(body)
	if strings.HasPrefix(sniffed, "text/html") {
		return true
	}
	if strings.HasPrefix(sniffed, "text/plain") || strings.HasPrefix(sniffed, "text/xml") {
		head := body
		if len(head) > 4096 {
			head = head[:4096]
		}
		l := bytes.ToLower(head)
		return bytes.Contains(l, []byte("<html")) || bytes.Contains(l, []byte("<body"))
	}
	return false
}

// visibleText returns the text of a page outside scripts, styles and templates,
// with runs of white space collapsed to one space. Bytes are left in the page's
// own encoding: the text serves for length checks and content hashes.
func visibleText(body []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(body))
	var out bytes.Buffer
	skip := 0
	space := true
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return bytes.TrimSpace(out.Bytes())
			}
			return bytes.TrimSpace(out.Bytes())
		case html.StartTagToken, html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "svg", "iframe":
				if tt == html.StartTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			for _, c := range z.Text() {
				if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' {
					if !space {
						out.WriteByte(' ')
						space = true
					}
					continue
				}
				out.WriteByte(c)
				space = false
			}
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
