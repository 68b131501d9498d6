package postgres

import (
	"fmt"
	"testing"

	"github.com/propusk/propusk"
)

// TestInsufficientResources: a server that is out of disk, memory or
// connections, or whose disk fails, answers EUNAVAILABLE: the request is
// not at fault. The errors are raised by the real server, from a trigger,
// with the SQLSTATE it would send.
func TestInsufficientResources(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	exec := func(t *testing.T, q string) {
		t.Helper()
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i, code := range []string{
		"53000", // insufficient_resources
		"53100", // disk_full
		"53200", // out_of_memory
		"53300", // too_many_connections
		"53400", // configuration_limit_exceeded
		"58030", // io_error
	} {
		t.Run(code, func(t *testing.T) {
			fn := "fault_" + code
			exec(t, `CREATE FUNCTION `+fn+`() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '`+code+`'; END $$`)
			exec(t, `CREATE TRIGGER fault BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION `+fn+`()`)
			err := s.CreateUser(ctx, &propusk.User{Login: fmt.Sprintf("u%d", i), PasswordHash: "x"})
			exec(t, `DROP TRIGGER fault ON users`)
			if got := propusk.ErrorCode(err); got != propusk.EUNAVAILABLE {
				t.Errorf("SQLSTATE %s: %v (%s), want %s", code, err, got, propusk.EUNAVAILABLE)
			}
		})
	}
}
