package web

import "testing"

// redactCorpus is queries of every shape RedactQuery meets.
var redactCorpus = []string{
	"level=10", "refreshToken=eyJh.eyJ.sig&redirect=%2Faccount", "b=1&a=2&b=3", "a", "a&&b=", "=x", "a=1;b=2",
	"a=%zz", "a=%4", "a=%41", "%61=1", "a+b=1", "k=v+w", "x=" + string([]byte{0xff}), "level=10&board=a&ability=posts%3Awrite",
	"very_long_name_that_is_more_than_thirty_two_bytes=1", "a.b-c_d=1", "eyJhbGciOiJFZERTQSJ9", "&", "=", "a=1&a=2&a=3&a=4&a=5&a=6&a=7&a=8&a=9",
}

// TestRedactPlainMatchesParsed: the fast redaction answers every query it
// takes exactly as the parsing one does.
func TestRedactPlainMatchesParsed(t *testing.T) {
	for _, q := range redactCorpus {
		if got, ok := redactPlain(q); ok && got != redactParsed(q) {
			t.Errorf("%q: fast %q, parsed %q", q, got, redactParsed(q))
		}
	}
}

func FuzzRedactQuery(f *testing.F) {
	for _, q := range redactCorpus {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if got, ok := redactPlain(q); ok && got != redactParsed(q) {
			t.Fatalf("%q: fast %q, parsed %q", q, got, redactParsed(q))
		}
	})
}
