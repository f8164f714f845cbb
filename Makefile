# mwledger — see README.md. `make test` is the whole test suite: it installs what
# it needs, starts the real Kafka and Elasticsearch on loopback, and stops them.

GO          ?= go
STATICCHECK_VERSION ?= 2026.2.2
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck

include scripts/services.mk

.PHONY: all build run test unit lint golden eval bench tools clean

all: build

build:
	$(GO) build -o bin/mwledger ./cmd/mwledger

## run: the whole pipeline on embedded defaults over the bundled fixtures
run:
	$(GO) run ./cmd/mwledger run

## test: lint + every test (unit, golden, integration on real Kafka and Elasticsearch)
test:
	bash scripts/test.sh

## unit: the tests that need no services (integration tests skip unless CI=true)
unit:
	$(GO) test -race ./...

tools: $(STATICCHECK)

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

## golden: rewrite fixtures/*.golden.jsonl from the extractor (review the diff!)
golden:
	$(GO) test ./extractor -run TestGolden -update

eval:
	$(GO) run ./cmd/mwledger eval

## bench: one table of figures (extraction on one core; end to end, peak RSS,
## extractor scale-out and alert latency on the real services, which must be up:
## make services-up). It finds them as services.sh does (MWLEDGER_STATE_DIR,
## MWLEDGER_KAFKA_PORT, MWLEDGER_ES_PORT, ...) unless MWLEDGER_KAFKA or
## MWLEDGER_ES say otherwise. BENCH_ARGS: -articles, -scale-articles,
## -alert-deals, -alert-trace (go run ./cmd/mwledger-bench -h).
BENCH_ARGS ?=
bench: build
	@k="$$MWLEDGER_KAFKA" e="$$MWLEDGER_ES"; eval "$$(bash $(SERVICES_SH) env)"; \
	export MWLEDGER_KAFKA="$${k:-$$MWLEDGER_KAFKA}" MWLEDGER_ES="$${e:-$$MWLEDGER_ES}"; \
	echo "bench: Kafka $$MWLEDGER_KAFKA, Elasticsearch $$MWLEDGER_ES"; \
	$(GO) run ./cmd/mwledger-bench -bin bin/mwledger $(BENCH_ARGS)

clean:
	rm -rf bin
