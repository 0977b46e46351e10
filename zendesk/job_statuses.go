package zendesk

// JobStatus is the state of an asynchronous bulk job. Per-item failures appear only in
// Results, even when Status is "completed": check each result's Success.
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

// JobResult is the outcome of one item of a bulk job.
type JobResult struct {
	ID      int64  `json:"id,omitempty"`
	Index   *int   `json:"index,omitempty"`
	Action  string `json:"action,omitempty"`
	Status  string `json:"status,omitempty"`
	Success *bool  `json:"success,omitempty"`
	Error   string `json:"error,omitempty"`
	Details string `json:"details,omitempty"`
}

// JobStatusesService reads bulk job statuses and waits for jobs to finish.
type JobStatusesService service
