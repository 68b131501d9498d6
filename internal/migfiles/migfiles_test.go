package migfiles_test

import (
	"testing"
	"testing/fstest"

	"github.com/propusk/propusk/internal/migfiles"
)

// TestRead: the matching files, and only those, in the order of their names.
func TestRead(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README":     {Data: []byte("no")},
	}
	files, err := migfiles.Read(fsys, "m/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0] != (migfiles.File{Name: "m/0001_a.sql", Body: "A"}) || files[1] != (migfiles.File{Name: "m/0002_b.sql", Body: "B"}) {
		t.Fatalf("Read = %+v", files)
	}
	if _, err := migfiles.Read(fsys, "m/[.sql"); err == nil {
		t.Fatal("a malformed pattern read without error")
	}
}

// TestTriggersName: the same text, the same name; another text, another.
func TestTriggersName(t *testing.T) {
	a, b := migfiles.TriggersName("CREATE TRIGGER x"), migfiles.TriggersName("CREATE TRIGGER y")
	if a != migfiles.TriggersName("CREATE TRIGGER x") || a == b || len(a) != len("triggers ")+16 {
		t.Fatalf("names %q and %q", a, b)
	}
}
