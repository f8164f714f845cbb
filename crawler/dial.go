package crawler

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// DialFunc opens a network connection.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ErrPrivateAddress is returned for a connection to a loopback, private or
// link-local address from a source that does not allow it.
type ErrPrivateAddress struct{ Addr string }

func (e ErrPrivateAddress) Error() string {
	return fmt.Sprintf("refusing to connect to non-public address %s (set allow_private on the source to permit it)", e.Addr)
}

// specialV4 and specialV6 are the IANA special-purpose address registries
// (iana-ipv4-special-registry, iana-ipv6-special-registry) plus multicast,
// the deprecated site-local range and every other range outside global
// unicast: none of them is a news site. Entries the registries mark globally
// reachable (AS112, AMT, PCP anycast) are refused too: no article lives there.
var (
	specialV4 = prefixes(
		"0.0.0.0/8",          // "this network" (RFC 791): 0.0.0.0 reaches the host itself
		"10.0.0.0/8",         // private (RFC 1918)
		"100.64.0.0/10",      // shared address space, carrier-grade NAT (RFC 6598)
		"127.0.0.0/8",        // loopback
		"169.254.0.0/16",     // link local, cloud metadata (169.254.169.254)
		"172.16.0.0/12",      // private
		"192.0.0.0/24",       // IETF protocol assignments (RFC 6890), DS-Lite, NAT64 discovery
		"192.0.2.0/24",       // documentation TEST-NET-1
		"192.31.196.0/24",    // AS112-v4
		"192.52.193.0/24",    // AMT
		"192.88.99.0/24",     // deprecated 6to4 relay anycast
		"192.168.0.0/16",     // private
		"192.175.48.0/24",    // direct delegation AS112
		"198.18.0.0/15",      // benchmarking (RFC 2544)
		"198.51.100.0/24",    // documentation TEST-NET-2
		"203.0.113.0/24",     // documentation TEST-NET-3
		"224.0.0.0/4",        // multicast
		"240.0.0.0/4",        // reserved (class E)
		"255.255.255.255/32", // limited broadcast
	)
	specialV6 = prefixes(
		"::/96",             // unspecified, loopback, IPv4-compatible (deprecated): ::a00:1 is 10.0.0.1
		"::ffff:0:0/96",     // IPv4-mapped (checked as IPv4 before this list)
		"64:ff9b:1::/48",    // local-use IPv4/IPv6 translation (RFC 8215)
		"100::/64",          // discard-only (RFC 6666)
		"100:0:0:1::/64",    // dummy prefix (RFC 9780)
		"2001::/23",         // IETF protocol assignments: Teredo, benchmarking, ORCHID, AMT, AS112, DET
		"2001:db8::/32",     // documentation
		"2002::/16",         // 6to4 (deprecated, RFC 7526): embeds any IPv4 address
		"2620:4f:8000::/48", // direct delegation AS112
		"3fff::/20",         // documentation (RFC 9637)
		"5f00::/16",         // segment routing SIDs (RFC 9602)
		"fc00::/7",          // unique local
		"fe80::/10",         // link local
		"fec0::/10",         // site local (deprecated)
		"ff00::/8",          // multicast
	)
	// nat64 is the well-known NAT64 prefix (RFC 6052): it reaches the IPv4
	// address in its last 32 bits, which is checked instead.
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// isPublic reports whether an address may be crawled by default: a global
// unicast address outside every special-purpose range. An IPv4-mapped or
// NAT64 address is judged by the IPv4 address it reaches.
func isPublic(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	special := specialV4
	if a.Is6() {
		if !globalUnicast.Contains(a) {
			return false // only 2000::/3 is allocated for global unicast
		}
		special = specialV6
	}
	if !a.IsValid() {
		return false
	}
	for _, p := range special {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// guardedDialer checks the address actually connected to, after name resolution,
// so that neither DNS nor a redirect can lead the crawler to an address the
// source does not allow. base is the dialer underneath (nil = net.Dialer).
func guardedDialer(base DialFunc, allowPrivate bool) DialFunc {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = refuseNonPublic
	}
	if base != nil {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !allowPrivate {
				host, _, err := net.SplitHostPort(addr)
				if err == nil {
					if ip, err := netip.ParseAddr(host); err == nil && !isPublic(ip) {
						return nil, ErrPrivateAddress{addr}
					}
				}
			}
			return base(ctx, network, addr)
		}
	}
	return d.DialContext
}

// refuseNonPublic is the dialer's Control: it runs after name resolution and
// before connect, on the address actually dialled.
func refuseNonPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("unparseable address %s: %w", address, err)
	}
	if !isPublic(ap.Addr()) {
		return ErrPrivateAddress{address}
	}
	return nil
}
