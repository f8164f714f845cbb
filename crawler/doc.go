// Package crawler fetches the articles of configured news sources with colly and
// publishes them, raw, to the Kafka topic mwledger.articles (schemas.Article,
// key = canonical URL).
//
// Sources are RSS/Atom feeds, listing pages with a link selector (and an optional
// next-page selector) and plain article URLs (sources.go). Politeness: robots.txt
// is honoured, each domain has a delay and a parallelism limit, bodies over the
// size limit are refused rather than silently truncated, and connections to
// loopback or private addresses are refused unless the source allows them.
package crawler
