package crawler

import (
	"encoding/xml"
	"strings"
)

// feedLinks returns the item links of an RSS 2.0 or Atom feed.
func feedLinks(body []byte) ([]string, error) {
	var doc struct {
		XMLName xml.Name
		Channel struct {
			Items []struct {
				Link string `xml:"link"`
				GUID string `xml:"guid"`
			} `xml:"item"`
		} `xml:"channel"`
		Entries []struct {
			Links []struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	dec := xml.NewDecoder(strings.NewReader(string(body)))
	dec.Strict = false
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var out []string
	for _, it := range doc.Channel.Items {
		link := strings.TrimSpace(it.Link)
		if link == "" && strings.HasPrefix(it.GUID, "http") {
			link = strings.TrimSpace(it.GUID)
		}
		if link != "" {
			out = append(out, link)
		}
	}
	for _, e := range doc.Entries {
		for _, l := range e.Links {
			if l.Rel == "" || l.Rel == "alternate" {
				out = append(out, strings.TrimSpace(l.Href))
				break
			}
		}
	}
	return out, nil
}
