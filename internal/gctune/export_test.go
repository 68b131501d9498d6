package gctune

// ForWordSize exposes forWordSize to the tests.
var ForWordSize = forWordSize
