package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream/kafka"
)

// indexBacklog runs `mwledger index` alone over the contract records of the
// end-to-end run (group, positioned at the run's start before it) into a fresh
// alias: every deal is new to the ledger (a record may still join a deal an
// earlier record of the run started), and no other stage runs meanwhile.
// It returns the rows and the records per second, from the indexer's first
// committed batch (less that batch's time) to its last, sampled every 100 ms.
func indexBacklog(ctx context.Context, bin, kafkaAddr, esList, group, alias string, n int, profile string) ([]row, float64, error) {
	maddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, 0, err
	}
	murl := "http://" + maddr + "/metrics"
	env := []string{"MWLEDGER_KAFKA=" + kafkaAddr, "MWLEDGER_ES=" + esList, "MWLEDGER_LOG_LEVEL=warn"}
	args := []string{"index", "--group", group, "--alias", alias, "--no-alerts", "--idle-exit", "3s", "--metrics-addr", maddr}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	logf("indexer on the backlog: %d records into the fresh alias %s", n, alias)
	defer func() {
		_, _ = esDo(context.WithoutCancel(ctx), "DELETE", firstNode(esList)+"/"+alias+"-v*", "", nil)
	}()
	start := time.Now()
	p, err := startProc(ctx, "index (backlog)", bin, env, args...)
	if err != nil {
		return nil, 0, err
	}
	var last, first indexerSample
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for p.running() {
		s := scrapeIndexer(ctx, murl, time.Since(start))
		if s.scrapeSucceeded && s.records > last.records {
			if first.records == 0 {
				first = s
			}
			last = s
		}
		if last.records >= float64(n) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-tick.C:
		}
	}
	lag, _ := testkit.Lag(ctx, kafka.ParseBrokers(kafkaAddr), group, schemas.TopicContracts)
	<-p.done // its idle exit (which writes the profile)
	if p.err != nil {
		return nil, 0, fmt.Errorf("%s: %v", p.name, p.err)
	}
	if first.records == 0 {
		return nil, 0, fmt.Errorf("the backlog indexer committed nothing (lag %d)", lag)
	}
	deals := "?"
	if c, err := countDocs(ctx, esList, alias); err == nil {
		deals = strconv.Itoa(c)
	}
	firstBatch := time.Duration(first.batchSeconds / first.batches * float64(time.Second))
	window := last.at - first.at + firstBatch
	rate := last.records / window.Seconds()
	rows := []row{
		{"indexer on a backlog", "records/s", fmt.Sprintf("%.0f (the run's %.0f records again, into a fresh alias: %s deals, none there before; in %.1f s, %.0f batches of %.0f records, %.1f s in batches; lag left %d)",
			rate, last.records, deals, window.Seconds(), last.batches, last.records/last.batches, last.batchSeconds, lag)},
		{"indexer on a backlog", "Elasticsearch calls per batch", last.perBatch()},
	}
	if profile != "" {
		rows = append(rows, row{"indexer on a backlog", "CPU profile", profile + " (go tool pprof -top " + bin + " " + profile + ")"})
	}
	return rows, rate, nil
}
