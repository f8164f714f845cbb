package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/mwledger/mwledger/ledger/es"
	"net/http"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// maxIndexScale bounds the indexer's backlog: the exactly-once check reads
// every deal of a run in one search (testkit.SourceCounts, 10,000 hits).
const maxIndexScale = 10000

// indexScaleOut measures the indexer with one and with two `mwledger index`
// processes in one consumer group, over the same backlog: the contract
// records of n generated articles (extracted in this process, keyed by
// contract id as the extractor publishes them) on the 6-partition contracts
// topic. Each run writes into a fresh alias, so that both start from an empty
// ledger; after each, every article's record must be in exactly one deal, and
// every run must make the same number of deals. order and the rows are as
// scaleOut's.
func indexScaleOut(ctx context.Context, bin, kafkaAddr, esList string, n int, order scaleOrder, svc *servicePIDs) (func() []row, error) {
	st, err := newScaleStep(ctx, bin, kafkaAddr)
	if err != nil {
		return nil, err
	}
	brokers, cfg, run, seed := st.cfg.Brokers, st.cfg, st.run, st.seed
	base := "https://scaleout.example/index-" + run

	x, err := extractor.New()
	if err != nil {
		return nil, err
	}
	logf("indexer scale-out: extracting %d generated articles", n)
	var contracts []schemas.Contract
	sources := map[string]bool{}
	for i := range n {
		cs, err := x.Extract(ctx, testkit.Article(base, seed, i))
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			sources[c.Source.URL] = true
		}
		contracts = append(contracts, cs...)
	}
	ids := map[string]bool{}
	for _, c := range contracts {
		ids[c.ID] = true
	}
	groups := runGroups("bench-iscale", run, order.runs)
	logf("indexer scale-out: publishing %d contract records", len(contracts))
	bl, err := publishBacklog(ctx, cfg, schemas.TopicContracts, groups, len(contracts), func(i int) (stream.Message, error) {
		c := contracts[i]
		v, err := json.Marshal(c)
		return stream.Message{Topic: schemas.TopicContracts, Key: []byte(c.ID), Value: v,
			Headers: map[string]string{schemas.FieldExtractorVersion: extractor.Version}}, err
	})
	if err != nil {
		return nil, err
	}

	const sec = "scale-out (index)"
	rows := []row{{sec, "backlog", fmt.Sprintf("%d contract records of %d generated articles (%d contract ids) on %s (%s); a fresh consumer group and a fresh alias per run, --batch 2000 (the default)",
		bl.records, n, len(ids), schemas.TopicContracts, bl)}}
	var runs []groupRun
	deals := make([]int, len(groups))
	for k, g := range groups {
		alias := fmt.Sprintf("%s-iscale%d-%s", es.Alias, k+1, run)
		// Created here, not by the indexers: two of them would race to create it.
		store, drop, err := freshAlias(ctx, esList, alias)
		if err != nil {
			return nil, err
		}
		defer drop()
		spec := groupSpec{stage: "index", topic: schemas.TopicContracts,
			env:  []string{"MWLEDGER_KAFKA=" + kafkaAddr, "MWLEDGER_ES=" + esList, "MWLEDGER_LOG_LEVEL=warn"},
			args: []string{"index", "--alias", alias, "--no-alerts"}}
		r, err := runGroup(ctx, bin, brokers, spec, g, order.runs[k], bl.records, svc)
		if err != nil {
			return nil, err
		}
		r.warmup = order.warm(k)
		// Lag 0 means committed, and the indexer commits a record once its deal is written.
		counts, err := testkit.SourceCounts(ctx, store, base+"/")
		if err != nil {
			return nil, err
		}
		deals[k], err = countDocs(ctx, esList, alias)
		if err != nil {
			return nil, err
		}
		var missing, twice int
		for u := range sources {
			switch c := counts[u]; {
			case c == 0:
				missing++
			case c > 1:
				twice++
			}
		}
		r.note = fmt.Sprintf("; %d deals in the fresh alias, every article's record in exactly one deal", deals[k])
		if missing > 0 || twice > 0 {
			r.note = fmt.Sprintf("; %d deals in the fresh alias; NOT EXACTLY ONCE: %d articles' records missing, %d in more than one deal", deals[k], missing, twice)
		}
		runs = append(runs, r)
	}
	same := fmt.Sprintf("the same number of deals in every run (%d)", deals[0])
	for k, d := range deals {
		if d != deals[0] {
			same = fmt.Sprintf("DIFFERENT: %d deals in run %d (%d instances), %d in run 1 (%d)", d, k+1, order.runs[k], deals[0], order.runs[0])
		}
	}
	return func() []row {
		rows = append(rows, runRows(sec, "record", runs, svc)...)
		rows = append(rows, row{sec, "deals, every run", same})
		return append(rows, predictRows(sec, "record", runs, svc)...)
	}, nil
}

// countDocs refreshes alias and returns how many documents (deals) it holds.
func countDocs(ctx context.Context, esList, alias string) (int, error) {
	if _, err := esDo(ctx, http.MethodPost, firstNode(esList)+"/"+alias+"/_refresh", "", nil); err != nil {
		return 0, err
	}
	b, err := esDo(ctx, http.MethodGet, firstNode(esList)+"/"+alias+"/_count", "", nil)
	if err != nil {
		return 0, err
	}
	var c struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return 0, fmt.Errorf("counting %s: %w", alias, err)
	}
	return c.Count, nil
}

// freshAlias creates alias (its first index version) on es, and returns a
// function that deletes its indices.
func freshAlias(ctx context.Context, esList, alias string) (*es.Store, func(), error) {
	store, err := es.New(es.Config{Addresses: esAddrs(esList), Alias: alias})
	if err != nil {
		return nil, nil, err
	}
	drop := func() {
		_, _ = esDo(context.WithoutCancel(ctx), http.MethodDelete, firstNode(esList)+"/"+alias+"-v*", "", nil)
	}
	if err := store.EnsureIndex(ctx); err != nil {
		return nil, nil, err
	}
	return store, drop, nil
}
