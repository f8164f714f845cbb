package crawler

import (
	"net"
	"net/url"
	"path"
	"sort"
	"strings"
)

// trackingParams are dropped from URLs: they name the visit, not the page.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "mc_cid": true, "mc_eid": true, "igshid": true,
	"ref": true, "ref_src": true, "cmpid": true, "ito": true, "ncid": true, "sr_share": true, "amp": true, "outputtype": true,
}

// Canonical normalises an article URL: lower-case scheme and host, no default
// port, no fragment, no tracking parameters (utm_* and friends), no AMP suffix,
// sorted query, no trailing slash on paths.
func Canonical(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	host = strings.TrimPrefix(host, "amp.")
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"): // IPv6 literal
		host = "[" + host + "]"
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	u.User = nil
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "utm_") || trackingParams[strings.ToLower(k)] {
			q.Del(k)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	u.RawQuery = strings.Join(parts, "&")
	p := u.Path
	for _, suf := range []string{"/amp", "/amp/", ".amp"} {
		p = strings.TrimSuffix(p, suf)
	}
	if p != "/" {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "" {
		p = "/"
	}
	u.Path = path.Clean(p)
	u.RawPath = ""
	return u.String(), nil
}
