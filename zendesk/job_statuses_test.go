package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

// fastWait polls every millisecond, so tests of Wait take no time.
var fastWait = &WaitOptions{PollInterval: time.Millisecond, MaxPollInterval: 2 * time.Millisecond}

func TestJobStatusesEndpoints(t *testing.T) {
	t.Parallel()
	testEndpoints(t, []endpointCase{
		{name: "get", method: "GET", path: "/api/v2/job_statuses/8b726e606741012ffc2d782bcb7848fe", status: 200,
			answer: string(fixture(t, "oas-examples/ShowJobStatus__200__ShowJobStatusResponseExample.json")),
			want: &JobStatus{ID: "8b726e606741012ffc2d782bcb7848fe", URL: "https://company.zendesk.com/api/v2/job_statuses/8b726e606741012ffc2d782bcb7848fe",
				Status: JobStatusCompleted, Total: 2, Progress: 2, Message: "Completed at Fri Apr 13 02:51:53 +0000 2012",
				Results: []JobResult{{ID: 380, Action: "update", Status: "Updated", Success: Ptr(true)}}},
			call: func(ctx context.Context, c *Client) (any, error) {
				j, _, err := c.JobStatuses.Get(ctx, "8b726e606741012ffc2d782bcb7848fe")
				return j, err
			}},
		{name: "get many", method: "GET", path: "/api/v2/job_statuses/show_many", status: 200,
			query:  url.Values{"ids": {"8b726e606741012ffc2d782bcb7848fe,e7665094164c498781ebe4c8db6d2af5"}},
			answer: string(fixture(t, "oas-examples/ShowManyJobStatuses__200__JobStatusesResponseExample.json")),
			want: []JobStatus{
				{ID: "8b726e606741012ffc2d782bcb7848fe", Status: JobStatusCompleted},
				{ID: "e7665094164c498781ebe4c8db6d2af5", Status: JobStatusCompleted},
			},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.JobStatuses.GetMany(ctx, []string{"8b726e606741012ffc2d782bcb7848fe", "e7665094164c498781ebe4c8db6d2af5"})
			}},
	})
}

