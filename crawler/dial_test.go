package crawler

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

// TestAddressGuard: every IANA special-purpose range for IPv4 and IPv6 (and
// multicast, site-local, everything outside 2000::/3) is refused, also when
// reached through IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::a9fe:a9fe is
// 169.254.169.254) or 6to4 forms; global unicast addresses pass. Nothing is
// dialled: the guard runs on the address before any connection, and the
// dialer underneath records and refuses everything.
func TestAddressGuard(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		// IPv4 special-purpose registry.
		{"0.0.0.0", false}, {"0.1.2.3", false}, {"10.0.0.1", false}, {"100.64.0.1", false}, {"100.127.255.254", false},
		{"127.0.0.1", false}, {"127.255.255.254", false}, {"169.254.169.254", false}, {"172.16.0.1", false}, {"172.31.255.255", false},
		{"192.0.0.8", false}, {"192.0.0.9", false}, {"192.0.0.170", false}, {"192.0.2.1", false}, {"192.31.196.1", false},
		{"192.52.193.1", false}, {"192.88.99.1", false}, {"192.168.1.1", false}, {"192.175.48.1", false},
		{"198.18.0.1", false}, {"198.19.255.255", false}, {"198.51.100.1", false}, {"203.0.113.1", false},
		{"224.0.0.1", false}, {"239.255.255.250", false}, {"240.0.0.1", false}, {"255.255.255.255", false},
		// IPv6 special-purpose registry and beyond.
		{"::", false}, {"::1", false}, {"::a00:1", false}, {"::ffff:127.0.0.1", false}, {"::ffff:169.254.169.254", false},
		{"64:ff9b::a9fe:a9fe", false}, {"64:ff9b::7f00:1", false}, {"64:ff9b::a00:1", false}, {"64:ff9b:1::1", false},
		{"100::1", false}, {"100:0:0:1::1", false}, {"2001::1", false}, {"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"2001:1::1", false}, {"2001:2::1", false}, {"2001:3::1", false}, {"2001:4:112::1", false}, {"2001:10::1", false},
		{"2001:20::1", false}, {"2001:30::1", false}, {"2001:db8::1", false}, {"2002:a9fe:a9fe::1", false}, {"2002:808:808::1", false},
		{"2620:4f:8000::1", false}, {"3fff::1", false}, {"5f00::1", false}, {"fc00::1", false}, {"fd12:3456::1", false},
		{"fe80::1", false}, {"fe80::1%eth0", false}, {"fec0::1", false}, {"ff02::1", false}, {"4000::1", false}, {"8000::1", false},
		// Global unicast: allowed (never dialled here).
		{"8.8.8.8", true}, {"1.1.1.1", true}, {"93.184.216.34", true}, {"198.20.0.1", true}, {"100.128.0.1", true},
		{"::ffff:8.8.8.8", true}, {"64:ff9b::808:808", true}, {"2606:4700:4700::1111", true}, {"2a00:1450:4001::1", true},
	} {
		a, err := netip.ParseAddr(tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if got := isPublic(a); got != tc.public {
			t.Errorf("isPublic(%s) = %v, want %v", tc.addr, got, tc.public)
		}
		// The dialer's Control refuses the same, on the address after resolution.
		ap := netip.AddrPortFrom(a.WithZone(""), 443).String()
		if err := refuseNonPublic("tcp", ap, nil); (err == nil) != tc.public {
			t.Errorf("refuseNonPublic(%s) = %v, want refused=%v", ap, err, !tc.public)
		}
		// An injected dialer is never reached for a refused literal.
		var rec recordingDialer
		_, err = guardedDialer(rec.dial, false)(context.Background(), "tcp", ap)
		var pa ErrPrivateAddress
		if tc.public != (len(rec.addrs) == 1) || (!tc.public && !errors.As(err, &pa)) {
			t.Errorf("guarded dial %s: err %v, reached the dialer %d times; want refused=%v", ap, err, len(rec.addrs), !tc.public)
		}
	}
	// allow_private lets everything through to the dialer.
	var rec recordingDialer
	guardedDialer(rec.dial, true)(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", "80"))
	if len(rec.addrs) != 1 {
		t.Errorf("allow_private: the dialer was reached %d times", len(rec.addrs))
	}
}
