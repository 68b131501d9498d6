package main

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/web"
)

// refused answers a browser's post that propusk's middleware refused
// (the board is closed to the caller, or the form is stale) with the board
// or thread it was posted on, the text kept in the form and the reason in
// place; an anonymous visitor is told to log in to post there. It reports
// false for a request that is no post on a board, answered as before.
func (b *Board) refused(w http.ResponseWriter, r *http.Request, err error) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) > 2 || (len(parts) == 2 && parts[1] == "posts") {
		return false
	}
	board, title := "", ""
	for _, bd := range boards {
		if bd.Name == parts[0] {
			board, title = bd.Name, bd.Title
		}
	}
	if board == "" {
		return false
	}
	v := view{Board: board, Title: title, Error: propusk.ErrorMessage(err)}
	if len(parts) == 2 {
		v.Thread, _ = strconv.Atoi(parts[1])
	}
	v.Threads = b.threads(board, v.Thread)
	if r.PostForm == nil && r.Body != nil {
		// Refused before the CSRF check read the form.
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		r.ParseForm()
	}
	v.Text = r.PostFormValue("text")
	switch {
	case propusk.ErrorCode(err) == propusk.ECSRF:
		v.Error = "This page expired: you signed in or out in another tab, or it was open too long. Your text is kept below: please send it again."
	case propusk.FromContext(r.Context()).Anonymous() && !isOpen(board):
		v.Error = "Log in to post on /" + board + "/ (" + v.Error + "). Your text is kept below."
	default:
		v.Error += ". Your text is kept below."
	}
	b.render(w, r, web.Status(err), v)
	return true
}

// maxForm is the most of a refused post's form that is read back.
const maxForm = 64 << 10

// isOpen reports whether anyone may post on board.
func isOpen(board string) bool {
	for _, bd := range boards {
		if bd.Name == board {
			return bd.Open
		}
	}
	return false
}
