package auth

// PATReadEvery is patReadEvery, for the tests of package auth_test that
// bound a flood's reads by the pacing.
const PATReadEvery = patReadEvery
