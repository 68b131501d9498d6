package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
)

// The user administration commands: what an administrator does through
// /api/v1/admin/users, done by the operator on the command line. The
// operator is the service's nil actor: no level is above them, but the last
// enabled administrator still cannot be demoted, disabled or deleted, since
// the store keeps that rule in the write's transaction.

// adminCommands are the user administration commands, after "user".
var adminCommands = []string{"user list", "user show", "user set", "user disable", "user enable", "user delete", "user passwd"}

// commandLineOnly are the flags no PROPUSK_* variable sets: a confirmation
// left in the environment would confirm every later command.
var commandLineOnly = map[string]bool{"yes": true}

// userAdmin holds the flags of the user administration commands.
type userAdmin struct {
	id            int64
	login         string // user list: a part of the login; else the user's login
	limit         int
	level         optionalInt
	boards        optionalString
	yes           bool
	passwordStdin bool
	page          int // users user list reads at a time; 0 is MaxUsersPage
}

// optionalInt is an int flag that knows whether it was given.
type optionalInt struct {
	v   int
	set bool
}

func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optionalInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number: use e.g. 10 (user) or 30 (administrator)", s)
	}
	o.v, o.set = n, true
	return nil
}

// optionalString is a string flag that knows whether it was given.
type optionalString struct {
	v   string
	set bool
}

func (o *optionalString) String() string {
	if o == nil {
		return ""
	}
	return o.v
}

func (o *optionalString) Set(s string) error { o.v, o.set = s, true; return nil }

// userAdminFlags declares the flags of an administration command on fs,
// and reports whether cmd is one.
func (m *Main) userAdminFlags(fs *flag.FlagSet, cmd string) bool {
	a := &m.admin
	switch cmd {
	case "user list":
		fs.StringVar(&a.login, "login", "", "only users whose login contains this, case-insensitively")
		fs.IntVar(&a.limit, "limit", 0, "at most this many users; 0 every one")
		return true
	case "user show", "user set", "user disable", "user enable", "user delete", "user passwd":
		fs.Int64Var(&a.id, "id", 0, "id of the user (or give --login)")
		fs.StringVar(&a.login, "login", "", "login of the user (or give --id)")
	default:
		return false
	}
	switch cmd {
	case "user set":
		fs.Var(&a.level, "level", "new level: 10 user, 30 administrator")
		fs.Var(&a.boards, "boards", "new comma-separated boards; * is every board")
	case "user delete":
		fs.BoolVar(&a.yes, "yes", false, "confirm: the user, their sessions and tokens are deleted for good (never read from PROPUSK_YES)")
	case "user passwd":
		fs.BoolVar(&a.passwordStdin, "password-stdin", false, "read the new password from standard input")
	}
	return true
}

// validateUserAdmin checks an administration command's flags before
// anything is opened.
func (m *Main) validateUserAdmin() error {
	if err := m.validateTarget(); err != nil {
		return err
	}
	// Unlike serve, these commands act on users that must exist: a
	// mistyped SQLite path would otherwise be created empty, and answer
	// "no such user" or an empty list.
	path, ok := strings.CutPrefix(m.db, "sqlite:")
	if !ok && strings.Contains(m.db, "://") {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: the database %s does not exist: give the one the servers use with --db or PROPUSK_DB", m.cmd, m.db)
	}
	return nil
}

// validateTarget checks the flags that name users and what to change.
func (m *Main) validateTarget() error {
	a := &m.admin
	if m.cmd == "user list" {
		if a.limit < 0 {
			return fmt.Errorf("--limit must be 0 (every user) or more, e.g. 50, not %d", a.limit)
		}
		return nil
	}
	switch {
	case a.id < 0:
		return fmt.Errorf("--id must be a user's id, e.g. 7, not %d (propusk user list shows them)", a.id)
	case a.id == 0 && a.login == "":
		return fmt.Errorf("%s: name the user with --id N or --login L (propusk user list shows them)", m.cmd)
	case a.id != 0 && a.login != "":
		return fmt.Errorf("%s: give --id or --login, not both", m.cmd)
	}
	switch m.cmd {
	case "user set":
		if !a.level.set && !a.boards.set {
			return errors.New("user set: nothing to change: give --level N, --boards a,b or both (propusk user disable and enable change the state)")
		}
		if a.level.set && (a.level.v < propusk.LevelAnonymous || a.level.v > 1000) {
			return fmt.Errorf("--level must be from %d to 1000, e.g. %d (user) or %d (administrator), not %d",
				propusk.LevelAnonymous, propusk.LevelUser, propusk.LevelAdmin, a.level.v)
		}
		if a.boards.set && len(splitList(a.boards.v)) == 0 {
			return errors.New(`--boards must name at least one board, e.g. --boards a,b, or "*" for every board`)
		}
	case "user passwd":
		if !a.passwordStdin {
			return errors.New("user passwd: give the new password on standard input with --password-stdin (never as a flag)")
		}
	}
	return nil
}

