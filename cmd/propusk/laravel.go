package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // --laravel-timezone works where the system has no zone files (scratch, distroless)

	"github.com/propusk/propusk"
)

// laravelFlags are the flags of Laravel mode: --laravel turns it on, and
// the --laravel-* flags describe the Laravel application whose database
// propusk then shares (import laravel reads its source with them).
type laravelFlags struct {
	on            bool
	loginColumn   setString
	timezone      setString
	tokenableType setString
	hash          setString

	// settings is what the flags describe, built by parse; nil outside
	// Laravel mode.
	settings *propusk.Laravel
}

// setString is a string flag with a default that knows whether it was
// given, on the command line or by its PROPUSK_* variable.
type setString struct {
	v   string
	set bool
}

func (s *setString) String() string {
	if s == nil {
		return ""
	}
	return s.v
}

func (s *setString) Set(v string) error { s.v, s.set = v, true; return nil }

// declare adds the flags to fs; withSwitch adds --laravel itself, which
// import laravel does without: its source is always a Laravel database.
func (l *laravelFlags) declare(fs *flag.FlagSet, withSwitch bool) {
	if withSwitch {
		fs.BoolVar(&l.on, "laravel", false, "Laravel mode: use the Laravel app's users and personal_access_tokens tables in --db, beside the running app (propusk's own tables are prefixed propusk_)")
	}
	l.loginColumn.v = propusk.DefaultLaravelLoginColumn
	l.timezone.v = "UTC"
	l.tokenableType.v = propusk.DefaultLaravelTokenableType
	l.hash.v = propusk.HashBcrypt
	fs.Var(&l.loginColumn, "laravel-login-column", "Laravel mode: the users column that holds the login")
	fs.Var(&l.timezone, "laravel-timezone", "Laravel mode: the app's app.timezone (an IANA name such as Europe/Moscow), the zone of every time the app stores")
	fs.Var(&l.tokenableType, "laravel-tokenable-type", "Laravel mode: tokenable_type of the users' tokens: the user model's class (App\\User in older apps) or its morph-map alias")
	fs.Var(&l.hash, "laravel-hash", "Laravel mode: the app's hashing.driver, which every password hash propusk writes uses: bcrypt or argon2id")
}

// parse builds the settings, the one place where the flags become a
// propusk.Laravel. always is true for import laravel, whose source is
// Laravel's without --laravel.
func (l *laravelFlags) parse(always bool) error {
	if !l.on && !always {
		var given []string
		for name, f := range map[string]*setString{
			"--laravel-login-column": &l.loginColumn, "--laravel-timezone": &l.timezone,
			"--laravel-tokenable-type": &l.tokenableType, "--laravel-hash": &l.hash,
		} {
			if f.set {
				given = append(given, name)
			}
		}
		if len(given) > 0 {
			slices.Sort(given)
			return fmt.Errorf("%s only apply in Laravel mode: add --laravel (or PROPUSK_LARAVEL=true), or drop them", strings.Join(given, ", "))
		}
		return nil
	}
	loc, err := loadZone(l.timezone.v)
	if err != nil {
		return err
	}
	s := propusk.Laravel{
		LoginColumn: l.loginColumn.v, Location: loc,
		TokenableType: l.tokenableType.v, Hash: l.hash.v,
	}.WithDefaults()
	if s.TokenableType == "" || strings.ContainsFunc(s.TokenableType, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errors.New(`--laravel-tokenable-type must name the user model, e.g. App\Models\User, App\User or a morph-map alias such as user`)
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%s (--laravel-login-column, e.g. email; --laravel-hash bcrypt or argon2id)", propusk.ErrorMessage(err))
	}
	l.settings = &s
	return nil
}

// loadZone reads --laravel-timezone. "Local" is refused: it would be this
// machine's zone, not the app's, and differ between machines.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("--laravel-timezone must be the app's app.timezone, an IANA name such as UTC or Europe/Moscow, not %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("--laravel-timezone %q is not a time zone: give the app's app.timezone, an IANA name such as UTC or Europe/Moscow", name)
	}
	return loc, nil
}
