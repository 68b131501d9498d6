package pat

// Parse is Split followed by ChecksumOK: what the tests check a token
// against, in one call.
func Parse(token, prefix string) (id int64, secret string, err error) {
	if id, secret, err = Split(token, prefix); err != nil {
		return 0, "", err
	}
	if !ChecksumOK(secret, prefix) {
		return 0, "", ErrMalformed
	}
	return id, secret, nil
}