// cliUser is a user as the administration commands print it: the fields,
// names and formats of the API's user (docs/API.md), never the password
// hash nor the sealed api-token.
type cliUser struct {
	ID         int64      `json:"id"`
	Login      string     `json:"login"`
	Level      int        `json:"level"`
	Boards     []string   `json:"boards"`
	Disabled   bool       `json:"disabled"`
	DisabledAt *time.Time `json:"disabledAt"`
	CreatedAt  time.Time  `json:"created"`
	UpdatedAt  time.Time  `json:"updated"`
}

// printUser writes u to standard output as one line of JSON.
func (m *Main) printUser(u *propusk.User) error {
	c := cliUser{
		ID: u.ID, Login: u.Login, Level: u.Level, Boards: u.Boards, Disabled: u.Disabled(),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
	if c.Boards == nil {
		c.Boards = []string{}
	}
	if u.Disabled() {
		t := u.DisabledAt.UTC()
		c.DisabledAt = &t
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.stdout, "%s\n", b)
	return err
}

// administer runs a user administration command as the operator.
func (m *Main) administer(ctx context.Context) error {
	if m.cmd == "user list" {
		return m.listUsers(ctx)
	}
	u, err := m.target(ctx)
	if err != nil {
		return m.adminError(err)
	}
	a := &m.admin
	switch m.cmd {
	case "user show":
		return m.printUser(u)
	case "user set", "user disable", "user enable":
		var ch propusk.UserChange
		switch m.cmd {
		case "user set":
			if a.level.set {
				ch.Level = &a.level.v
			}
			if a.boards.set {
				ch.Boards = splitList(a.boards.v)
			}
		case "user disable":
			ch.Disabled = new(true)
		case "user enable":
			ch.Disabled = new(false)
		}
		if u, err = m.svc.UpdateUser(ctx, nil, u.ID, ch); err != nil {
			return m.adminError(err)
		}
		m.log.Info("changed user", "command", m.cmd, "id", u.ID, "login", u.Login, "level", u.Level,
			"boards", strings.Join(u.Boards, ","), "disabled", u.Disabled())
		return m.printUser(u)
	case "user delete":
		if !a.yes {
			return fmt.Errorf("user delete: this deletes user %d %q (level %d) with their sessions and tokens, and cannot be undone: run it again with --yes (or disable the user instead: propusk user disable --id %d)",
				u.ID, u.Login, u.Level, u.ID)
		}
		if err := m.svc.DeleteUser(ctx, nil, u.ID); err != nil {
			return m.adminError(err)
		}
		m.log.Info("deleted user; their sessions and tokens are refused on every server", "id", u.ID, "login", u.Login)
		return nil
	case "user passwd":
		line, err := bufio.NewReader(m.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("user passwd: read password: %w", err)
		}
		if err := m.svc.SetUserPassword(ctx, nil, u.ID, strings.TrimRight(line, "\r\n")); err != nil {
			return m.adminError(err)
		}
		m.log.Info("set the password; every session of the user is ended", "id", u.ID, "login", u.Login)
		return nil
	}
	return fmt.Errorf("unknown command %q", m.cmd)
}

// listUsers prints the users --login selects, one JSON line each, in id
// order, page by page.
func (m *Main) listUsers(ctx context.Context) error {
	q := propusk.UserQuery{Login: m.admin.login}
	left := m.admin.limit
	page := m.admin.page
	if page <= 0 {
		page = auth.MaxUsersPage
	}
	for {
		q.Limit = page
		if left > 0 && left < q.Limit {
			q.Limit = left
		}
		us, err := m.svc.Users(ctx, q)
		if err != nil {
			return m.adminError(err)
		}
		for _, u := range us {
			if err := m.printUser(u); err != nil {
				return err
			}
		}
		if m.admin.limit > 0 {
			if left -= len(us); left <= 0 {
				return nil
			}
		}
		if len(us) < q.Limit {
			return nil
		}
		q.After = us[len(us)-1].ID
	}
}

// target reads the user --id or --login names.
func (m *Main) target(ctx context.Context) (*propusk.User, error) {
	if m.admin.id != 0 {
		return m.svc.User(ctx, m.admin.id)
	}
	return m.store.UserByLogin(ctx, m.admin.login)
}

// adminError says what went wrong in the operator's terms, and what to do.
func (m *Main) adminError(err error) error {
	var e *propusk.Error
	if !errors.As(err, &e) || e.Code == propusk.EINTERNAL || e.Code == propusk.EUNAVAILABLE {
		return fmt.Errorf("%s: %w", m.cmd, err)
	}
	switch e.Code {
	case propusk.ENOTFOUND:
		who := fmt.Sprintf("with id %d", m.admin.id)
		if m.admin.id == 0 {
			who = fmt.Sprintf("with login %q", m.admin.login)
		}
		return fmt.Errorf("%s: no user %s (propusk user list shows them)", m.cmd, who)
	case propusk.ECONFLICT:
		return fmt.Errorf("%s: %s: nothing changed; first make another user an administrator (propusk user set --id N --level %d)",
			m.cmd, e.Message, propusk.LevelAdmin)
	}
	return fmt.Errorf("%s: %s", m.cmd, e.Message)
}
