package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// servicePIDs are the processes of the services the bench runs against: those
// listening on the brokers' ports and on the Elasticsearch nodes' HTTP ports.
// Their CPU time (from /proc) is the services' share of the work per record.
// Only processes this user may inspect are found: services started by
// scripts/services.sh as the same user, on this machine.
type servicePIDs struct {
	elastic, kafka []int
	// idle is the CPU the services use per second of wall time when the
	// bench only samples the lag: the lowest rate measureIdle saw (zero
	// until then), as their work on a run's writes may not be over when the
	// next run starts.
	idle    serviceCPU
	idleSet bool
}

// findServices looks up the processes listening on the ports of brokers
// (host:port) and of the Elasticsearch URLs.
func findServices(brokers, esURLs []string) *servicePIDs {
	var kports, eports []int
	for _, b := range brokers {
		if _, p, err := net.SplitHostPort(b); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				kports = append(kports, n)
			}
		}
	}
	for _, e := range esURLs {
		if u, err := url.Parse(e); err == nil {
			if n, err := strconv.Atoi(u.Port()); err == nil {
				eports = append(eports, n)
			}
		}
	}
	owners := listenerPIDs(append(append([]int{}, kports...), eports...))
	s := &servicePIDs{}
	for _, p := range kports {
		if pid, ok := owners[p]; ok {
			s.kafka = append(s.kafka, pid)
		}
	}
	for _, p := range eports {
		if pid, ok := owners[p]; ok {
			s.elastic = append(s.elastic, pid)
		}
	}
	return s
}

func (s *servicePIDs) String() string {
	return fmt.Sprintf("Kafka pids %v, Elasticsearch pids %v", s.kafka, s.elastic)
}

// measureIdle samples the services' CPU over d while the bench only calls
// poll every 100 ms, as it reads a group's lag during a run: their own
// background work (heartbeats, the KRaft quorum, cluster state) and the
// bench's sampling, subtracted from the runs' figures. It returns the cores
// they kept busy.
func (s *servicePIDs) measureIdle(ctx context.Context, d time.Duration, poll func()) (elastic, kafka float64) {
	c0 := s.cpu()
	t0 := time.Now()
	for time.Since(t0) < d {
		poll()
		select {
		case <-ctx.Done():
			return 0, 0
		case <-time.After(100 * time.Millisecond):
		}
	}
	c := s.cpu().sub(c0)
	el := time.Since(t0)
	rate := serviceCPU{elastic: c.elastic * time.Second / el, kafka: c.kafka * time.Second / el, esOK: c.esOK, kafkaOK: c.kafkaOK}
	if !s.idleSet {
		s.idle, s.idleSet = rate, true
	}
	s.idle.elastic, s.idle.kafka = min(s.idle.elastic, rate.elastic), min(s.idle.kafka, rate.kafka)
	return c.elastic.Seconds() / el.Seconds(), c.kafka.Seconds() / el.Seconds()
}

// serviceCPU is the CPU time (user+sys) Elasticsearch's and Kafka's processes
// used so far, or over a window (sub); ok is false when none was found.
type serviceCPU struct {
	elastic, kafka time.Duration
	esOK, kafkaOK  bool
}

func (s *servicePIDs) cpu() serviceCPU {
	var c serviceCPU
	if s == nil {
		return c
	}
	for _, pid := range s.elastic {
		c.elastic += procCPU(pid)
	}
	for _, pid := range s.kafka {
		c.kafka += procCPU(pid)
	}
	c.esOK, c.kafkaOK = len(s.elastic) > 0, len(s.kafka) > 0
	return c
}

func (c serviceCPU) sub(before serviceCPU) serviceCPU {
	c.elastic -= before.elastic
	c.kafka -= before.kafka
	return c
}

// lessIdle subtracts the services' idle CPU over wall (never below zero).
func (c serviceCPU) lessIdle(s *servicePIDs, wall time.Duration) serviceCPU {
	if s == nil {
		return c
	}
	idle := func(rate time.Duration) time.Duration { return time.Duration(float64(rate) * wall.Seconds()) }
	c.elastic = max(0, c.elastic-idle(s.idle.elastic))
	c.kafka = max(0, c.kafka-idle(s.idle.kafka))
	return c
}

// perRecord is the services' CPU per record of r in ms; ok when both were found.
func (c serviceCPU) perRecord(r groupRun) (elastic, kafka float64, ok bool) {
	return r.perRecord(c.elastic), r.perRecord(c.kafka), c.esOK && c.kafkaOK
}

func (c serviceCPU) perRecordES(r groupRun) string {
	if !c.esOK {
		return "unknown (no process found on its ports)"
	}
	return fmt.Sprintf("%.2f ms", r.perRecord(c.elastic))
}

func (c serviceCPU) perRecordKafka(r groupRun) string {
	if !c.kafkaOK {
		return "unknown (no process found on its ports)"
	}
	return fmt.Sprintf("%.2f ms", r.perRecord(c.kafka))
}

// listenerPIDs maps each of ports that a process listens on (TCP, IPv4 or
// IPv6) to that process: the socket's inode from /proc/net/tcp{,6}, then the
// process holding that inode among /proc/*/fd.
func listenerPIDs(ports []int) map[int]int {
	want := map[int]bool{}
	for _, p := range ports {
		want[p] = true
	}
	inodes := map[string]int{} // socket inode → port
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fs := strings.Fields(l)
			if len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			i := strings.LastIndexByte(fs[1], ':')
			port, err := strconv.ParseInt(fs[1][i+1:], 16, 32)
			if err == nil && want[int(port)] {
				inodes["socket:["+fs[9]+"]"] = int(port)
			}
		}
	}
	out := map[int]int{}
	if len(inodes) == 0 {
		return out
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil {
			continue
		}
		if port, ok := inodes[link]; ok {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			out[port] = pid
		}
	}
	return out
}

// loadAvg is the machine's 1-, 5- and 15-minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
