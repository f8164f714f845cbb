// Package app assembles mwledger's stages into a running program: the
// embedded mode here (a source, the extractor and the indexer joined by an
// in-process bus, into a ledger in this process). The CLI's `run` and
// `backfill --embedded` use it.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// Source publishes articles to the bus (the crawler, the backfill) and
// returns when it has nothing more; the bus's articles topic is then closed.
type Source func(ctx context.Context, pub stream.Publisher) error

// Store is a ledger the indexer writes and that raises alerts.
type Store interface {
	ledger.Store
	SetAlerts(policy ledger.AlertPolicy, notify func(dealIDs []string))
}

var (
	_ Store = (*sqlite.Store)(nil)
	_ Store = (*bolt.Store)(nil)
)

// Embedded is the whole pipeline in one process.
type Embedded struct {
	// Store is the ledger the indexer writes. Required.
	Store Store
	// Extractor reads the articles. Required.
	Extractor *extractor.Extractor
	// Extract and Index configure the two stages (their Log defaults to Log).
	Extract extractor.StageConfig
	Index   indexer.StageConfig
	// Policy and Dispatcher, when set, raise and deliver alerts; the
	// dispatcher runs beside the indexer and is drained for at most Drain
	// (default 10s) once it finished (see Indexer).
	Policy     ledger.AlertPolicy
	Dispatcher *alert.Dispatcher
	Drain      time.Duration
	// Finish: the stages finish what the source published even when ctx ends
	// (the backfill: what was read is extracted and indexed). Default false:
	// they stop with ctx.
	Finish bool
	// Bus joins the stages. Default: a new in-process bus.
	Bus *stream.Memory
	// AckBus, when set, joins the stages instead of Bus: the source's
	// Publish of articles returns only once they were extracted and their
	// records stored (or dead-lettered), so that a source that records what
	// it published (a crawl seen-set, backfill resume points) never records
	// what a killed process lost. See IndexedBus.
	AckBus *IndexedBus
	// Log receives the logs. Default: discard.
	Log *slog.Logger
}

// Stats counts what Run did.
type Stats struct {
	Extract extractor.StageStats
	Index   indexer.StageStats
	// SourceErr is the source's error (nil, or context.Canceled when it was stopped).
	SourceErr error
	// ExtractTime is how long the extractor stage ran.
	ExtractTime time.Duration
}

// Run runs source, the extractor and the indexer over a new in-process bus
// until the source is done and the stages drained what it published. A
// context.Canceled error is not returned: a stopped run is not a failure.
func (e Embedded) Run(ctx context.Context, source Source) (Stats, error) {
	if e.Store == nil || e.Extractor == nil {
		return Stats{}, errors.New("app: Embedded needs a Store and an Extractor")
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if e.Extract.Log == nil {
		e.Extract.Log = e.Log
	}
	if e.Index.Log == nil {
		e.Index.Log = e.Log
	}
	var mem embeddedBus = e.Bus
	if e.Bus == nil {
		mem = stream.NewMemory()
	}
	stopAcks := func(error) {}
	if e.AckBus != nil {
		mem, stopAcks = e.AckBus, e.AckBus.stop
	}
	var st Stats
	g, gctx := errgroup.WithContext(ctx)
	stageCtx := gctx
	if e.Finish {
		stageCtx = context.WithoutCancel(gctx)
	}
	g.Go(func() error {
		defer mem.CloseTopic(schemas.TopicArticles)
		st.SourceErr = source(gctx, mem)
		if e.Finish && errors.Is(st.SourceErr, context.Canceled) {
			return nil // what was published is still extracted and indexed
		}
		return st.SourceErr
	})
	g.Go(func() error {
		defer mem.CloseTopic(schemas.TopicContracts)
		defer stopAcks(errStagesStopped)
		start := time.Now()
		var err error
		st.Extract, err = e.Extractor.RunStage(stageCtx, mem.Consumer(schemas.TopicArticles), mem, e.Extract)
		st.ExtractTime = time.Since(start)
		return err
	})
	g.Go(func() error {
		defer stopAcks(errStagesStopped)
		var err error
		ix := Indexer{Store: e.Store, Stage: e.Index, Policy: e.Policy, Dispatcher: e.Dispatcher, Drain: e.Drain}
		st.Index, err = ix.Run(stageCtx, mem.Consumer(schemas.TopicContracts), mem)
		return err
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return st, err
}
