package integration

import "testing"

// sized is full, or short under -short: the size of a long check (`make test`
// runs -short, `make test-full` the full size before a release).
func sized[T any](t *testing.T, what string, full, short T) T {
	t.Helper()
	if testing.Short() {
		t.Logf("%s: %v (-short; %v at full size)", what, short, full)
		return short
	}
	return full
}

// isolated runs t in parallel with the package's other isolated tests: those
// whose Kafka topics and Elasticsearch alias are their own (newLedgerEnv,
// aliasStore, a topic of their own) and that neither pause nor restart a
// service. Go starts parallel tests only once every sequential test of the
// package has finished, so they never overlap the tests that share the
// mwledger.* topics and the default alias, or freeze and restart the services.
func isolated(t *testing.T) {
	t.Helper()
	t.Parallel()
}
