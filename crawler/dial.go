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

// isPublic reports whether an address may be crawled by default.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	return !(a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(a) || netip.MustParsePrefix("fc00::/7").Contains(a))
}

// guardedDialer checks the address actually connected to, after name resolution,
// so that neither DNS nor a redirect can lead the crawler to an address the
// source does not allow. base is the dialer underneath (nil = net.Dialer).
func guardedDialer(base DialFunc, allowPrivate bool) DialFunc {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("unparseable address %s: %w", address, err)
			}
			if !isPublic(ap.Addr()) {
				return ErrPrivateAddress{address}
			}
			return nil
		}
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
