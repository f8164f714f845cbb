package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

// SkipBacklog commits, for a consumer group that has no offsets yet, the
// current end of every partition of topic: the group then reads only what is
// published from now on, not what earlier runs left on a shared topic.
func SkipBacklog(ctx context.Context, brokers []string, group, topic string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 15 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return fmt.Errorf("metadata of %s: %v", topic, md.Topics)
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range md.Topics[0].Partitions {
		req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	var commits []kafka.OffsetCommit
	for _, po := range lo.Topics[topic] {
		if po.Error != nil {
			return fmt.Errorf("end offset of %s/%d: %w", topic, po.Partition, po.Error)
		}
		commits = append(commits, kafka.OffsetCommit{Partition: po.Partition, Offset: po.LastOffset})
	}
	// On a new broker the offsets topic (and so the coordinator) appears with
	// the first FindCoordinator: retry until it answers.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err = commitOnce(ctx, client, group, topic, commits)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func commitOnce(ctx context.Context, client *kafka.Client, group, topic string, commits []kafka.OffsetCommit) error {
	fc, err := client.FindCoordinator(ctx, &kafka.FindCoordinatorRequest{Key: group, KeyType: kafka.CoordinatorKeyTypeConsumer})
	if err != nil {
		return fmt.Errorf("finding the coordinator of %s: %w", group, err)
	}
	if fc.Error != nil {
		return fmt.Errorf("finding the coordinator of %s: %w", group, fc.Error)
	}
	cc := &kafka.Client{Addr: kafka.TCP(fmt.Sprintf("%s:%d", fc.Coordinator.Host, fc.Coordinator.Port)), Timeout: client.Timeout}
	res, err := cc.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{topic: commits}})
	if err != nil {
		return fmt.Errorf("committing the end of %s for %s: %w", topic, group, err)
	}
	for _, ps := range res.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("committing the end of %s/%d for %s: %w", topic, p.Partition, group, p.Error)
			}
		}
	}
	return nil
}

// Lag is how many messages of topic the group has not committed yet.
func Lag(ctx context.Context, brokers []string, group, topic string) (int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 {
		return 0, fmt.Errorf("metadata of %s: %v", topic, err)
	}
	var ids []int
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range md.Topics[0].Partitions {
		ids = append(ids, p.ID)
		req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return 0, err
	}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err != nil {
		return 0, err
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[topic] {
		committed[p.Partition] = p.CommittedOffset
	}
	var lag int64
	for _, po := range lo.Topics[topic] {
		c := committed[po.Partition]
		if c < 0 {
			c = 0
		}
		lag += max(0, po.LastOffset-c)
	}
	return lag, nil
}

// EndOffsets returns the end offset of every partition of topic (its length
// in messages, as long as nothing was deleted).
func EndOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	// A broker just started (or a topic just created) answers "not leader",
	// "offset not available" or, while it still loads its logs, an unknown
	// server error for a few seconds, and may close the first connection
	// (unexpected EOF, reset): ask again for up to 30 s.
	deadline := time.Now().Add(30 * time.Second)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		out, err := endOffsets(ctx, brokers, topic)
		if err == nil {
			return out, nil
		}
		var ke kafka.Error
		transient := errors.As(err, &ke) && (ke.Temporary() || ke == kafka.Unknown || ke == kafka.UnknownTopicOrPartition || ke == kafka.OffsetNotAvailable || ke == kafka.BrokerNotAvailable) ||
			errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
		if !transient || time.Now().After(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

func endOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata of %s: %v", topic, md.Topics)
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range md.Topics[0].Partitions {
		req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	out := map[int]int64{}
	for _, po := range lo.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("end offset of %s/%d: %w", topic, po.Partition, po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}

// WaitForGroup waits until group is Stable with members members that share
// every partition of topic between them: from then on each partition has a
// reader, so a message published now is read without waiting for a join or a
// rebalance. It returns how long it waited.
func WaitForGroup(ctx context.Context, brokers []string, group, topic string, members int) (time.Duration, error) {
	start := time.Now()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 {
		return 0, fmt.Errorf("metadata of %s: %v", topic, err)
	}
	partitions := len(md.Topics[0].Partitions)
	last := "no answer"
	for {
		res, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		switch {
		case err != nil:
			last = err.Error()
		case len(res.Groups) != 1:
			last = fmt.Sprintf("%d groups in the answer", len(res.Groups))
		case res.Groups[0].Error != nil:
			last = res.Groups[0].Error.Error()
		default:
			g := res.Groups[0]
			assigned := 0
			for _, m := range g.Members {
				for _, t := range m.MemberAssignments.Topics {
					if t.Topic == topic {
						assigned += len(t.Partitions)
					}
				}
			}
			if g.GroupState == "Stable" && len(g.Members) == members && assigned == partitions {
				return time.Since(start), nil
			}
			last = fmt.Sprintf("state %s, %d members, %d of %d partitions assigned", g.GroupState, len(g.Members), assigned, partitions)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("waiting for group %s (%s): %w", group, last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
