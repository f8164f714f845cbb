package alert

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/stream"
)

// Defaults of DispatcherConfig. The backoff cap bounds how late a receiver that
// comes back hears of the alerts it missed: within DefaultMaxBackoff (plus a
// poll interval) of its return. At 10 s a receiver that stays down gets at most
// about 12 attempts a minute from each indexer (with 30 s it could wait half a
// minute after coming back; TestWebhookDownForAMinute measures it).
const (
	DefaultPollInterval = 2 * time.Second
	DefaultMinBackoff   = 200 * time.Millisecond
	DefaultMaxBackoff   = 10 * time.Second
)

// DispatcherConfig configures the outbox drainer.
type DispatcherConfig struct {
	// Outbox is the store holding the alerts. Required.
	Outbox ledger.Outbox
	// Sinks deliver the alerts; an alert waits for each sink it names. Required.
	Sinks []Sink
	// PollInterval is how often the whole outbox is swept (alerts left by an
	// earlier process, sinks that failed). Default 2s.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failing sink is tried
	// again (exponential with jitter). Defaults 200ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// Batch is the most alerts read at once. Default 100.
	Batch int
	// Log receives the dispatcher's logs. Default: discard.
	Log *slog.Logger
	// Observer hears of deliveries, failures and what is pending (metrics).
	// Default: none.
	Observer Observer
}

// Observer hears what a Dispatcher does. Its methods must be quick and safe
// for concurrent use.
type Observer interface {
	// Pending: after a sweep over the whole outbox, the (alert, sink)
	// deliveries still waiting among the alerts it read.
	Pending(n int)
	// Delivered: sink acknowledged an alert created age ago.
	Delivered(sink string, age time.Duration)
	// Failed: sending an alert to sink failed (it is retried).
	Failed(sink string)
}

// Validate names the first bad field.
func (c *DispatcherConfig) Validate() error {
	if c.Outbox == nil {
		return errors.New("alert dispatcher: Outbox is required")
	}
	if len(c.Sinks) == 0 {
		return errors.New("alert dispatcher: Sinks is empty")
	}
	seen := map[string]bool{}
	for _, s := range c.Sinks {
		if seen[s.Name()] {
			return errors.New("alert dispatcher: two sinks named " + s.Name())
		}
		seen[s.Name()] = true
	}
	if c.PollInterval < 0 || c.MinBackoff < 0 || c.MaxBackoff < 0 || c.Batch < 0 {
		return errors.New("alert dispatcher: PollInterval, MinBackoff, MaxBackoff and Batch must not be negative")
	}
	return nil
}

// Dispatcher drains the alert outbox: for each pending alert and each sink it
// still waits for, Send, then acknowledge in the store. Delivery is
// at-least-once per sink; a sink that fails is retried with backoff while the
// other sinks go on, and nothing is dropped: the alert stays pending in the
// store (across restarts) until the sink acknowledged it. Run one dispatcher per
// ledger.
type Dispatcher struct {
	cfg   DispatcherConfig
	sinks map[string]Sink
	kick  chan struct{}

	sweepMu sync.Mutex // one sweep at a time: Run and Drain may overlap
	mu      sync.Mutex
	hot     map[string]bool // deals with alerts we were told about and have not delivered
	retry   map[string]time.Time
	backof  map[string]*stream.Backoff
	warned  map[string]bool
	// Delivered counts successful sends per sink.
	delivered map[string]int
}

// NewDispatcher validates cfg.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{cfg: cfg, sinks: map[string]Sink{}, kick: make(chan struct{}, 1), hot: map[string]bool{},
		retry: map[string]time.Time{}, backof: map[string]*stream.Backoff{}, warned: map[string]bool{}, delivered: map[string]int{}}
	for _, s := range cfg.Sinks {
		d.sinks[s.Name()] = s
		d.backof[s.Name()] = &stream.Backoff{Min: cfg.MinBackoff, Max: cfg.MaxBackoff}
	}
	return d, nil
}

// SinkNames are the names of the configured sinks (for the policy).
func (d *Dispatcher) SinkNames() []string {
	out := make([]string, 0, len(d.sinks))
	for n := range d.sinks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Notify tells the dispatcher that these deals got new alerts (the store's
// notify hook). It never blocks.
func (d *Dispatcher) Notify(dealIDs []string) {
	d.mu.Lock()
	for _, id := range dealIDs {
		d.hot[id] = true
	}
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Delivered returns how many messages each sink acknowledged so far.
func (d *Dispatcher) Delivered() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.delivered {
		out[k] = v
	}
	return out
}

// Run delivers until ctx ends: at once for notified deals, and every
// PollInterval over the whole outbox.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.PollInterval)
	defer t.Stop()
	// retry wakes the loop when a failed sink's backoff ends, so a retry does
	// not wait for the next poll or the next new alert.
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	after := func(left int) {
		if left > 0 {
			retry.Reset(d.untilRetry())
		}
	}
	after(d.sweep(ctx, true))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.kick:
			after(d.sweep(ctx, false))
		case <-retry.C:
			after(d.sweep(ctx, false))
		case <-t.C:
			after(d.sweep(ctx, true))
		}
	}
}