func TestJobStatusesList(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	servePages(t, c, mux, "/api/v2/job_statuses",
		`{"job_statuses":[{"id":"a","status":"completed"},{"id":"b","status":"working"}],"meta":{"has_more":true},"links":{"next":"NEXT"}}`,
		`{"job_statuses":[{"id":"c","status":"queued","results":null}],"meta":{"has_more":false}}`)
	got, err := Collect(c.JobStatuses.List(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	want := []JobStatus{{ID: "a", Status: JobStatusCompleted}, {ID: "b", Status: JobStatusWorking}, {ID: "c", Status: JobStatusQueued}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

// serveJob answers /api/v2/job_statuses/{id} with the given bodies in turn (the last one
// repeated) and counts the polls.
func serveJob(t *testing.T, mux *http.ServeMux, id string, bodies ...string) *atomic.Int32 {
	t.Helper()
	var polls atomic.Int32
	mux.HandleFunc("/api/v2/job_statuses/"+id, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		testQuery(t, r, nil)
		n := int(polls.Add(1))
		writeJSON(w, 200, bodies[min(n, len(bodies))-1])
	})
	return &polls
}

func TestJobStatusesWaitCompletes(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	polls := serveJob(t, mux, "j1",
		`{"job_status":{"id":"j1","status":"queued","total":2,"progress":null,"results":null}}`,
		`{"job_status":{"id":"j1","status":"working","total":2,"progress":1,"results":[{"id":244,"index":0}]}}`,
		`{"job_status":{"id":"j1","status":"completed","total":2,"progress":2,"message":"Completed at 2018-03-08 10:07:04 +0000","results":[{"id":244,"index":0},{"id":245,"index":1}]}}`)
	job, err := c.JobStatuses.Wait(t.Context(), "j1", fastWait)
	if err != nil {
		t.Fatal(err)
	}
	want := &JobStatus{ID: "j1", Status: JobStatusCompleted, Total: 2, Progress: 2, Message: "Completed at 2018-03-08 10:07:04 +0000",
		Results: []JobResult{{ID: 244, Index: Ptr(0)}, {ID: 245, Index: Ptr(1)}}}
	if diff := cmp.Diff(want, job); diff != "" {
		t.Errorf("job (-want +got):\n%s", diff)
	}
	if n := polls.Load(); n != 3 {
		t.Errorf("polls = %d, want 3 (queued, working, completed)", n)
	}
}

func TestJobStatusesWaitFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		final      string
		wantStatus string
		wantFailed []JobResult
		wantMsg    []string // substrings of the error
	}{
		{"completed with a failed item",
			`{"job_status":{"id":"j2","status":"completed","total":2,"progress":2,"results":[{"id":244,"action":"create","status":"Created","success":true},{"id":245,"action":"create","success":false,"error":"PermissionDenied","details":"User 245 is not an agent"}]}}`,
			JobStatusCompleted,
			[]JobResult{{ID: 245, Action: "create", Success: Ptr(false), Error: "PermissionDenied", Details: "User 245 is not an agent"}},
			[]string{"job j2 completed with 1 failed item", "id 245 create: PermissionDenied: User 245 is not an agent"}},
		{"failed",
			`{"job_status":{"id":"j2","status":"failed","total":2,"progress":0,"message":"Job failed: internal error","results":null}}`,
			JobStatusFailed, nil,
			[]string{"job j2 failed", "Job failed: internal error"}},
		{"killed",
			`{"job_status":{"id":"j2","status":"killed","results":[]}}`,
			JobStatusKilled, nil,
			[]string{"job j2 killed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			serveJob(t, mux, "j2", `{"job_status":{"id":"j2","status":"working"}}`, tt.final)
			job, err := c.JobStatuses.Wait(t.Context(), "j2", fastWait)
			var jobErr *JobError
			if !errors.As(err, &jobErr) {
				t.Fatalf("err = %v, want a *JobError", err)
			}
			if job == nil || job.Status != tt.wantStatus {
				t.Fatalf("job = %+v, want the final status %s with the error", job, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantFailed, jobErr.Failed); diff != "" {
				t.Errorf("failed items (-want +got):\n%s", diff)
			}
			if jobErr.JobID != "j2" || jobErr.Status != tt.wantStatus {
				t.Errorf("JobError = %+v", jobErr)
			}
			for _, s := range tt.wantMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// pollTimes answers GET job_statuses/{id} with body on the mock transport and records,
// for each poll, how long after start it came.
func pollTimes(mock *httpmock.MockTransport, id, body string, start time.Time) func() []time.Duration {
	var mu sync.Mutex
	var at []time.Duration
	mock.RegisterResponder("GET", "https://example.zendesk.com/api/v2/job_statuses/"+id, func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		at = append(at, time.Since(start))
		mu.Unlock()
		return httpmock.NewStringResponse(200, body), nil
	})
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), at...)
	}
}

// TestJobStatusesWaitHonoursContext: Wait polls until ctx's deadline, then returns at
// once with ctx's error and the last status seen.
func TestJobStatusesWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t)
		start := time.Now()
		polls := pollTimes(mock, "j3", `{"job_status":{"id":"j3","status":"queued"}}`, start)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		job, err := c.JobStatuses.Wait(ctx, "j3", &WaitOptions{PollInterval: time.Second, MaxPollInterval: 5 * time.Second})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if job == nil || job.Status != JobStatusQueued {
			t.Errorf("job = %+v, want the last status seen", job)
		}
		// Polls at 0, 1, 3 and 7s; the next would be at 12s, after the deadline.
		want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}
		if diff := cmp.Diff(want, polls()); diff != "" {
			t.Errorf("poll times (-want +got):\n%s", diff)
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("Wait returned %s after the start, want at the 10s deadline", d)
		}
	})
}

