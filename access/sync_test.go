package access_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
)

// fakeBackend serves fixed streams; Grant and Revoke are unsupported.
type fakeBackend struct {
	info      access.Info
	infoErr   error
	streams   []access.Stream
	streamErr error
	requests  atomic.Int64
}

func (f *fakeBackend) Info(ctx context.Context) (access.Info, error) { return f.info, f.infoErr }
func (f *fakeBackend) Streams(ctx context.Context) ([]access.Stream, error) {
	return f.streams, f.streamErr
}
func (f *fakeBackend) Grant(ctx context.Context, req access.GrantRequest) (access.GrantResult, error) {
	return access.GrantResult{}, access.ErrUnsupported
}
func (f *fakeBackend) Revoke(ctx context.Context, req access.RevokeRequest) (access.RevokeResult, error) {
	return access.RevokeResult{}, access.ErrUnsupported
}

var testTypes = []access.ResourceType{
	{ID: "user", DisplayName: "User", Traits: []access.Trait{access.TraitUser}},
	{ID: "group", DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}},
}

func newFake(streams ...access.Stream) *fakeBackend {
	return &fakeBackend{info: access.Info{Name: "fake", Account: "test", ResourceTypes: testTypes}, streams: streams}
}

// stream returns a stream emitting items in order.
func stream(name string, items ...access.Item) access.Stream {
	return access.Stream{Name: name, Run: func(ctx context.Context, emit func(access.Item) error) error {
		for _, it := range items {
			if err := emit(it); err != nil {
				return err
			}
		}
		return nil
	}}
}

func res(id, name string, attrs access.Attributes) access.Item {
	return access.Item{Resource: access.NewResource(id, name, attrs)}
}

func ent(id string, grantableTo ...string) access.Item {
	return access.Item{Entitlement: access.NewEntitlement(id, "", access.PurposeMembership, grantableTo, nil)}
}

func grant(entitlementID, principalID string) access.Item {
	return access.Item{Grant: access.NewGrant(entitlementID, principalID, nil)}
}

var fixed = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func fixedOpts() *access.SyncOptions {
	return &access.SyncOptions{Now: func() time.Time { return fixed }}
}

// richUser is a backend's own resource type, as a Zendesk backend returns.
type richUser struct {
	id    int
	email string
}

func (u *richUser) ID() string                    { return access.ResourceID("user", fmt.Sprint(u.id)) }
func (u *richUser) DisplayName() string           { return u.email }
func (u *richUser) Attributes() access.Attributes { return access.Attributes{"email": u.email} }

