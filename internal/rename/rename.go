// Package rename maps the table names of SQL statements, so that one copy
// of a store's SQL, written with its own table names, serves a schema whose
// tables are named otherwise: in Laravel mode propusk's tables carry the
// prefix "propusk_", and the app's users table is read through a join.
//
// A Renamer rewrites identifiers, the bare words of SQL, and nothing else:
// string literals, quoted identifiers ("users", `users`), comments and
// placeholders ($1, ?) pass unchanged, as does a name after a dot (a
// column qualified by its table, s.user_id). Quoting is how a statement
// names a table as it is, past the map. Rewrites are cached, so a
// statement is scanned once.
package rename

import (
	"strings"
	"sync"
)

// Renamer rewrites statements by a fixed map of table names. It is safe
// for concurrent use.
type Renamer struct {
	names map[string]string // lower-case name → the name that replaces it
	views map[string]string // lower-case name → a subquery that replaces it
	cache sync.Map          // statement → rewritten statement
	size  int               // entries in cache, approximately
	mu    sync.Mutex
}

// maxCached bounds the cache: statements are the store's own, but a few are
// built with a variable number of placeholders.
const maxCached = 4096

// New returns a Renamer that replaces each key of names by its value, and
// each key of views by its value in parentheses: a subquery that reads
// what the table would hold. A subquery takes the table's name as its
// alias unless the statement gives it one. Keys are matched without regard
// to case, as SQL matches bare words.
func New(names, views map[string]string) *Renamer {
	r := &Renamer{names: map[string]string{}, views: map[string]string{}}
	for k, v := range names {
		r.names[strings.ToLower(k)] = v
	}
	for k, v := range views {
		r.views[strings.ToLower(k)] = v
	}
	return r
}

// SQL returns q with its table names mapped. A nil Renamer returns q.
func (r *Renamer) SQL(q string) string {
	if r == nil {
		return q
	}
	if v, ok := r.cache.Load(q); ok {
		return v.(string)
	}
	out := r.rewrite(q)
	r.mu.Lock()
	if r.size < maxCached {
		r.size++
		r.cache.Store(q, out)
	}
	r.mu.Unlock()
	return out
}

// notAlias are the words that may follow a table name and are not its
// alias: after them, a subquery needs one.
var notAlias = map[string]bool{
	"where": true, "order": true, "group": true, "limit": true, "offset": true,
	"join": true, "left": true, "right": true, "inner": true, "outer": true, "cross": true,
	"full": true, "natural": true, "on": true, "using": true, "union": true, "except": true,
	"intersect": true, "for": true, "having": true, "window": true, "returning": true,
	"set": true, "lock": true,
}

func (r *Renamer) rewrite(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 64)
	prevDot := false
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := closing(q, i+1, c)
			b.WriteString(q[i:j])
			i, prevDot = j, false
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				j = len(q) - i - 2
			} else {
				j += 2
			}
			b.WriteString(q[i : i+2+j])
			i += 2 + j
		case c == '$' || c >= '0' && c <= '9':
			// A placeholder or a number: digits that are no identifier.
			j := i + 1
			for j < len(q) && (isWord(q[j])) {
				j++
			}
			b.WriteString(q[i:j])
			i, prevDot = j, false
		case isStart(c):
			j := i + 1
			for j < len(q) && isWord(q[j]) {
				j++
			}
			word := q[i:j]
			low := strings.ToLower(word)
			switch {
			case prevDot:
				// A column qualified by its table or alias (s.user_id).
				b.WriteString(word)
			case j < len(q) && q[j] == '.':
				// A table or alias that qualifies a column: a renamed
				// table keeps its new name there too; a subquery keeps
				// the alias it was given.
				if n := r.names[low]; n != "" {
					word = n
				}
				b.WriteString(word)
			case r.names[low] != "":
				b.WriteString(r.names[low])
			case r.views[low] != "":
				b.WriteString("(")
				b.WriteString(r.views[low])
				b.WriteString(")")
				if next := nextWord(q, j); next == "" || notAlias[next] {
					b.WriteString(" AS ")
					b.WriteString(word)
				}
			default:
				b.WriteString(word)
			}
			i, prevDot = j, false
		default:
			b.WriteByte(c)
			if c == '.' {
				prevDot = true
			} else if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				prevDot = false
			}
			i++
		}
	}
	return b.String()
}

// closing returns the index just past the quote that closes the one
// before i; a doubled quote is part of the text.
func closing(q string, i int, quote byte) int {
	for i < len(q) {
		if q[i] == '\\' && quote == '\'' && i+1 < len(q) {
			// MySQL's backslash escapes; harmless elsewhere, where the
			// store's SQL has no backslash in a literal.
			i += 2
			continue
		}
		if q[i] == quote {
			if i+1 < len(q) && q[i+1] == quote {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(q)
}

// nextWord returns, in lower case, the word that follows position i after
// white space, or "" if something else follows.
func nextWord(q string, i int) string {
	for i < len(q) && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r') {
		i++
	}
	j := i
	for j < len(q) && isWord(q[j]) {
		j++
	}
	if j == i || !isStart(q[i]) {
		return ""
	}
	return strings.ToLower(q[i:j])
}

func isStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isWord(c byte) bool { return isStart(c) || c >= '0' && c <= '9' || c == '$' }
