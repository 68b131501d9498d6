package propusk

import (
	"fmt"
	"time"
)

// Laravel describes the Laravel application whose database propusk shares
// in Laravel mode: propusk then keeps users in the app's users table and
// tokens in Sanctum's personal_access_tokens, exactly as the app does, and
// everything of its own in tables prefixed "propusk_". A store opened
// without a Laravel (the zero value is never used as one) is in its own
// schema.
type Laravel struct {
	// LoginColumn is the users column that holds the login; "email" in a
	// stock app.
	LoginColumn string
	// Location is the app's app.timezone: Laravel writes and reads every
	// timestamp as wall-clock time in it, with no zone. UTC in a stock app.
	Location *time.Location
	// TokenableType is the tokenable_type of the users' tokens: the user
	// model's class (`App\Models\User`, `App\User`) or its morph-map alias.
	TokenableType string
	// Hash is the algorithm of the app's hashing.driver, which every hash
	// propusk writes uses so the app can still verify it: HashBcrypt or
	// HashArgon2id.
	Hash string
}

// The algorithms Laravel's hashing.driver can name that propusk writes.
const (
	HashBcrypt   = "bcrypt"
	HashArgon2id = "argon2id"
)

// Defaults of a stock Laravel application.
const (
	DefaultLaravelLoginColumn   = "email"
	DefaultLaravelTokenableType = `App\Models\User`
)

// LaravelPrefix starts the name of every table propusk creates in Laravel
// mode, so that none collides with a table of the app.
const LaravelPrefix = "propusk_"

// WithDefaults returns l with the stock Laravel value in every unset field.
func (l Laravel) WithDefaults() Laravel {
	if l.LoginColumn == "" {
		l.LoginColumn = DefaultLaravelLoginColumn
	}
	if l.Location == nil {
		l.Location = time.UTC
	}
	if l.TokenableType == "" {
		l.TokenableType = DefaultLaravelTokenableType
	}
	if l.Hash == "" {
		l.Hash = HashBcrypt
	}
	return l
}

// Validate reports an EINVALID error naming what is wrong with l, which
// WithDefaults has filled: the login column goes into SQL, so it must be
// a plain identifier.
func (l Laravel) Validate() error {
	if !plainIdentifier(l.LoginColumn) {
		return Errorf(EINVALID, "the Laravel login column %q is not a plain column name (letters, digits and _)", l.LoginColumn)
	}
	switch l.Hash {
	case HashBcrypt, HashArgon2id:
	default:
		return Errorf(EINVALID, "the Laravel hash %q is neither %s nor %s", l.Hash, HashBcrypt, HashArgon2id)
	}
	if l.Location == nil {
		return fmt.Errorf("laravel: no time zone")
	}
	return nil
}

// plainIdentifier reports whether s is a SQL identifier that needs no
// quoting in any of the supported databases.
func plainIdentifier(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ErrLaravelLoginTaken is every Laravel-mode store's refusal of a new user
// whose login a user of the app has in any letter case or canonical form.
var ErrLaravelLoginTaken = Errorf(ECONFLICT, "already exists")

// LaravelMissingTable is every Laravel-mode store's refusal of a database
// without one of the app's tables (users, personal_access_tokens).
func LaravelMissingTable(table string) error {
	return Errorf(EUNAVAILABLE,
		"the Laravel app's table %s does not exist: run the app's migrations first (php artisan migrate)", table)
}

// PrepareLaravel readies u for a row of the app's users table: Laravel
// keeps times to the second, and users.name, which the app requires, is
// the login unless u has one.
func (u *User) PrepareLaravel() {
	u.CreatedAt = TruncSeconds(u.CreatedAt)
	u.UpdatedAt = u.CreatedAt
	if u.Name == "" {
		u.Name = u.Login
	}
}
