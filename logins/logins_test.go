package logins_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

func TestCanonical(t *testing.T) {
	same := []struct {
		name, login, key string
	}{
		{"ok/ascii", "admin", "admin"},
		{"ok/upper-case", "ADMIN", "admin"},
		{"ok/mixed-case", "AdMiN", "admin"},
		{"ok/fullwidth", "ａｄｍｉｎ", "admin"},
		{"ok/fullwidth-upper", "ＡＤＭＩＮ", "admin"},
		{"ok/nfc", "\u00e9lodie", "\u00e9lodie"},
		{"ok/nfd", "e\u0301lodie", "\u00e9lodie"},
		{"ok/nfd-upper", "E\u0301LODIE", "\u00e9lodie"},
		{"ok/words", "John Smith", "john smith"},
		{"ok/ascii-punctuation", "a.b@example.com", "a.b@example.com"},
		{"ok/digits-underscore", "User_1", "user_1"},
		{"ok/cyrillic", "Пропуск", "пропуск"},
		{"ok/greek", "ΑΘΗΝΑ", "αθηνα"},
		{"ok/japanese-han-kana", "田中たなかタナカ", "田中たなかタナカ"},
		{"ok/korean-han-hangul", "韓國한국", "韓國한국"},
		{"ok/chinese-han-bopomofo", "中文ㄅ", "中文ㄅ"},
		{"ok/cyrillic-with-digits", "вася2000", "вася2000"},
		{"ok/max-length", strings.Repeat("ж", logins.MaxLen), strings.Repeat("ж", logins.MaxLen)},
	}
	for _, c := range same {
		t.Run(c.name, func(t *testing.T) {
			key, err := logins.Canonical(c.login)
			if err != nil || key != c.key {
				t.Fatalf("Canonical(%+q) = %+q, %v; want %+q", c.login, key, err, c.key)
			}
		})
	}
	bad := []struct {
		name, login, why string
	}{
		{"fail/empty", "", "1 to 64"},
		{"fail/too-long", strings.Repeat("a", logins.MaxLen+1), "1 to 64"},
		{"fail/surrounding-space", " admin", "surrounding"},
		{"fail/control", "ad\x00min", "control"},
		{"fail/invisible", "ad\u200bmin", "control or invisible"},
		{"fail/right-to-left-override", "ad\u202emin", "control or invisible"},
		{"fail/double-space", "john  smith", "two spaces"},
		{"fail/ideographic-space", "john\u3000smith", "not symbols"},
		{"fail/emoji", "admin😀", "not symbols"},
		{"fail/cyrillic-a-in-latin", "\u0430dmin", "mixes Cyrillic and Latin"},
		{"fail/latin-o-in-cyrillic", "пр\u006fпуск", "mixes Cyrillic and Latin"},
		{"fail/greek-omicron-in-latin", "g\u03bfogle", "mixes Latin and Greek"},
		{"fail/fullwidth-cyrillic-mix", "ａ\u0434", "mixes Latin and Cyrillic"},
		{"fail/latin-in-japanese", "tanaka田中", "mixes Latin and Han"},
		{"fail/hangul-and-kana", "한국カナ", "mixes Hangul and Katakana"},
		{"fail/mixed-across-words", "admin \u0430dmin", "mixes Latin and Cyrillic"},
		{"fail/invalid-utf8", "ad\xffmin", "1 to 64"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			key, err := logins.Canonical(c.login)
			if propusk.ErrorCode(err) != propusk.EINVALID || !strings.Contains(propusk.ErrorMessage(err), c.why) {
				t.Fatalf("Canonical(%+q) = %+q, %v; want invalid_input saying %q", c.login, key, err, c.why)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	t.Run("ok/distinct", func(t *testing.T) {
		keys, err := logins.Keys([]logins.Row{{1, "Alice"}, {2, "bob"}})
		if err != nil || keys[1] != "alice" || keys[2] != "bob" {
			t.Fatalf("Keys = %v, %v", keys, err)
		}
	})
	t.Run("fail/collisions-named", func(t *testing.T) {
		_, err := logins.Keys([]logins.Row{
			{7, "Admin"}, {3, "admin"}, {4, "bob"}, {9, "ａｄｍｉｎ"},
			{5, "\u00e9lodie"}, {6, "e\u0301lodie"}, {8, "\u0430dmin"},
		})
		if propusk.ErrorCode(err) != propusk.ECONFLICT {
			t.Fatalf("Keys = %v; want conflict", err)
		}
		msg := propusk.ErrorMessage(err)
		for _, want := range []string{
			`id 3 "admin", id 7 "Admin", id 9 "ａｄｍｉｎ"`,
			"id 5 \"\u00e9lodie\" (\"\\u00e9lodie\"), id 6 \"e\u0301lodie\" (\"e\\u0301lodie\")",
			"mixes Cyrillic and Latin letters", "id 8 \"\u0430dmin\" (\"\\u0430dmin\")",
			"nothing was changed",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q:\n%s", want, msg)
			}
		}
		if strings.Contains(msg, "bob") {
			t.Errorf("message names a login that collides with none:\n%s", msg)
		}
	})
}

// FuzzCanonical checks what stores and the unique index rely on: a key is
// valid UTF-8, is its own key (so keys computed at different times agree),
// and does not depend on case or width.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		"admin", "Admin", "ＡＤＭＩＮ", "\u0430dmin", "e\u0301lodie", "John Smith", "john  smith",
		"田中たなかタナカ", "한국", "ΣΑΣ", "Straße", "İstanbul", "ǅemal", "a\u200db", "x😀", "", " ",
		"\u0661\u0662", "שלום", "abc\u05d0", "\u2126", "ﬁ", "\u1e9e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := logins.Canonical(s)
		if err != nil {
			if propusk.ErrorCode(err) != propusk.EINVALID {
				t.Fatalf("Canonical(%+q): %v; want invalid_input", s, err)
			}
			return
		}
		if !utf8.ValidString(key) || key == "" {
			t.Fatalf("Canonical(%+q) = %+q", s, key)
		}
		if again, err := logins.Canonical(key); err != nil && utf8.RuneCountInString(key) <= logins.MaxLen || err == nil && again != key {
			t.Fatalf("Canonical(%+q) = %+q, but Canonical of that = %+q, %v", s, key, again, err)
		}
		if up, err := logins.Canonical(strings.ToUpper(s)); err == nil && up != key && strings.ToLower(strings.ToUpper(s)) == strings.ToLower(s) {
			t.Fatalf("Canonical(%+q) = %+q but of its upper case %+q", s, key, up)
		}
	})
}

// BenchmarkCanonical: the key costs a login or registration next to
// nothing beside argon2id's tens of milliseconds.
func BenchmarkCanonical(b *testing.B) {
	for _, l := range []string{"Alice_1990", "Пропуск", "田中たなかタナカ"} {
		b.Run(l, func(b *testing.B) {
			for b.Loop() {
				if _, err := logins.Canonical(l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
