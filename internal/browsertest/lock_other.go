//go:build !unix

package browsertest

// lockFile does not lock where flock(2) is missing: parallel test packages
// may then both run `npm ci`; run it by hand first on such systems.
func lockFile(path string) (unlock func(), err error) {
	return func() {}, nil
}
