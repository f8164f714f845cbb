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

## bench: one table of figures (extraction on one core; end to end, peak RSS and
## alert latency on the real services, which must be up: make services-up)
BENCH_ARGS ?=
bench: build
	$(GO) run ./cmd/mwledger-bench -bin bin/mwledger $(BENCH_ARGS)

clean:
	rm -rf bin
