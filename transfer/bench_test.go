package transfer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/transfer"
)

// BenchmarkImport measures a first import of 2,000 users with a token
// each, from SQLite into each engine, in batches of 500: rows/s is users
// and tokens written per second.
func BenchmarkImport(b *testing.B) {
	const n = 2000
	ctx := context.Background()
	for _, to := range engines {
		b.Run("sqlite-to-"+to.name, func(b *testing.B) {
			src := engines[0].open(b)
			var us []propusk.UserImport
			var ts []propusk.TokenImport
			for i := int64(1); i <= n; i++ {
				us = append(us, propusk.UserImport{New: &propusk.User{ID: i, Login: fmt.Sprintf("user%d@example.com", i),
					PasswordHash: "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", CreatedAt: t0, UpdatedAt: t0}})
				ts = append(ts, propusk.TokenImport{New: &propusk.PersonalAccessToken{ID: i, TokenableType: laravelUser, TokenableID: i,
					Name: "api-token", Hash: hashOf(fmt.Sprint(i)), CreatedAt: t0, UpdatedAt: t0}})
			}
			if err := src.ImportUsers(ctx, us); err != nil {
				b.Fatal(err)
			}
			if err := src.ImportTokens(ctx, ts); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				dst := to.open(b)
				b.StartTimer()
				rep, err := transfer.Run(ctx, transfer.Config{From: normalSource{src}, To: dst, FromTokenableType: laravelUser, Now: time.Now})
				if err != nil || rep.Users.New != n || rep.Tokens.New != n {
					b.Fatalf("%v %+v %+v", err, rep.Users, rep.Tokens)
				}
			}
			b.ReportMetric(float64(2*n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
