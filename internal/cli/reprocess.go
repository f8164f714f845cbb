package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/schemas"
)

// runReprocess replays the archived articles (the mwledger.articles topic, kept
// 30 days) through the current extractor: a fresh consumer group reads the topic
// from its first offset and the contracts go to mwledger.contracts stamped with
// this extractor's version, where the indexer merges them into their deals.
func runReprocess(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reprocess", "[--group NAME] [--idle-exit 10s]")
	group := fs.String("group", "", "consumer group of the replay (default: mwledger-reprocess-<unix time>, a new group that starts at the first offset)")
	var sf serviceFlags
	sf.register(fs, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"reprocess: no arguments expected"}
	}
	if *group == "" {
		*group = fmt.Sprintf("mwledger-reprocess-%d", time.Now().Unix())
	}
	if sf.idleExit == 0 {
		sf.idleExit = 10 * time.Second // a replay ends when the archive is read
	}
	x, err := extractor.New()
	if err != nil {
		return err
	}
	e.log.Info("replaying the article archive", "group", *group, "topic", schemas.TopicArticles, schemas.FieldExtractorVersion, extractor.Version, "idle_exit", sf.idleExit)
	start := time.Now()
	st, err := app.Extract(ctx, sf.kafkaConfig(), x, *group, extractor.StageConfig{IdleExit: sf.idleExit, Log: e.log})
	fmt.Fprintf(e.stderr, "reprocess: %d article(s) replayed, %d contract record(s) published with extractor %s, %d dead letter(s), %s\n",
		st.Articles, st.Contracts, extractor.Version, st.DeadLetters, time.Since(start).Round(time.Millisecond))
	return err
}
