package main

import "strings"

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var l []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			l = append(l, v)
		}
	}
	return l
}
