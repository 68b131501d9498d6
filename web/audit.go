package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/propusk/propusk"
)

// auditActor is who made an audited change.
type auditActor struct {
	ID   int64  `json:"id"`   // 0: anonymous, the operator or the server
	PAT  int64  `json:"pat"`  // the personal access token they acted through; 0 if none
	Auth string `json:"auth"` // password, access, pat, operator or system
}

// auditBody is one audit log entry as the API answers it.
type auditBody struct {
	ID        int64      `json:"id"`
	At        time.Time  `json:"at"`
	Kind      string     `json:"kind"`
	Actor     auditActor `json:"actor"`
	User      int64      `json:"user"`
	Session   string     `json:"session"`
	Token     int64      `json:"token"`
	IP        string     `json:"ip"`
	UserAgent string     `json:"userAgent"`
	Outcome   string     `json:"outcome"`
	Detail    string     `json:"detail"`
}

// auditPage is a page of the audit log, newest first; Next is the cursor
// of the next (older) page, "" on the last.
type auditPage struct {
	Entries []auditBody `json:"entries"`
	Next    string      `json:"next"`
}

func toAuditBody(e *propusk.AuditEntry) auditBody {
	return auditBody{
		ID: e.ID, At: e.At.UTC(), Kind: e.Kind, Actor: auditActor{ID: e.ActorID, PAT: e.ActorPAT, Auth: e.ActorAuth},
		User: e.UserID, Session: e.Session, Token: e.TokenID, IP: e.IP, UserAgent: e.UserAgent, Outcome: e.Outcome, Detail: e.Detail,
	}
}

// auditQuery reads the filters and the cursor both audit routes take:
// kind, since and until (RFC 3339), cursor and limit (1 to 500, default 50).
func auditQuery(r *http.Request) (propusk.AuditQuery, error) {
	v := r.URL.Query()
	q := propusk.AuditQuery{Kind: v.Get("kind"), Limit: 50}
	if len(q.Kind) > 64 {
		return q, propusk.Errorf(propusk.EINVALID, "the event kind is too long")
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(f.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, propusk.Errorf(propusk.EINVALID, "%s must be an RFC 3339 time, such as 2025-03-01T12:00:00Z", f.name)
			}
			*f.to = t
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return q, propusk.Errorf(propusk.EINVALID, "limit must be 1 to 500")
		}
		q.Limit = n
	}
	if s := v.Get("cursor"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return q, propusk.Errorf(propusk.EINVALID, "the cursor is malformed")
		}
		q.Before = n
	}
	return q, nil
}

// auditAnswer reads a page of q, one more than asked to tell whether
// there is a next page, and answers it; hide blanks what the caller may
// not see of an entry.
func (s *Server) auditAnswer(w http.ResponseWriter, r *http.Request, q propusk.AuditQuery, hide func(*auditBody)) error {
	limit := q.Limit
	q.Limit++
	es, err := s.svc.Audit(r.Context(), q)
	if err != nil {
		return err
	}
	page := auditPage{Entries: []auditBody{}}
	if len(es) > limit {
		es = es[:limit]
		page.Next = strconv.FormatInt(es[limit-1].ID, 10)
	}
	for _, e := range es {
		b := toAuditBody(e)
		if hide != nil {
			hide(&b)
		}
		page.Entries = append(page.Entries, b)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// adminAudit answers GET /api/v1/admin/audit: the whole log, filtered by
// user (as subject or actor) too.
func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	if v := r.URL.Query().Get("user"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return propusk.Errorf(propusk.EINVALID, "user must be a user id")
		}
		q.UserID = n
	}
	return s.auditAnswer(w, r, q, nil)
}

// userAudit answers GET /api/v1/user.audit: the events of the caller's
// own account. Of a change another user made (an administrator), the
// caller sees what and when, not that user's address and user agent.
func (s *Server) userAudit(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	q.UserID = p.UserID
	return s.auditAnswer(w, r, q, func(b *auditBody) {
		if b.Actor.ID != 0 && b.Actor.ID != p.UserID {
			b.IP, b.UserAgent = "", ""
		}
	})
}
