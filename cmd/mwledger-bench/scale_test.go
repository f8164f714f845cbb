package main

import (
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRuns(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		want        []int
		errContains string
	}{
		{name: "default", in: "1,2", want: []int{1, 2}},
		{name: "alternating with spaces", in: "1, 2, 2, 1", want: []int{1, 2, 2, 1}},
		{name: "zero instances", in: "0,1", errContains: "from 1 to 6"},
		{name: "more instances than partitions", in: "7", errContains: "from 1 to 6"},
		{name: "not a number", in: "1,two", errContains: "-scale-runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRuns(tt.in)
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("parseRuns(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.errContains)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseRuns(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestESAddrs(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []string
		first string
	}{
		{name: "one node", in: "http://127.0.0.1:19200", want: []string{"http://127.0.0.1:19200"}, first: "http://127.0.0.1:19200"},
		{name: "a cluster, trailing slashes and spaces", in: "http://127.0.0.1:28200/, http://127.0.0.1:28201,,http://127.0.0.1:28202/",
			want: []string{"http://127.0.0.1:28200", "http://127.0.0.1:28201", "http://127.0.0.1:28202"}, first: "http://127.0.0.1:28200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := esAddrs(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("esAddrs(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got := firstNode(tt.in); got != tt.first {
				t.Errorf("firstNode(%q) = %q, want %q", tt.in, got, tt.first)
			}
		})
	}
}

// TestFindServices finds this test's own process listening on a loopback port,
// as the bench finds the brokers and the Elasticsearch nodes.
func TestFindServices(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp: not Linux")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	svc := findServices([]string{addr}, []string{"http://" + addr})
	if want := []int{os.Getpid()}; !reflect.DeepEqual(svc.kafka, want) || !reflect.DeepEqual(svc.elastic, want) {
		t.Fatalf("findServices(%s) = %s, want this process (%d) for both", addr, svc, os.Getpid())
	}
	// Spin until the kernel has counted a tick of CPU time (10 ms) for this process.
	for deadline := time.Now().Add(5 * time.Second); procCPU(os.Getpid()) == 0 && time.Now().Before(deadline); {
	}
	c := svc.cpu()
	if !c.esOK || !c.kafkaOK || c.elastic <= 0 {
		t.Errorf("cpu() = %+v, want this process's CPU time for both", c)
	}
	none := findServices([]string{"127.0.0.1:1"}, nil)
	if len(none.kafka)+len(none.elastic) != 0 || none.cpu().kafkaOK {
		t.Errorf("findServices on a port nobody listens on = %s", none)
	}
}

func TestServiceCPULessIdle(t *testing.T) {
	s := &servicePIDs{idle: serviceCPU{elastic: 100 * time.Millisecond, kafka: 10 * time.Millisecond}}
	c := serviceCPU{elastic: 3 * time.Second, kafka: 50 * time.Millisecond, esOK: true, kafkaOK: true}.lessIdle(s, 10*time.Second)
	if c.elastic != 2*time.Second || c.kafka != 0 {
		t.Errorf("lessIdle over 10 s = elastic %s, kafka %s; want 2s and 0 (never below zero)", c.elastic, c.kafka)
	}
}
