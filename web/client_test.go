package web_test

import (
	"net/netip"
	"testing"

	"github.com/propusk/propusk/web"
)

func TestParseClientAddr(t *testing.T) {
	cases := []struct {
		in, want string // want "" is refused
	}{
		{"203.0.113.5", "203.0.113.5"},
		{" 203.0.113.5\t", "203.0.113.5"},
		{"203.0.113.5:8080", "203.0.113.5"},
		{"::ffff:203.0.113.5", "203.0.113.5"},
		{"::ffff:cb00:7105", "203.0.113.5"},
		{"[::ffff:203.0.113.5]:1", "203.0.113.5"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:DB8:0:0::1", "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"fe80::1%eth0", "fe80::1"},
		{"[fe80::1%eth0]:80", "fe80::1"},
		{"", ""},
		{"garbage", ""},
		{"1.2.3", ""},
		{"1.2.3.4:99999", ""},
		{"1.2.3.4:", ""},
		{"[1.2.3.4]", ""},
		{"2001:db8::1:443", "2001:db8::1:443"}, // an address, not one with a port
		{"01.2.3.4", ""},
		{"[]", ""},
		{"1.2.3.4, 5.6.7.8", ""}, // one entry only; the caller splits lists
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			a, ok := web.ParseClientAddr(c.in)
			got := ""
			if ok {
				got = a.String()
			}
			if got != c.want {
				t.Fatalf("ParseClientAddr(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// FuzzParseClientAddr: whatever a header holds, an address comes out in
// one canonical spelling, or none does; and every spelling of an address
// (with a port, bracketed, mapped) comes out as that address.
func FuzzParseClientAddr(f *testing.F) {
	for _, s := range []string{"203.0.113.5", "::ffff:203.0.113.5", "[2001:db8::1]:443", "fe80::1%eth0",
		"1.2.3.4:99999", "[::ffff:1.2.3.4]", "garbage", "", " 10.0.0.1 ", "[fe80::1%25eth0]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := web.ParseClientAddr(s)
		if !ok {
			if a.IsValid() {
				t.Fatalf("%q: refused but returned %v", s, a)
			}
			return
		}
		if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
			t.Fatalf("%q: %v is not canonical", s, a)
		}
		for _, spelling := range []string{a.String(), netip.AddrPortFrom(a, 80).String(), "[" + a.String() + "]",
			netip.AddrFrom16(a.As16()).String()} {
			if spelling == "["+a.String()+"]" && a.Is4() {
				continue // brackets are for IPv6 only
			}
			b, ok := web.ParseClientAddr(spelling)
			if !ok || b != a {
				t.Fatalf("%q gave %v, but its spelling %q gives %v, %v", s, a, spelling, b, ok)
			}
		}
	})
}
