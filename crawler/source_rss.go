package crawler

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// feedLinks returns the item links of an RSS 2.0 or Atom feed, with their dates.
func feedLinks(body []byte) ([]Link, error) {
	var doc struct {
		XMLName xml.Name
		Channel struct {
			Items []struct {
				Link    string `xml:"link"`
				GUID    string `xml:"guid"`
				PubDate string `xml:"pubDate"`
				Date    string `xml:"date"` // dc:date
			} `xml:"item"`
		} `xml:"channel"`
		Entries []struct {
			Links []struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
			} `xml:"link"`
			Updated   string `xml:"updated"`
			Published string `xml:"published"`
		} `xml:"entry"`
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var out []Link
	for _, it := range doc.Channel.Items {
		link := strings.TrimSpace(it.Link)
		if link == "" && strings.HasPrefix(it.GUID, "http") {
			link = strings.TrimSpace(it.GUID)
		}
		if link != "" {
			d := parseDate(it.PubDate)
			if d.IsZero() {
				d = parseDate(it.Date)
			}
			out = append(out, Link{URL: link, Kind: kindArticle, Date: d})
		}
	}
	for _, e := range doc.Entries {
		for _, l := range e.Links {
			if l.Rel == "" || l.Rel == "alternate" {
				d := parseDate(e.Updated)
				if d.IsZero() {
					d = parseDate(e.Published)
				}
				out = append(out, Link{URL: strings.TrimSpace(l.Href), Kind: kindArticle, Date: d})
				break
			}
		}
	}
	return out, nil
}