// untilRetry is the wait until the earliest backoff of a failing sink ends, or
// the poll interval when no backoff is running (a failed acknowledgement).
func (d *Dispatcher) untilRetry() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	wait := d.cfg.PollInterval
	for _, at := range d.retry {
		if w := time.Until(at); w > 0 && w < wait {
			wait = w
		}
	}
	return max(wait, d.cfg.MinBackoff)
}

// Drain delivers what is pending now and returns when nothing deliverable is
// left, or ctx ends (e.g. a batch run that stops).
func (d *Dispatcher) Drain(ctx context.Context) error {
	for {
		left := d.sweep(ctx, true)
		if left == 0 || ctx.Err() != nil {
			return ctx.Err()
		}
		if err := stream.Sleep(ctx, d.cfg.MinBackoff); err != nil {
			return err
		}
	}
}

// sweep delivers the alerts of the notified deals and, when all is set, of the
// whole outbox. It returns how many (alert, sink) deliveries are still pending.
func (d *Dispatcher) sweep(ctx context.Context, all bool) int {
	d.sweepMu.Lock()
	defer d.sweepMu.Unlock()
	d.mu.Lock()
	ids := make([]string, 0, len(d.hot))
	for id := range d.hot {
		ids = append(ids, id)
	}
	d.mu.Unlock()
	sort.Strings(ids)
	var pend []ledger.PendingAlert
	var err error
	if len(ids) > 0 {
		pend, err = d.cfg.Outbox.PendingAlerts(ctx, ids, 0)
		if err != nil {
			d.cfg.Log.Warn("reading alert outbox", "err", err)
			return 1
		}
		d.mu.Lock()
		for _, id := range ids {
			delete(d.hot, id)
		}
		d.mu.Unlock()
	}
	if all {
		more, err := d.cfg.Outbox.PendingAlerts(ctx, nil, d.cfg.Batch)
		if err != nil {
			d.cfg.Log.Warn("reading alert outbox", "err", err)
			return 1
		}
		seen := map[string]bool{}
		for _, p := range pend {
			seen[p.Alert.ID] = true
		}
		for _, p := range more {
			if !seen[p.Alert.ID] {
				pend = append(pend, p)
			}
		}
	}
	left, pairs := 0, 0
	var acks []ledger.Ack
	var acked []ledger.PendingAlert
	retry := func(p ledger.PendingAlert) {
		left++
		d.mu.Lock()
		d.hot[p.DealID] = true // try again without waiting for a sweep
		d.mu.Unlock()
	}
	for _, p := range pend {
		pairs += len(p.Alert.Pending)
		for _, sink := range p.Alert.Pending {
			if ctx.Err() != nil {
				left++
				break
			}
			sent, ack := d.deliver(ctx, p, sink)
			switch {
			case ack:
				acks = append(acks, ledger.Ack{DealID: p.DealID, AlertID: p.Alert.ID, Sink: sink, At: time.Now().UTC()})
				acked = append(acked, p)
			case !sent:
				retry(p)
			}
		}
	}
	// The deliveries of the sweep are recorded together: sends do not wait
	// for a store round trip each.
	if len(acks) > 0 {
		// Recorded even when stopping: the sends happened.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := d.cfg.Outbox.AckAlerts(actx, acks); err != nil {
			// Delivered but not recorded: the sinks may see them again (at-least-once).
			d.cfg.Log.Warn("acknowledging alerts", "alerts", len(acks), "err", err)
			for _, p := range acked {
				retry(p)
			}
			acks = nil
		}
	}
	if o := d.cfg.Observer; o != nil {
		for i, a := range acks {
			o.Delivered(a.Sink, a.At.Sub(acked[i].Alert.CreatedAt))
		}
		if all {
			o.Pending(pairs - len(acks))
		}
	}
	return left
}

// deliver sends one alert to one sink. sent is false when it must be tried
// again; ack says the delivery is to be recorded (also for an unreadable
// payload, recorded to unblock the outbox, and never for a sink this process
// does not run).
func (d *Dispatcher) deliver(ctx context.Context, p ledger.PendingAlert, name string) (sent, ack bool) {
	s, ok := d.sinks[name]
	if !ok {
		d.mu.Lock()
		if !d.warned[name] {
			d.warned[name] = true
			d.cfg.Log.Warn("alert waits for a sink this process does not run", "sink", name, "alert_id", p.Alert.ID)
		}
		d.mu.Unlock()
		return true, false // not ours to retry
	}
	d.mu.Lock()
	wait := time.Until(d.retry[name])
	d.mu.Unlock()
	if wait > 0 {
		return false, false
	}
	var msg Message
	if err := json.Unmarshal(p.Alert.Payload, &msg); err != nil {
		d.cfg.Log.Error("alert payload unreadable, acknowledging to unblock", "alert_id", p.Alert.ID, "err", err)
		return true, true
	}
	if err := s.Send(ctx, msg); err != nil {
		d.mu.Lock()
		w := d.backof[name].Next()
		d.retry[name] = time.Now().Add(w)
		d.mu.Unlock()
		d.cfg.Log.Warn("alert delivery failed, will retry", "sink", name, "alert_id", p.Alert.ID, "wait", w, "err", err)
		if d.cfg.Observer != nil {
			d.cfg.Observer.Failed(name)
		}
		return false, false
	}
	d.mu.Lock()
	d.backof[name].Reset()
	d.delivered[name]++
	d.mu.Unlock()
	return true, true
}
