package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// BatchFunc processes a batch of messages. It returns what to publish
// downstream for the messages it finished (out) and one error per message
// (errs[i] for batch[i]; nil: done): a retryable error (IsRetryable) makes the
// runner call it again, after a backoff, with only those messages; any other
// error dead-letters the message with the error's reason. A non-nil err stops
// the stage without committing the batch.
type BatchFunc func(ctx context.Context, batch []Message) (out []Message, errs []error, err error)

// RunnerConfig configures Run.
type RunnerConfig struct {
	// Stage names the stage in dead letters and logs ("extract", "index"). Required.
	Stage string
	// BatchSize is the most messages handled together. Default 64.
	BatchSize int
	// Linger bounds how long a partial batch waits for more messages. Default 10ms.
	Linger time.Duration
	// IdleExit, when positive, ends the stage once nothing arrived for that
	// long (batch runs and tests). Default 0: run until the context ends.
	IdleExit time.Duration
	// RetryBackoff spaces the calls that retry a batch's retryable messages.
	// Default 250ms doubling to 30s, with jitter.
	RetryBackoff Backoff
	// FetchBackoff spaces the fetches after a failed one. Default 100ms
	// doubling to 1s, with jitter, from the shortest again once a fetch
	// brings messages. A consumer paces its own reconnections (kafka-go
	// retries a partition at most a second apart): this only keeps one that
	// fails at once from spinning, and a longer wait outlasts the outage
	// (with up to 10 s, a stage slept long after its partitions were back).
	FetchBackoff Backoff
	// RetryLog is the warning logged before such a retry. Default "retrying".
	RetryLog string
	// Log receives the stage's logs. Default: discard.
	Log *slog.Logger
	// Observer hears of retries and committed batches (metrics). Default:
	// the context's (WithObserver), else none.
	Observer Observer
}

// RunStats counts what Run did.
type RunStats struct {
	// Messages read; Done those processed without error; DeadLetters those
	// sent to the dead-letter topic; Published the messages sent downstream
	// (without the dead letters); Retries the calls that retried messages.
	Messages, Done, DeadLetters, Published, Retries int
}

