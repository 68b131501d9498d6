package token

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// checkClaims: decodeClaims decodes b into a fresh *AccessClaims and a
// fresh *RefreshClaims exactly as json.Unmarshal does, error or not, and
// reports whether the hand-written reader took it.
func checkClaims(t *testing.T, b []byte) (fast bool) {
	t.Helper()
	for _, mk := range []func() any{func() any { return new(AccessClaims) }, func() any { return new(RefreshClaims) }} {
		got, want := mk(), mk()
		gotErr, wantErr := decodeClaims(b, got), json.Unmarshal(b, want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s into %T: error %v, json.Unmarshal's %v", b, got, gotErr, wantErr)
			continue
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s into %T:\n got %+v\nwant %+v", b, got, got, want)
		}
		switch c := mk().(type) {
		case *AccessClaims:
			fast = fast || readAccessClaims(b, c)
		case *RefreshClaims:
			fast = fast || readRefreshClaims(b, c)
		}
	}
	return fast
}

func TestDecodeClaimsIsUnmarshal(t *testing.T) {
	exp := NewNumericDate(time.Unix(1798533114, 0))
	spelled := [][]byte{
		appendAccessClaims(nil, &AccessClaims{Issuer: "propusk", Subject: "1", ExpiresAt: exp, IssuedAt: exp, ID: "jti-_1", SessionID: "sid", UserID: 1, Level: 10, Boards: []string{"*"}}),
		appendAccessClaims(nil, &AccessClaims{Issuer: "propusk", ExpiresAt: exp, IssuedAt: exp, NotBefore: exp, ID: "j", SessionID: "s", Level: -3, Boards: []string{}}),
		appendAccessClaims(nil, &AccessClaims{Issuer: "p", ExpiresAt: exp, IssuedAt: exp, ID: "j", SessionID: "s", Boards: nil}),
		appendRefreshClaims(nil, &RefreshClaims{ExpiresAt: exp, ID: "j", SessionID: "s", Type: RefreshType, UserID: 7, Fork: "f", Generation: 12}),
		appendRefreshClaims(nil, &RefreshClaims{ExpiresAt: exp, IssuedAt: exp, NotBefore: exp, ID: "j", SessionID: "s", Type: RefreshType}),
	}
	for _, b := range spelled {
		if !checkClaims(t, b) {
			t.Errorf("propusk's own spelling %s went to json.Unmarshal", b)
		}
	}
	for _, s := range []string{
		`{}`, `{"iss":"a","ISS":"b"}`, `{"Iss":"a"}`, `{"iss":"a","iss":"b"}`, `{"iss":"a\u0062"}`, `{"iss":"é"}`,
		`{"exp":1.5}`, `{"exp":1e9}`, `{"exp":-1}`, `{"exp":01}`, `{"exp":null}`, `{"exp":"1"}`, `{"exp":9999999999999}`,
		`{"level":-0}`, `{"level":007}`, `{"level":1.0}`, `{"_id":99999999999999999999}`, `{"_id":-9223372036854775808}`,
		`{"boards":null}`, `{"boards":[]}`, `{"boards":["a",1]}`, `{"boards":["a","b"]}`, `{"boards":[null]}`,
		`{"typ":"refresh","gen":3,"extra":true}`, `{ "jti":"a"}`, `{"jti":"a"} `, `{"jti":"a"}x`, `null`, `[]`, `{"jti":"a",}`,
	} {
		checkClaims(t, []byte(s))
	}
}

func FuzzDecodeClaims(f *testing.F) {
	exp := NewNumericDate(time.Unix(1798533114, 0))
	f.Add(appendAccessClaims(nil, &AccessClaims{Issuer: "propusk", Subject: "1", ExpiresAt: exp, IssuedAt: exp, ID: "j", SessionID: "s", UserID: 1, Level: 10, Boards: []string{"*", "b"}}))
	f.Add(appendRefreshClaims(nil, &RefreshClaims{ExpiresAt: exp, ID: "j", SessionID: "s", Type: RefreshType, UserID: 7, Fork: "f", Generation: 12}))
	f.Add([]byte(`{"level":-0,"boards":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkClaims(t, b)
	})
}
