package zendesktest

import (
	"io"
	"net/http"
	"runtime"
	"testing"
)

// largeAccount is the scale the simulator must handle comfortably.
var largeAccount = AccountSpec{Seed: 1, EndUsers: 97_000, Agents: 2_700, Admins: 300, Groups: 1_000,
	Organizations: 20_000, GroupMemberships: 100_000, OrganizationMemberships: 200_000, CustomRoles: 20,
	Suspended: 500, Deleted: 1_000}

// BenchmarkGenerateLarge generates 100,000 users, 1,000 groups, 20,000
// organizations and 300,000 memberships, and reports the retained heap.
func BenchmarkGenerateLarge(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := generate(largeAccount, PlanEnterprise, true, "owner@example.com", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st, _ := generate(largeAccount, PlanEnterprise, true, "owner@example.com", nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-retained")
	runtime.KeepAlive(st)
}

// BenchmarkServeUserPage measures one cursor page of 100 users over
// loopback, deep inside a 100,000-user account.
func BenchmarkServeUserPage(b *testing.B) {
	s, err := NewServer(WithAccount(largeAccount), WithoutRateLimit(), WithRequestLog(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cr := s.Credentials()
	authz := basicToken(cr.AdminEmail, cr.APIToken)
	hc := &http.Client{}
	url := s.URL + "/api/v2/users.json?page[size]=100&page[after]=" + encodeCursor(userBase+50_000)
	b.ReportAllocs()
	b.ResetTimer()
	var n int64
	for b.Loop() {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", authz)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		n += m
	}
	b.SetBytes(n / int64(max(b.N, 1)))
}

// BenchmarkRenderUserPage measures the simulator's own work for a page of
// 100 users (no HTTP).
func BenchmarkRenderUserPage(b *testing.B) {
	st, err := generate(largeAccount, PlanEnterprise, false, "owner@example.com", nil)
	if err != nil {
		b.Fatal(err)
	}
	v := seq{n: len(st.users), id: func(i int) int64 { return st.users[i].id },
		ok: func(i int) bool { return st.users[i].state == userLive }}
	pr := pageReq{cursor: true, size: 100, after: userBase + 50_000}
	b.ReportAllocs()
	for b.Loop() {
		idx, _ := v.cursorPage(pr)
		w := jw{b: make([]byte, 0, 100<<10)}
		for _, i := range idx {
			st.writeUser(&w, "http://127.0.0.1:1/api/v2", i)
		}
	}
}

// hugeAccount is what `zendesk-sim -users 5000000` generates: the demo
// account with five million end-users.
var hugeAccount = func() AccountSpec {
	a := DemoAccount()
	a.EndUsers = 5_000_000
	return a
}()

// BenchmarkGenerate5MUsers generates hugeAccount, the account whose
// generation the command reports progress for. Run it with -benchtime=1x.
func BenchmarkGenerate5MUsers(b *testing.B) {
	for b.Loop() {
		if _, err := generate(hugeAccount, PlanEnterprise, false, "owner@example.com", nil); err != nil {
			b.Fatal(err)
		}
	}
}
