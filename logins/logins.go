// Package logins gives every login one canonical form, its key, so that
// logins a person cannot tell apart name one user: "admin", "Admin", the
// fullwidth "ａｄｍｉｎ" and the NFD and NFC spellings of one name share a key,
// and a login that mixes scripts, such as "аdmin" with a Cyrillic "а", is
// refused.
//
// The key is RFC 8265's UsernameCaseMapped profile (golang.org/x/text's
// precis): width mapping, lower case, NFC, the IdentifierClass and the bidi
// rule, applied to each space-separated word as RFC 8265 §3.5 allows.
// Stores keep it in a column with a unique index; users keep the login as
// typed for display.
package logins

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"github.com/propusk/propusk"
)

// MaxLen is the most characters a login may have, as typed.
const MaxLen = 64

// Canonical returns the key of login: equal for logins that look alike,
// different otherwise. It returns an EINVALID *propusk.Error, whose message
// tells the user what to change, for a login that is empty or longer than
// MaxLen characters, has control or invisible characters, surrounding
// spaces or two spaces in a row, a character RFC 8265 refuses in usernames
// (symbols such as emoji, non-ASCII punctuation), or letters of more than
// one script.
func Canonical(login string) (string, error) {
	n := utf8.RuneCountInString(login)
	if n == 0 || n > MaxLen || !utf8.ValidString(login) || strings.TrimSpace(login) != login ||
		strings.ContainsFunc(login, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) }) {
		return "", propusk.Errorf(propusk.EINVALID, "the login must be 1 to %d characters, without control or invisible characters or surrounding spaces", MaxLen)
	}
	words := strings.Split(login, " ")
	for i, w := range words {
		if w == "" {
			return "", propusk.Errorf(propusk.EINVALID, "the login may not have two spaces in a row")
		}
		k, err := precis.UsernameCaseMapped.CompareKey(w)
		if err != nil {
			return "", propusk.Errorf(propusk.EINVALID, "the login may have letters, digits, ASCII punctuation and single spaces between words, but not symbols such as emoji, other spaces or other punctuation")
		}
		words[i] = k
	}
	key := strings.Join(words, " ")
	if a, b, ok := mixedScripts(key); ok {
		return "", propusk.Errorf(propusk.EINVALID, "the login mixes %s and %s letters, so it could pass for another; use letters of one script", a, b)
	}
	return key, nil
}

// Script mixing follows Unicode TS #39's resolved script sets: each letter
// counts for its script, characters of the Common and Inherited scripts
// (digits, punctuation, combining marks) for any, and a login may mix only
// scripts that one writing system uses together. Han belongs to Japanese,
// Korean and Chinese writing; Hiragana and Katakana to Japanese, Hangul to
// Korean, Bopomofo to Chinese. So "田中たなか" passes and "аdmin" does not.
// Whole-script look-alikes (a login entirely in Cyrillic letters that
// resemble Latin ones) pass: they are one script, and refusing them would
// refuse ordinary Cyrillic logins.
var writingSystems = map[string][]string{
	"Han":      {"Han", "Japanese", "Korean", "Chinese"},
	"Hiragana": {"Japanese"},
	"Katakana": {"Japanese"},
	"Hangul":   {"Korean"},
	"Bopomofo": {"Chinese"},
}

// mixedScripts reports whether s has letters of two scripts that no one
// writing system uses together, and names two of them.
func mixedScripts(s string) (string, string, bool) {
	var (
		first string   // the script of the first letter that has one
		sets  []string // the writing systems every letter so far belongs to
		last  = unicode.Latin
		name  = "Latin"
	)
	for _, r := range s {
		if r < utf8.RuneSelf && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			continue // ASCII digits and punctuation are Common
		}
		if !unicode.Is(last, r) {
			last, name = scriptOf(r)
		}
		if name == "Common" || name == "Inherited" || name == "" {
			continue
		}
		own, ok := writingSystems[name]
		if !ok {
			own = []string{name}
		}
		if first == "" {
			first, sets = name, own
			continue
		}
		sets = slices.DeleteFunc(slices.Clone(sets), func(w string) bool { return !slices.Contains(own, w) })
		if len(sets) == 0 {
			return first, name, true
		}
	}
	return "", "", false
}

// scriptOf returns the script of r and its table; "" when r has none.
func scriptOf(r rune) (*unicode.RangeTable, string) {
	for name, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			return t, name
		}
	}
	return unicode.Common, "Common"
}

// Row is a user's id and login as stored, for Keys.
type Row struct {
	ID    int64
	Login string
}

// Keys returns the key of each row's login, by id, for a store that adds
// keys to rows written before it kept them. When logins share a key, or a
// login has none (it would be refused today), nothing can be filled in
// without deciding which account keeps the name: Keys then returns an
// ECONFLICT *propusk.Error that names every such row, for an operator to
// rename them.
func Keys(rows []Row) (map[int64]string, error) {
	keys := make(map[int64]string, len(rows))
	groups := make(map[string][]Row)
	var bad []string
	for _, r := range rows {
		k, err := Canonical(r.Login)
		if err != nil {
			bad = append(bad, fmt.Sprintf("  not a valid login (%s): %s", propusk.ErrorMessage(err), show(r)))
			continue
		}
		keys[r.ID] = k
		groups[k] = append(groups[k], r)
	}
	var clash [][]Row
	for _, g := range groups {
		if len(g) > 1 {
			slices.SortFunc(g, func(a, b Row) int { return cmp.Compare(a.ID, b.ID) })
			clash = append(clash, g)
		}
	}
	if len(clash) == 0 && len(bad) == 0 {
		return keys, nil
	}
	slices.SortFunc(clash, func(a, b []Row) int { return cmp.Compare(a[0].ID, b[0].ID) })
	var b strings.Builder
	fmt.Fprintf(&b, "these logins must be renamed before each login can have one canonical form; nothing was changed:\n")
	for _, g := range clash {
		shown := make([]string, len(g))
		for i, r := range g {
			shown[i] = show(r)
		}
		fmt.Fprintf(&b, "  one login once canonical (%q): %s\n", keys[g[0].ID], strings.Join(shown, ", "))
	}
	for _, l := range bad {
		b.WriteString(l + "\n")
	}
	b.WriteString("rename all but one login of each group, and each invalid login, then migrate again")
	return nil, &propusk.Error{Code: propusk.ECONFLICT, Message: b.String()}
}

// show writes a row for an operator; a login that is not plain ASCII is
// also shown escaped, since look-alikes are the point.
func show(r Row) string {
	s := fmt.Sprintf("id %d %q", r.ID, r.Login)
	if strings.ContainsFunc(r.Login, func(c rune) bool { return c >= utf8.RuneSelf }) {
		s += fmt.Sprintf(" (%+q)", r.Login)
	}
	return s
}