func TestSyncCanonicalEncoding(t *testing.T) {
	t.Parallel()
	b := newFake(
		stream("users",
			access.Item{Resource: &richUser{id: 2, email: "bob@example.com"}},
			res("user:1", "Ann \"A\"\n", access.Attributes{"z": "1", "a": "<&>", "empty": ""}),
			access.Item{Grant: access.NewGrant("group:1:member", "user:2", access.Attributes{"default": "true"})},
		),
		stream("groups",
			res("group:1", "Support", nil),
			access.Item{Entitlement: access.NewEntitlement("group:1:member", "Support member", access.PurposeMembership, []string{"user", "user"}, access.Attributes{})},
			grant("group:1:member", "user:1"),
		),
	)
	b.info.Scope = map[string]string{"users": "all"}
	snap, err := access.Sync(t.Context(), b, fixedOpts())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := snap.Save(&buf); err != nil {
		t.Fatal(err)
	}
	want := `{"hash":"` + snap.Hash() + `",
"provenance":{"backend":"fake","account":"test","taken_at":"2026-03-04T05:06:07Z","scope":{"users":"all"},"streams":[{"name":"groups","resources":1,"entitlements":1,"grants":1},{"name":"users","resources":2,"entitlements":0,"grants":1}]},
"format":"zgov.access.snapshot/v1",
"resource_types":[
{"id":"group","name":"Group","traits":["group"]},
{"id":"user","name":"User","traits":["user"]}],
"resources":[
{"id":"group:1","name":"Support"},
{"id":"user:1","name":"Ann \"A\"\n","attributes":{"a":"<&>","empty":"","z":"1"}},
{"id":"user:2","name":"bob@example.com","attributes":{"email":"bob@example.com"}}],
"entitlements":[
{"id":"group:1:member","name":"Support member","purpose":"membership","grantable_to":["user"]}],
"grants":[
{"id":"group:1:member@user:1"},
{"id":"group:1:member@user:2","attributes":{"default":"true"}}]}
`
	if d := cmp.Diff(want, buf.String()); d != "" {
		t.Errorf("canonical encoding (-want +got):\n%s", d)
	}
	if len(snap.Hash()) != 64 {
		t.Errorf("Hash() = %q", snap.Hash())
	}
	// The hash covers exactly the content after the provenance.
	content := buf.String()[strings.Index(buf.String(), `"format"`) : buf.Len()-2]
	if got := sha256Hex(content); got != snap.Hash() {
		t.Errorf("sha256 of content = %s, Hash() = %s", got, snap.Hash())
	}
	if r, ok := snap.Resource("user:2"); !ok || r.DisplayName() != "bob@example.com" {
		t.Errorf("Resource(user:2) = %v, %v", r, ok)
	}
	if gs := snap.GrantsOf("group:1:member"); len(gs) != 2 {
		t.Errorf("GrantsOf = %d grants, want 2", len(gs))
	}
	if gs := snap.GrantsFor("user:2"); len(gs) != 1 || gs[0].EntitlementID() != "group:1:member" {
		t.Errorf("GrantsFor(user:2) = %v", gs)
	}
	if rt, ok := snap.ResourceType("user"); !ok || !rt.Has(access.TraitUser) || rt.Has(access.TraitGroup) {
		t.Errorf("ResourceType(user) = %+v, %v", rt, ok)
	}
}

func TestSyncProvenanceNotHashed(t *testing.T) {
	t.Parallel()
	items := []access.Item{res("user:1", "", nil)}
	a := newFake(stream("s", items...))
	b := newFake(stream("s", items...))
	b.info.Account = "other"
	b.info.Scope = map[string]string{"x": "y"}
	sa, err := access.Sync(t.Context(), a, fixedOpts())
	if err != nil {
		t.Fatal(err)
	}
	sb, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sa.Hash() != sb.Hash() {
		t.Errorf("hashes differ with equal content and different provenance")
	}
}

func TestSyncConsistencyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		items []access.Item
		want  []access.Problem
	}{
		{"DuplicateResource", []access.Item{res("user:1", "a", nil), res("user:1", "b", nil)},
			[]access.Problem{{access.ProblemDuplicate, "user:1", "resource emitted twice"}}},
		{"DuplicateEntitlementAndGrant", []access.Item{res("user:1", "", nil), res("group:1", "", nil), ent("group:1:member", "user"), ent("group:1:member", "user"), grant("group:1:member", "user:1"), grant("group:1:member", "user:1")},
			[]access.Problem{{access.ProblemDuplicate, "group:1:member", "entitlement emitted twice"}, {access.ProblemDuplicate, "group:1:member@user:1", "grant emitted twice"}}},
		{"UndeclaredType", []access.Item{res("team:1", "", nil)},
			[]access.Problem{{access.ProblemUnknownType, "team:1", `resource type "team" is not declared`}}},
		{"UndeclaredGrantableTo", []access.Item{res("group:1", "", nil), ent("group:1:member", "team")},
			[]access.Problem{{access.ProblemUnknownType, "group:1:member", `grantable to undeclared resource type "team"`}}},
		{"DanglingEntitlement", []access.Item{ent("group:1:member", "user")},
			[]access.Problem{{access.ProblemDanglingEntitlement, "group:1:member", "resource group:1 is absent"}}},
		{"DanglingGrantEntitlement", []access.Item{res("user:1", "", nil), grant("group:1:member", "user:1")},
			[]access.Problem{{access.ProblemDanglingGrant, "group:1:member@user:1", "entitlement group:1:member is absent"}}},
		{"DanglingGrantPrincipal", []access.Item{res("group:1", "", nil), ent("group:1:member", "user"), grant("group:1:member", "user:1")},
			[]access.Problem{{access.ProblemDanglingGrant, "group:1:member@user:1", "principal user:1 is absent"}}},
		{"NotGrantable", []access.Item{res("group:1", "", nil), res("group:2", "", nil), ent("group:1:member", "user"), grant("group:1:member", "group:2")},
			[]access.Problem{{access.ProblemNotGrantable, "group:1:member@group:2", "entitlement is grantable to user, not group"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := access.Sync(t.Context(), newFake(stream("s", tc.items...)), nil)
			var ce *access.ConsistencyError
			if !errors.As(err, &ce) || !errors.Is(err, access.ErrInconsistent) {
				t.Fatalf("Sync error = %v, want a *ConsistencyError", err)
			}
			if d := cmp.Diff(tc.want, ce.Problems); d != "" {
				t.Errorf("Problems (-want +got):\n%s", d)
			}
			if ce.Total != len(tc.want) {
				t.Errorf("Total = %d, want %d", ce.Total, len(tc.want))
			}
		})
	}
}

func TestSyncManyProblemsCapped(t *testing.T) {
	t.Parallel()
	var items []access.Item
	for i := range 1000 {
		items = append(items, res(fmt.Sprintf("team:%04d", i), "", nil))
	}
	_, err := access.Sync(t.Context(), newFake(stream("s", items...)), nil)
	var ce *access.ConsistencyError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v", err)
	}
	if ce.Total != 1000 || len(ce.Problems) != 100 || ce.Problems[0].ID != "team:0000" || ce.Problems[99].ID != "team:0099" {
		t.Errorf("Total %d, %d problems from %s to %s; want 1000, first 100 by ID", ce.Total, len(ce.Problems), ce.Problems[0].ID, ce.Problems[len(ce.Problems)-1].ID)
	}
	if len(err.Error()) > 1000 {
		t.Errorf("error message is %d bytes long", len(err.Error()))
	}
}

