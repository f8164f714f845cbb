// Package alert decides when a deal deserves an alert and delivers it.
//
// Rules (rules.go, a YAML file) say which counterparties or guarantors count as
// hyperscalers, the minimum size, the contract types, and which changes alert:
// a new deal, a counterparty disclosed, an upsize, an extension, an amendment,
// an added guarantee, a cancellation. Policy (policy.go) implements
// ledger.AlertPolicy: the ledger calls it on every deal change and stores the
// alerts it raises in the deal document itself, in the same write, under a key
// unique per deal ("new", "disclosed", "event:<id>"), so an alert is raised once
// however often its records are seen. Pending sinks make the deal document an
// outbox: the Dispatcher (dispatcher.go) drains it to the sinks (sinks.go: log,
// webhook, the Kafka topic mwledger.alerts), retrying with backoff, and
// acknowledges each delivery in the store.
package alert