// TestJobStatusesWaitBacksOff shows the wait between polls doubles up to
// MaxPollInterval.
func TestJobStatusesWaitBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t)
		polls := pollTimes(mock, "j4", `{"job_status":{"id":"j4","status":"working"}}`, time.Now())
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		_, err := c.JobStatuses.Wait(ctx, "j4", &WaitOptions{PollInterval: time.Second, MaxPollInterval: 40 * time.Second})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		// Waits of 1, 2, 4, 8, 16, 32, then 40s (the cap) until the deadline.
		var want []time.Duration
		for _, s := range []int{0, 1, 3, 7, 15, 31, 63, 103} {
			want = append(want, time.Duration(s)*time.Second)
		}
		if diff := cmp.Diff(want, polls()); diff != "" {
			t.Errorf("poll times (-want +got):\n%s", diff)
		}
	})
}

// TestJobStatusesWaitDefaultIntervals: without options Wait polls after 1s, doubling to
// 30s.
func TestJobStatusesWaitDefaultIntervals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t)
		polls := pollTimes(mock, "j5", `{"job_status":{"id":"j5","status":"working"}}`, time.Now())
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		if _, err := c.JobStatuses.Wait(ctx, "j5", nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		var want []time.Duration
		for _, s := range []int{0, 1, 3, 7, 15, 31, 61, 91} {
			want = append(want, time.Duration(s)*time.Second)
		}
		if diff := cmp.Diff(want, polls()); diff != "" {
			t.Errorf("poll times (-want +got):\n%s", diff)
		}
	})
}

func TestJobStatusesWaitPollError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/api/v2/job_statuses/gone", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"error":"RecordNotFound","description":"Not found"}`)
	})
	_, err := c.JobStatuses.Wait(t.Context(), "gone", fastWait)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "wait for job gone") {
		t.Errorf("err = %v, want a not-found naming the job", err)
	}
}

func TestJobStatusDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want JobStatus
	}{
		{"results list", `{"id":"a","status":"completed","results":[{"id":1,"index":0}]}`,
			JobStatus{ID: "a", Status: "completed", Results: []JobResult{{ID: 1, Index: Ptr(0)}}}},
		{"results object (permanent ticket deletion)", `{"id":"a","status":"completed","results":{"success":true}}`,
			JobStatus{ID: "a", Status: "completed", Results: []JobResult{{Success: Ptr(true)}}}},
		{"results null, nullable counters", `{"id":"a","status":"queued","results":null,"total":null,"progress":null,"message":null}`,
			JobStatus{ID: "a", Status: "queued"}},
		{"users' results: email, external id, failures by index",
			`{"id":"a","status":"completed","results":[{"id":5,"action":"create","status":"Created","success":true,"email":"ann@example.com","external_id":"hr-1"},{"index":1,"action":"create","success":false,"error":"DuplicateValue","details":"Email: taken"}]}`,
			JobStatus{ID: "a", Status: "completed", Results: []JobResult{
				{ID: 5, Action: "create", Status: JobResultCreated, Success: Ptr(true), Email: "ann@example.com", ExternalID: "hr-1"},
				{Index: Ptr(1), Action: "create", Success: Ptr(false), Error: "DuplicateValue", Details: "Email: taken"}}}},
		{"no results", `{"id":"a","status":"queued","job_type":"Bulk Create Group Memberships"}`,
			JobStatus{ID: "a", Status: "queued", JobType: "Bulk Create Group Memberships"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got JobStatus
			if err := json.Unmarshal([]byte(tt.json), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	var bad JobStatus
	if err := json.Unmarshal([]byte(`{"id":"a","results":"oops"}`), &bad); err == nil {
		t.Error(`"results":"oops" decoded without error`)
	}
}

func TestJobStatusDoneAndFailed(t *testing.T) {
	t.Parallel()
	ok, failed := JobResult{ID: 1, Success: Ptr(true)}, JobResult{ID: 2, Success: Ptr(false), Error: "E"}
	errOnly := JobResult{ID: 3, Error: "InvalidValue"}
	statusOnly := JobResult{ID: 5, Action: "update", Status: "Failed"}
	tests := []struct {
		status     string
		results    []JobResult
		wantDone   bool
		wantFailed []JobResult
	}{
		{JobStatusQueued, nil, false, nil},
		{JobStatusWorking, []JobResult{failed}, false, []JobResult{failed}},
		{JobStatusCompleted, []JobResult{ok, {ID: 4, Index: Ptr(1)}}, true, nil},
		{JobStatusCompleted, []JobResult{ok, failed, errOnly}, true, []JobResult{failed, errOnly}},
		{JobStatusCompleted, []JobResult{statusOnly, {ID: 6, Status: JobResultUpdated}}, true, []JobResult{statusOnly}},
		{JobStatusFailed, nil, true, nil},
		{JobStatusKilled, nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.status, len(tt.results)), func(t *testing.T) {
			t.Parallel()
			j := &JobStatus{Status: tt.status, Results: tt.results}
			if j.Done() != tt.wantDone {
				t.Errorf("Done = %v, want %v", j.Done(), tt.wantDone)
			}
			if diff := cmp.Diff(tt.wantFailed, j.Failed()); diff != "" {
				t.Errorf("Failed (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJobResultString: a result names its item by index, id, and the email or
// external id Zendesk gave, then says what went wrong.
func TestJobResultString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r    JobResult
		want string
	}{
		{JobResult{Index: Ptr(2), Email: "ann@example.com", Action: "create", Success: Ptr(false), Error: "DuplicateValue", Details: "Email: taken"},
			"item 2 ann@example.com create: DuplicateValue: Email: taken"},
		{JobResult{ID: 7, ExternalID: "hr-7", Action: "update", Status: "Failed"}, "id 7 hr-7 update: failed"},
		{JobResult{ID: 8, Action: "update", Status: JobResultUpdated, Success: Ptr(true)}, "id 8 update"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestJobErrorListsAtMostTen(t *testing.T) {
	t.Parallel()
	e := &JobError{JobID: "j", Status: JobStatusCompleted}
	for i := range 12 {
		e.Failed = append(e.Failed, JobResult{ID: int64(100 + i), Index: Ptr(i), Success: Ptr(false), Error: "E"})
	}
	msg := e.Error()
	for _, want := range []string{"job j completed with 12 failed item(s)", "item 0 (id 100): E", "item 9 (id 109)", "and 2 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "id 110") {
		t.Errorf("%q lists more than ten items", msg)
	}
}

func TestJobStatusesValidation(t *testing.T) {
	t.Parallel()
	testValidation(t, []validationCase{
		{"get empty id", func(ctx context.Context, c *Client) error { _, _, err := c.JobStatuses.Get(ctx, ""); return err }, "job id is required"},
		{"get many empty id", func(ctx context.Context, c *Client) error {
			_, err := c.JobStatuses.GetMany(ctx, []string{"a", ""})
			return err
		}, `ids[1] "" is not a job id`},
		{"get many comma", func(ctx context.Context, c *Client) error {
			_, err := c.JobStatuses.GetMany(ctx, []string{"a,b"})
			return err
		}, "is not a job id"},
		{"wait empty id", func(ctx context.Context, c *Client) error { _, err := c.JobStatuses.Wait(ctx, "", nil); return err }, "job id is required"},
		{"wait negative interval", func(ctx context.Context, c *Client) error {
			_, err := c.JobStatuses.Wait(ctx, "j", &WaitOptions{PollInterval: -time.Second})
			return err
		}, "must not be negative"},
	})
}
