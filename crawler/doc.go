// Package crawler fetches the articles of configured news sources with colly and
// publishes them, raw, to the Kafka topic mwledger.articles (schemas.Article,
// key = canonical URL, with a version that grows when the page changes).
//
// Start points are RSS/Atom feeds (source_rss.go), sitemaps and sitemap indexes
// (source_sitemap.go), listing pages with a link selector and pagination
// (source_listing.go) and plain URLs (config.go). Each pass (pass.go) honours
// robots.txt, a per-domain delay and parallelism, a body limit (refused, never
// truncated), retries 429/5xx with backoff and Retry-After, follows redirects
// itself so that every hop is checked (allowed domains, robots.txt, private
// addresses, loops), and refuses loopback and private addresses unless the
// source allows them (dial.go). Bot walls, consent pages, near-empty and
// non-HTML responses are rejected and retried next pass (junk.go).
//
// A seen-set (state.go: Store; internal/statedb keeps one in a file that
// survives restarts) remembers every published article by canonical URL with
// its text hash, validators and version: unchanged pages are not published
// again, changed ones are with the next version, alternates (AMP, tracking
// copies, rel=canonical) are published once; feeds and sitemaps are fetched
// with conditional GETs and remember their links. Counters are exposed in the
// Prometheus text format (metrics.go).
package crawler
