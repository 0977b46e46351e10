package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The values of JobStatus.Status. Zendesk documents "killed" only in prose, not in its
// OpenAPI enum, but it is final all the same.
const (
	JobStatusQueued    = "queued"
	JobStatusWorking   = "working"
	JobStatusCompleted = "completed"
	JobStatusFailed    = "failed"
	JobStatusKilled    = "killed"
)

// JobStatus is the state of an asynchronous bulk job. Per-item failures appear only in
// Results, even when Status is "completed": check each result's Success, or use Failed.
// Zendesk keeps a job's status for about an hour.
type JobStatus struct {
	ID       string      `json:"id"`
	URL      string      `json:"url,omitempty"`
	Status   string      `json:"status"`
	JobType  string      `json:"job_type,omitempty"`
	Total    int         `json:"total"`
	Progress int         `json:"progress"`
	Message  string      `json:"message,omitempty"`
	Results  []JobResult `json:"results"`
}

// jobStatusFields is JobStatus without its methods, for decoding without recursion.
type jobStatusFields JobStatus

// jobStatusJSON is the wire form, where "results" is a list, null, or a bare object
// ({"success":true} for permanent ticket deletion).
type jobStatusJSON struct {
	jobStatusFields
	Results json.RawMessage `json:"results"`
}

// UnmarshalJSON accepts "results" as a list or as a single object, which becomes a
// one-item Results.
func (j *JobStatus) UnmarshalJSON(data []byte) error {
	var w jobStatusJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*j = JobStatus(w.jobStatusFields)
	j.Results = nil
	raw := bytes.TrimSpace(w.Results)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
	case raw[0] == '{':
		var r JobResult
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("job status results: %w", err)
		}
		j.Results = []JobResult{r}
	default:
		if err := json.Unmarshal(raw, &j.Results); err != nil {
			return fmt.Errorf("job status results: %w", err)
		}
	}
	return nil
}

// Done reports whether the job has reached a final status (completed, failed or
// killed). A completed job may still have failed items: see Failed.
func (j *JobStatus) Done() bool {
	switch j.Status {
	case JobStatusCompleted, JobStatusFailed, JobStatusKilled:
		return true
	}
	return false
}

// Failed returns the results of the items that failed (success false, or an error).
func (j *JobStatus) Failed() []JobResult {
	var out []JobResult
	for _, r := range j.Results {
		if r.Failed() {
			out = append(out, r)
		}
	}
	return out
}

