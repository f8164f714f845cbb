// Package extractor reads articles and writes contract records.
//
// Reads: Kafka topic mwledger.articles (schemas.Article, key = canonical URL), or
// saved HTML files. Writes: Kafka topic mwledger.contracts (schemas.Contract, key =
// deal id); what cannot be read goes to mwledger.dlq with the reason.
//
// The reading is goquery (body without boilerplate, metadata, charset), Punkt
// sentence splitting per block, a company gazetteer (data/entities.yaml), and
// domain parsers for money, capacity, terms, unit prices and dates.
package extractor
