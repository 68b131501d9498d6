package auth

import (
	"go/build"
	"strings"
	"testing"
)

// TestSeams: each outside concern stays in the package named for it. Only
// package token speaks JWT (golang-jwt), and the service knows nothing of
// HTTP, so neither can leak into auth by a convenient import.
func TestSeams(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	owners := []struct{ prefix, owner string }{
		{"github.com/golang-jwt/", "token"},
		{"net/http", "web"},
	}
	for _, imp := range pkg.Imports {
		for _, o := range owners {
			if strings.HasPrefix(imp, o.prefix) {
				t.Errorf("auth imports %s: that belongs to package %s", imp, o.owner)
			}
		}
	}
}
