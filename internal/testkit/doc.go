// Package testkit holds what the tests, the benchmarks and the demo share:
//
//   - the real services scripts/services.sh started (Kafka, ES, ServicePID);
//   - loopback news sites: Site (generated pages, and the ones that go
//     wrong), DealSite (generated deal articles), EdgarSite (an EDGAR-shaped
//     site), FixtureSite (the bundled fixtures, which `mwledger run` crawls);
//   - generators whose companies come from the extractor's gazetteer
//     (extractor/data/entities.yaml): DealOf and ArticleHTML for articles,
//     SampleContracts for contract records;
//   - Kafka consumer-group helpers (SkipBacklog, Lag, WaitForGroup) and
//     CancelAfter, a publisher that stops a run halfway.
//
// Backend-specific helpers stay beside their backend: ledger/ledgertest (the
// conformance suite every ledger backend passes), ledger/es/estest (an
// Elasticsearch ledger per test; only ledger/ subpackages may import the
// Elasticsearch client) and internal/warc/warctest (WARC records).
// Nothing here connects to anything but loopback.
package testkit