func TestSyncDropDangling(t *testing.T) {
	t.Parallel()
	b := newFake(stream("s",
		res("user:1", "", nil), res("group:1", "", nil),
		ent("group:1:member", "user"), ent("group:2:member", "user"),
		grant("group:1:member", "user:1"), grant("group:1:member", "user:9"), grant("group:2:member", "user:1"),
	))
	snap, err := access.Sync(t.Context(), b, &access.SyncOptions{DropDangling: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Provenance().Dropped; got != 3 {
		t.Errorf("Dropped = %d, want 3", got)
	}
	want := access.Counts{ResourceTypes: 2, Resources: 2, Entitlements: 1, Grants: 1}
	if d := cmp.Diff(want, snap.Counts()); d != "" {
		t.Errorf("Counts (-want +got):\n%s", d)
	}
	// Ungrantable principals are errors even when dropping dangling items.
	b = newFake(stream("s", res("group:1", "", nil), ent("group:1:member", "user"), grant("group:1:member", "group:1")))
	if _, err := access.Sync(t.Context(), b, &access.SyncOptions{DropDangling: true}); !errors.Is(err, access.ErrInconsistent) {
		t.Errorf("error = %v, want ErrInconsistent", err)
	}
}

func TestSyncInvalidItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		item access.Item
		want error
	}{
		{"NoField", access.Item{}, access.ErrInvalidItem},
		{"TwoFields", access.Item{Resource: access.NewResource("user:1", "", nil), Grant: access.NewGrant("group:1:member", "user:1", nil)}, access.ErrInvalidItem},
		{"MalformedResource", res("user", "", nil), access.ErrMalformedID},
		{"MalformedEntitlement", ent("group:1", "user"), access.ErrMalformedID},
		{"MalformedGrant", grant("group:1:member", "user"), access.ErrMalformedID},
		{"BadUTF8Name", res("user:1", "\xff", nil), access.ErrInvalidItem},
		{"BadUTF8Attr", res("user:1", "", access.Attributes{"k": "\xfe"}), access.ErrInvalidItem},
		{"EmptyAttrKey", res("user:1", "", access.Attributes{"": "v"}), access.ErrInvalidItem},
		{"BadPurpose", access.Item{Entitlement: access.NewEntitlement("group:1:member", "", "owner", []string{"user"}, nil)}, access.ErrInvalidItem},
		{"GrantableToNothing", ent("group:1:member"), access.ErrInvalidItem},
		{"GrantableToMalformed", ent("group:1:member", "User"), access.ErrInvalidItem},
		{"NilRecordPointer", access.Item{Grant: (*access.GrantRecord)(nil)}, access.ErrInvalidItem},
		{"PointerRecord", access.Item{Resource: &access.ResourceRecord{}}, access.ErrMalformedID},
		{"GrantBadUTF8Attr", access.Item{Grant: access.NewGrant("group:1:member", "user:1", access.Attributes{"\xff": ""})}, access.ErrInvalidItem},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := access.Sync(t.Context(), newFake(stream("broken", tc.item)), nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Sync error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), `stream "broken"`) {
				t.Errorf("error %q does not name the stream", err)
			}
		})
	}
}

func TestSyncBackendErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	ignoring := access.Stream{Name: "ignoring", Run: func(ctx context.Context, emit func(access.Item) error) error {
		emit(access.Item{}) // fails; the stream ignores it
		return nil
	}}
	var leaked func(access.Item) error
	leaking := access.Stream{Name: "leaking", Run: func(ctx context.Context, emit func(access.Item) error) error {
		leaked = emit
		return nil
	}}
	tests := []struct {
		name    string
		backend *fakeBackend
		want    error
		wantMsg string
	}{
		{"Info", &fakeBackend{infoErr: boom}, boom, "info: boom"},
		{"Streams", &fakeBackend{streamErr: boom}, boom, "streams: boom"},
		{"StreamFails", newFake(access.Stream{Name: "s", Run: func(context.Context, func(access.Item) error) error { return boom }}), boom, `stream "s": boom`},
		{"StreamIgnoresEmitError", newFake(ignoring), access.ErrInvalidItem, `stream "ignoring"`},
		{"DuplicateStreamNames", newFake(stream("s"), stream("s")), nil, `two streams are named "s"`},
		{"NilRun", newFake(access.Stream{Name: "nil"}), nil, `stream "nil" has no Run`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := access.Sync(t.Context(), tc.backend, nil)
			if err == nil {
				t.Fatal("Sync succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error = %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
	if _, err := access.Sync(t.Context(), newFake(leaking), nil); err != nil {
		t.Fatal(err)
	}
	if err := leaked(res("user:1", "", nil)); err == nil {
		t.Error("emit after Run returned succeeded, want an error")
	}
}

func TestSyncCancel(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	blocking := access.Stream{Name: "blocking", Run: func(ctx context.Context, emit func(access.Item) error) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-started; cancel() }()
	_, err := access.Sync(ctx, newFake(blocking, stream("other", res("user:1", "", nil))), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}

	// A stream that keeps emitting is stopped by emit's error.
	endless := access.Stream{Name: "endless", Run: func(ctx context.Context, emit func(access.Item) error) error {
		for i := 0; ; i++ {
			if err := emit(res(fmt.Sprintf("user:%d", i), "", nil)); err != nil {
				return err
			}
		}
	}}
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = access.Sync(ctx, newFake(endless), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
}

func TestSyncConcurrencyBounded(t *testing.T) {
	t.Parallel()
	var running, peak atomic.Int32
	var streams []access.Stream
	for i := range 10 {
		streams = append(streams, access.Stream{Name: fmt.Sprint("s", i), Run: func(ctx context.Context, emit func(access.Item) error) error {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			return emit(res(fmt.Sprint("user:", i), "", nil))
		}})
	}
	snap, err := access.Sync(t.Context(), newFake(streams...), &access.SyncOptions{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d streams ran at once, want at most 3", p)
	}
	if n := snap.Counts().Resources; n != 10 {
		t.Errorf("%d resources, want 10", n)
	}
}

func TestSyncProgress(t *testing.T) {
	t.Parallel()
	var items []access.Item
	for i := range 5 {
		items = append(items, res(fmt.Sprint("user:", i), "", nil))
	}
	var mu sync.Mutex
	var got []string
	opts := &access.SyncOptions{ProgressEvery: 2, Progress: func(p access.Progress) {
		mu.Lock()
		defer mu.Unlock()
		s := p.Streams[0]
		got = append(got, fmt.Sprintf("%d done=%v final=%v", s.Resources, s.Done, p.Done))
	}}
	if _, err := access.Sync(t.Context(), newFake(stream("users", items...)), opts); err != nil {
		t.Fatal(err)
	}
	want := []string{"2 done=false final=false", "4 done=false final=false", "5 done=true final=false", "5 done=true final=true"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("progress calls (-want +got):\n%s", d)
	}
}

func TestSyncConcurrentEmit(t *testing.T) {
	t.Parallel()
	parallel := access.Stream{Name: "parallel", Run: func(ctx context.Context, emit func(access.Item) error) error {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for w := range 8 {
			wg.Go(func() {
				for i := range 100 {
					if err := emit(res(fmt.Sprintf("user:%d-%d", w, i), "", nil)); err != nil {
						errs[w] = err
						return
					}
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}}
	snap, err := access.Sync(t.Context(), newFake(parallel), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := snap.Counts().Resources; n != 800 {
		t.Errorf("%d resources, want 800", n)
	}
}

func TestSyncRequestCount(t *testing.T) {
	t.Parallel()
	b := &countingBackend{fakeBackend: newFake(stream("s", res("user:1", "", nil)))}
	b.requests.Store(40)
	snap, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Provenance().Requests; got != 2 {
		t.Errorf("Provenance.Requests = %d, want 2", got)
	}
}

// countingBackend counts Info and Streams calls as requests.
type countingBackend struct{ *fakeBackend }

func (c *countingBackend) Info(ctx context.Context) (access.Info, error) {
	c.requests.Add(1)
	return c.fakeBackend.Info(ctx)
}

func (c *countingBackend) Streams(ctx context.Context) ([]access.Stream, error) {
	c.requests.Add(1)
	return c.fakeBackend.Streams(ctx)
}

func (c *countingBackend) Requests() int64 { return c.requests.Load() }

func TestSyncRunsEveryStreamAtOnceByDefault(t *testing.T) {
	t.Parallel()
	// Each stream waits until all have started: with any bound below their number,
	// the sync would stall until the deadline.
	const n = 9
	var count atomic.Int32
	all := make(chan struct{})
	var streams []access.Stream
	for i := range n {
		streams = append(streams, access.Stream{Name: fmt.Sprint("s", i), Run: func(ctx context.Context, emit func(access.Item) error) error {
			if count.Add(1) == n {
				close(all)
			}
			select {
			case <-all:
			case <-ctx.Done():
				return ctx.Err()
			}
			return emit(res(fmt.Sprint("user:", i), "", nil))
		}})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := access.Sync(ctx, newFake(streams...), nil); err != nil {
		t.Fatalf("Sync: %v (streams were held back)", err)
	}
}
