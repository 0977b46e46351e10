package zendesktest

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendTime(t *testing.T) {
	t.Parallel()
	for _, u := range []int64{0, 1, 86399, 86400, 951782400 /* 2000-02-29 */, 1709164800, 4102444799, -1, -86401, genEpoch, 253402300799} {
		want := time.Unix(u, 0).UTC().Format("2006-01-02T15:04:05Z")
		if got := string(appendTime(nil, u)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", u, got, want)
		}
	}
	for u := int64(-5e9); u < 5e9; u += 7_777_777 {
		want := time.Unix(u, 0).UTC().Format("2006-01-02T15:04:05Z")
		if got := string(appendTime(nil, u)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", u, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te\`, "tab\tnl\n", "\x00\x1f", "é✓", "\u2028\u2029", "\xff\xfe", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, b, err)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("%q round-trips to %q, want %q", s, got, w)
		}
	})
}