// JobResult is the outcome of one item of a bulk job. Its shape depends on the job:
// creations (create_many) report ID and Index; updates, deletions and the
// create-or-update jobs report ID, Action ("create", "update", "delete"), Status
// (JobResultCreated, JobResultUpdated, JobResultDeleted) and Success; failures
// report Success false, Error and Details, with ID when the item named a record and
// Index when it did not. Email and ExternalID are set when Zendesk names the item so.
// Failed tells a failure from a success whatever the shape.
type JobResult struct {
	ID         int64  `json:"id,omitempty"`
	Index      *int   `json:"index,omitempty"`
	Action     string `json:"action,omitempty"`
	Status     string `json:"status,omitempty"`
	Success    *bool  `json:"success,omitempty"`
	Error      string `json:"error,omitempty"`
	Details    string `json:"details,omitempty"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// The values of JobResult.Status that Zendesk documents for items that succeeded.
const (
	JobResultCreated = "Created"
	JobResultUpdated = "Updated"
	JobResultDeleted = "Deleted"
)

// Failed reports whether the item failed: Success false, an Error, or the status
// "Failed" that some of Zendesk's jobs write.
func (r JobResult) Failed() bool {
	return (r.Success != nil && !*r.Success) || r.Error != "" || r.Status == "Failed"
}

// String describes the result for error messages.
func (r JobResult) String() string {
	var b strings.Builder
	switch {
	case r.Index != nil && r.ID != 0:
		fmt.Fprintf(&b, "item %d (id %d)", *r.Index, r.ID)
	case r.Index != nil:
		fmt.Fprintf(&b, "item %d", *r.Index)
	case r.ID != 0:
		fmt.Fprintf(&b, "id %d", r.ID)
	default:
		b.WriteString("item")
	}
	if who := firstNonEmpty(r.Email, r.ExternalID); who != "" {
		b.WriteString(" " + who)
	}
	if r.Action != "" {
		b.WriteString(" " + r.Action)
	}
	switch {
	case r.Error != "" && r.Details != "":
		fmt.Fprintf(&b, ": %s: %s", r.Error, r.Details)
	case r.Error != "" || r.Details != "":
		b.WriteString(": " + r.Error + r.Details)
	case r.Failed():
		b.WriteString(": failed")
	}
	return b.String()
}

// JobError reports a bulk job that failed, was killed, or completed with failed items.
// Wait returns it together with the final JobStatus.
type JobError struct {
	// JobID and Status identify the job and its final status.
	JobID, Status string
	// Message is the job's message, if any.
	Message string
	// Failed holds the results of the items that failed (may be empty when the job as a
	// whole failed or was killed).
	Failed []JobResult
}

// maxListedFailures caps how many failed items JobError.Error spells out.
const maxListedFailures = 10

// Error lists the job's failed items (the first ten, and how many more there are).
func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zendesk: job %s %s", e.JobID, e.Status)
	if e.Status == JobStatusCompleted {
		fmt.Fprintf(&b, " with %d failed item(s)", len(e.Failed))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for i, r := range e.Failed {
		if i == maxListedFailures {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-i)
			break
		}
		b.WriteString("; " + r.String())
	}
	return b.String()
}

// JobStatusesService reads bulk job statuses and waits for jobs to finish.
type JobStatusesService service

type jobStatusBody struct {
	JobStatus *JobStatus `json:"job_status"`
}

// List iterates over the account's recent jobs (Zendesk keeps the last 100), newest
// first (cursor pagination).
func (s *JobStatusesService) List(ctx context.Context) iter.Seq2[JobStatus, error] {
	return listCursor[JobStatus](ctx, s.client, "job_statuses", nil, "job_statuses")
}

// Get returns the status of one job.
func (s *JobStatusesService) Get(ctx context.Context, id string) (*JobStatus, *Response, error) {
	if id == "" {
		return nil, nil, errors.New("zendesk: get job status: job id is required")
	}
	var body jobStatusBody
	resp, err := s.client.call(ctx, http.MethodGet, "job_statuses/"+url.PathEscape(id), nil, nil, &body)
	return body.JobStatus, resp, err
}

// GetMany returns the statuses of several jobs (100 per request; more ids are fetched in
// several requests). Jobs Zendesk no longer knows are absent from the result.
func (s *JobStatusesService) GetMany(ctx context.Context, ids []string) ([]JobStatus, error) {
	for i, id := range ids {
		if id == "" || strings.Contains(id, ",") {
			return nil, fmt.Errorf("zendesk: get job statuses: job ids[%d] %q is not a job id", i, id)
		}
	}
	return showMany[JobStatus](ctx, s.client, "job_statuses/show_many", "ids", ids, "job_statuses")
}

// WaitOptions tunes JobStatuses.Wait. Zero values mean the defaults.
type WaitOptions struct {
	// PollInterval is the wait before the second poll (the first is immediate); it
	// doubles after every poll up to MaxPollInterval. Default 1s.
	PollInterval time.Duration
	// MaxPollInterval caps the wait between polls. Default 30s.
	MaxPollInterval time.Duration
}

// Default polling intervals of Wait.
const (
	defaultPollInterval    = time.Second
	defaultMaxPollInterval = 30 * time.Second
)

// Wait polls a job until it is completed, failed or killed, backing off between polls,
// and returns its final status. When the job failed or was killed, or any of its items
// failed, Wait returns the status together with a *JobError listing the failures. It
// stops with ctx's error when ctx ends first (set a deadline: a stuck job is polled
// until then), and with the polling error if a poll fails (a 404 means Zendesk has
// forgotten the job, after about an hour); both come with the last status seen, if any.
func (s *JobStatusesService) Wait(ctx context.Context, id string, opts *WaitOptions) (*JobStatus, error) {
	if id == "" {
		return nil, errors.New("zendesk: wait for job: job id is required")
	}
	interval, maxInterval := defaultPollInterval, defaultMaxPollInterval
	if opts != nil {
		if opts.PollInterval < 0 || opts.MaxPollInterval < 0 {
			return nil, errors.New("zendesk: wait for job: poll intervals must not be negative")
		}
		if opts.PollInterval > 0 {
			interval = opts.PollInterval
		}
		if opts.MaxPollInterval > 0 {
			maxInterval = opts.MaxPollInterval
		}
	}
	maxInterval = max(maxInterval, interval)
	var timer *time.Timer
	var last *JobStatus
	for {
		job, _, err := s.Get(ctx, id)
		if err != nil {
			return last, fmt.Errorf("zendesk: wait for job %s: %w", id, err)
		}
		if job == nil {
			return last, fmt.Errorf("zendesk: wait for job %s: the answer had no job_status", id)
		}
		last = job
		if job.Done() {
			return job, job.err()
		}
		if timer == nil {
			timer = time.NewTimer(interval)
			defer timer.Stop()
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			return job, fmt.Errorf("zendesk: wait for job %s (last status %s): %w", id, job.Status, ctx.Err())
		case <-timer.C:
		}
		interval = min(interval*2, maxInterval)
	}
}

// err is the *JobError of a finished job, or nil if it and all its items succeeded.
func (j *JobStatus) err() error {
	failed := j.Failed()
	if j.Status == JobStatusCompleted && len(failed) == 0 {
		return nil
	}
	return &JobError{JobID: j.ID, Status: j.Status, Message: j.Message, Failed: failed}
}
