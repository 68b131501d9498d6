package web

import (
	"errors"
	"net/netip"
	"strings"
	"time"
)

// errNoPort says that an address is not spelt with a port.
var errNoPort = errors.New("no port")

// ParseClientAddr reads a client address as a proxy header or a peer
// address spells it: "a.b.c.d", an IPv6 address, either with a port
// ("a.b.c.d:port", "[v6]:port"), or a bracketed IPv6 address, with
// surrounding spaces. It returns the address in one canonical spelling: an
// IPv4 address mapped into IPv6 ("::ffff:a.b.c.d") is the IPv4 address, and
// a zone is dropped. So each address has one spelling in the sessions list
// and one budget of attempts.
func ParseClientAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	// The parse of an address with a port first when the spelling has one
	// (one colon, or "]:"), as every RemoteAddr does: no string is both an
	// address and an address with a port, so the order changes no answer,
	// and the other order would make, and drop, an error per request.
	var a netip.Addr
	var err error = errNoPort
	if strings.Contains(s, "]:") || strings.Count(s, ":") == 1 {
		var ap netip.AddrPort
		if ap, err = netip.ParseAddrPort(s); err == nil {
			a = ap.Addr()
		}
	}
	if err != nil {
		if a, err = netip.ParseAddr(s); err != nil && len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err == nil && !a.Is6() {
				err = errors.New("brackets around an IPv4 address")
			}
		}
	}
	if err != nil || !a.IsValid() {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// clientAddr returns the client's address: from the trusted proxy's header
// when one is configured and it parses, else the peer's. The header's last
// entry is the one the trusted proxy added; earlier ones of an
// X-Forwarded-For chain are whatever the client claimed. A header that does
// not parse means a misconfigured proxy (or a path around it): the peer
// address is used and the fact logged, at a bounded rate.
func (s *Server) clientAddr(header, remote string) string {
	if s.cfg.ClientIPHeader != "" {
		last := header[strings.LastIndexByte(header, ',')+1:]
		if a, ok := ParseClientAddr(last); ok {
			return a.String()
		}
		s.noteBadAddr(s.cfg.ClientIPHeader, header)
	}
	if a, ok := ParseClientAddr(remote); ok {
		return a.String()
	}
	return ""
}

// badAddrEvery is how often an unreadable client address header is logged:
// a proxy that sends none would otherwise log once per request.
const badAddrEvery = time.Minute

// noteBadAddr logs, at a bounded rate, that the client address header
// named holds no address.
func (s *Server) noteBadAddr(name, value string) {
	ok, suppressed := s.badAddr.admit(name)
	if !ok {
		return
	}
	if len(value) > 64 {
		value = value[:64] + "…"
	}
	s.log.Warn("client address header does not hold an address; using the peer address",
		"header", name, "value", value, "suppressed", suppressed)
}
