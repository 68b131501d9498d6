package mysql

import (
	"fmt"
	"testing"

	"github.com/propusk/propusk"
)

// BenchmarkPoll is the cost of one poll of the feed when nothing happened,
// which every process pays auth.Config.PollInterval apart: a primary-key range read, past
// the last of 200 entries, that returns no row.
func BenchmarkPoll(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	for i := range 200 {
		if err := s.AddKeys(ctx, &propusk.Key{ID: fmt.Sprint("k", i), Use: propusk.KeyUseAccess}); err != nil {
			b.Fatal(err)
		}
	}
	last, err := s.LastEvent(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		evs, err := s.Events(ctx, last, 100)
		if err != nil || len(evs) != 0 {
			b.Fatal(evs, err)
		}
	}
}
