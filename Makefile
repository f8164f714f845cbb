# mwledger — see README.md. `make test` is the whole test suite: it installs what
# it needs, starts the real Kafka and Elasticsearch on loopback, and stops them.

GO          ?= go
# Tools are pinned by module version, the only version the Go module proxy knows:
# honnef.co/go/tools v0.8.2 is staticcheck 2026.2.2. Each version is installed
# into a directory of its own in the cache dir that scripts/services.sh keeps
# Kafka and Elasticsearch in (MWLEDGER_CACHE_DIR), so that another staticcheck
# on PATH or in $GOPATH/bin is never used instead, and a new clone finds it.
STATICCHECK_VERSION ?= v0.8.2
MWLEDGER_CACHE_DIR  ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/mwledger
STATICCHECK := $(MWLEDGER_CACHE_DIR)/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck
# make fuzz: how long each fuzz target runs.
FUZZTIME    ?= 30s

include scripts/services.mk

.PHONY: all build run check test test-cluster test-full release-check unit lint golden eval known-misses fuzz bench bench-cluster tools clean

all: build

build:
	$(GO) build -o bin/mwledger ./cmd/mwledger

## run: the whole pipeline on embedded defaults over the bundled fixtures
run:
	$(GO) run ./cmd/mwledger run

## check: the whole suite, what CI runs (.ci/run): test, then test-cluster;
## both always run, and it fails if either does.
check:
	@rc=0; $(MAKE) test || rc=1; $(MAKE) test-cluster || rc=1; exit $$rc

## test: lint + every test (unit, golden, integration on real Kafka and
## Elasticsearch), the long model and equivalence checks at their -short size;
## packages that need no services run in parallel. A few minutes.
test:
	bash scripts/test.sh

## test-cluster: the cluster fault tests: starts three Kafka brokers and three
## Elasticsearch nodes on loopback, kills or stops one node mid-stream per test
## (broker, contracts partition leader, Elasticsearch node, elected master),
## checks every deal is in the ledger once, and stops the cluster. A few minutes.
test-cluster:
	bash scripts/test-cluster.sh

## test-full: the same at full size (no -short): before a release.
test-full:
	bash scripts/test.sh --full

## release-check: what must pass before a release: test-full, then fuzz.
release-check:
	$(MAKE) --no-print-directory test-full
	$(MAKE) --no-print-directory fuzz

## fuzz: every fuzz target for FUZZTIME each (their seed corpora already run
## as ordinary tests in make test).
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

## unit: the tests that need no services (integration tests skip unless CI=true)
unit:
	$(GO) test -race ./...

tools: $(STATICCHECK)

$(STATICCHECK):
	GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

## golden: rewrite fixtures/*.golden.jsonl from the extractor (review the diff!)
golden:
	$(GO) test ./extractor -run TestGolden -update

## eval: per-field precision / recall / F1 over the golden fixtures (a report)
eval:
	$(GO) run ./cmd/mwledger eval

## known-misses: rewrite fixtures/known-misses.yaml from the golden subtests'
## current differences (entries that still apply keep their reason; new ones
## get REASON). Review its diff.
REASON ?= not explained yet (written by make known-misses)
known-misses:
	$(GO) test ./extractor -run TestGolden -count=1 -known-misses-update -known-misses-reason "$(REASON)"

## bench: one table of figures (extraction on one core; end to end, peak RSS,
## extractor and indexer scale-out and alert latency on the real services,
## which must be up: make services-up). It finds them as services.sh does
## (MWLEDGER_STATE_DIR, MWLEDGER_KAFKA_PORT, MWLEDGER_ES_PORT, ...) unless
## MWLEDGER_KAFKA or MWLEDGER_ES say otherwise (each may list several
## addresses). BENCH_ARGS: -articles, -scale-articles, -scale-records,
## -scale-runs, -scale-warmup, -alert-deals, -alert-trace (go run
## ./cmd/mwledger-bench -h).
BENCH_ARGS ?=
bench: build
	@k="$$MWLEDGER_KAFKA" e="$$MWLEDGER_ES"; eval "$$(bash $(SERVICES_SH) env)"; \
	export MWLEDGER_KAFKA="$${k:-$$MWLEDGER_KAFKA}" MWLEDGER_ES="$${e:-$$MWLEDGER_ES}"; \
	echo "bench: Kafka $$MWLEDGER_KAFKA, Elasticsearch $$MWLEDGER_ES"; \
	$(GO) run ./cmd/mwledger-bench -bin bin/mwledger $(BENCH_ARGS)

## bench-cluster: the bench's scale-out steps on the cluster: starts three
## Kafka brokers and three Elasticsearch nodes (MWLEDGER_CLUSTER_* move their
## ports), runs the extractor and the indexer with 1 and with 2 instances
## (records/s; CPU per record of the stage, of Elasticsearch and of Kafka),
## stops the cluster (scripts/bench-cluster.sh). A few minutes.
## BENCH_CLUSTER_ARGS: mwledger-bench flags (-scale-articles, -scale-records).
BENCH_CLUSTER_ARGS ?= -articles 0 -alert-deals 0 -scale-warmup -scale-runs 1,2,2,1
bench-cluster:
	bash scripts/bench-cluster.sh $(BENCH_CLUSTER_ARGS)

clean:
	rm -rf bin