func (c RunnerConfig) withDefaults() RunnerConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = 64
	}
	if c.Linger <= 0 {
		c.Linger = 10 * time.Millisecond
	}
	if c.RetryBackoff == (Backoff{}) {
		c.RetryBackoff = Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}
	}
	if c.FetchBackoff == (Backoff{}) {
		c.FetchBackoff = Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	}
	if c.RetryLog == "" {
		c.RetryLog = "retrying"
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Run is the one stage loop: it fetches a batch from in, hands it to fn
// (again for the messages that failed in a retryable way), publishes to out
// what fn produced together with the dead letters of the messages that
// failed for good, and only then commits the batch. What was fetched and not
// committed when the stage stops is delivered again: at-least-once.
//
// Run returns nil when the context ends while waiting for messages, the topic
// is closed (in-process bus) or IdleExit passed; the error of fn, publish or
// commit otherwise (the context's error when it ended in the middle of a batch).
// A fetch that fails in a retryable way (IsRetryable: a broker down, a leader
// moving) is tried again after a backoff; a permanent one ends the stage.
func Run(ctx context.Context, in Consumer, out Publisher, cfg RunnerConfig, fn BatchFunc) (RunStats, error) {
	cfg = cfg.withDefaults()
	if cfg.Stage == "" {
		return RunStats{}, errors.New("stream: RunnerConfig.Stage is required")
	}
	if cfg.Observer == nil {
		cfg.Observer = ObserverFrom(ctx)
	}
	var st RunStats
	fetchBackoff := cfg.FetchBackoff
	for {
		batch, end, err := FetchBatch(ctx, in, cfg.BatchSize, cfg.Linger, cfg.IdleExit)
		if err != nil {
			if ctx.Err() != nil {
				return st, nil
			}
			if !IsRetryable(err) {
				return st, fmt.Errorf("%s: fetching: %w", cfg.Stage, err)
			}
		}
		if len(batch) > 0 {
			if err := runBatch(ctx, batch, in, out, cfg, fn, &st); err != nil {
				return st, err
			}
		}
		if err != nil {
			// A broker that died, a partition whose leader moves: the
			// transport reconnects; the stage waits and fetches again
			// rather than exiting (what it had not committed comes again).
			// Messages with the error: the consumer works, only part of it
			// fails, and the wait starts over from the shortest.
			if len(batch) > 0 {
				fetchBackoff.Reset()
			}
			wait := fetchBackoff.Next()
			cfg.Log.Warn("fetch failed, retrying", "stage", cfg.Stage, "wait", wait, "err", err)
			if err := Sleep(ctx, wait); err != nil {
				return st, nil
			}
			continue
		}
		fetchBackoff.Reset()
		if end != More {
			if end == Idle {
				cfg.Log.Info(cfg.Stage+" idle, stopping", "idle", cfg.IdleExit, "messages", st.Messages)
			}
			return st, nil
		}
	}
}

func runBatch(ctx context.Context, batch []Message, in Consumer, out Publisher, cfg RunnerConfig, fn BatchFunc, st *RunStats) error {
	start := time.Now()
	st.Messages += len(batch)
	var msgs, dead []Message
	var deadErr []error
	todo := batch
	backoff := cfg.RetryBackoff
	for len(todo) > 0 {
		o, errs, err := fn(ctx, todo)
		if err != nil {
			return err
		}
		if len(errs) != len(todo) {
			return fmt.Errorf("%s: %d results for %d messages", cfg.Stage, len(errs), len(todo))
		}
		msgs = append(msgs, o...)
		var retry []Message
		var lastErr error
		for i, err := range errs {
			switch {
			case err == nil:
				st.Done++
			case IsRetryable(err):
				retry, lastErr = append(retry, todo[i]), err
			default:
				dead, deadErr = append(dead, todo[i]), append(deadErr, err)
			}
		}
		if len(retry) == 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return err // nothing of this batch is committed
		}
		wait := backoff.Next()
		st.Retries++
		if cfg.Observer != nil {
			cfg.Observer.Retrying(cfg.Stage, len(retry))
		}
		cfg.Log.Warn(cfg.RetryLog, "stage", cfg.Stage, "messages", len(retry), "wait", wait, "err", lastErr)
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
		todo = retry
	}
	st.Published += len(msgs)
	for i, m := range dead {
		cfg.Log.Warn("message to dead-letter topic", "stage", cfg.Stage, "topic", m.Topic, "key", string(m.Key), "partition", m.Partition, "offset", m.Offset, "err", deadErr[i])
		dl, err := DeadLetterMessage(cfg.Stage, m, deadErr[i])
		if err != nil {
			return err
		}
		msgs = append(msgs, dl)
	}
	pubBackoff := Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}
	onRetry := func(err error, wait time.Duration) {
		cfg.Log.Warn("publish failed, retrying", "stage", cfg.Stage, "err", err, "wait", wait, "messages", len(batch), "first_offset", batch[0].Offset)
	}
	if len(msgs) > 0 {
		if err := Retry(ctx, &pubBackoff, onRetry, func() error { return out.Publish(ctx, msgs...) }); err != nil {
			return err
		}
	}
	st.DeadLetters += len(dead)
	if err := Retry(ctx, &pubBackoff, nil, func() error { return in.Commit(ctx, batch...) }); err != nil {
		return err
	}
	if cfg.Observer != nil {
		rep := BatchReport{Messages: len(batch), Published: len(msgs) - len(dead), Took: time.Since(start), Lag: batchLag(batch)}
		if len(dead) > 0 {
			rep.DeadLetters = map[string]int{}
			for _, err := range deadErr {
				rep.DeadLetters[deadLetterReason(err)]++
			}
		}
		cfg.Observer.BatchDone(cfg.Stage, rep)
	}
	cfg.Log.Debug("batch done", "stage", cfg.Stage, "messages", len(batch), "published", len(msgs)-len(dead), "dead_letters", len(dead))
	return nil
}
