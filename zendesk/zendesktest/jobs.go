package zendesktest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	jobRetention  = time.Hour
	jobListLimit  = 100
	maxActiveJobs = 30
)

// jobResult is one entry of job_status.results. Its members are written when
// set: id when not 0, index when not negative, action and status when not
// empty; success whenever there is an action or the item failed (a plain
// creation is {id,index}); error and details when the item failed.
type jobResult struct {
	id      int64
	index   int // -1: none
	action  string
	status  string
	success bool
	err     string
	details string
}

// The shapes of the job results the simulator writes.

// created is a creation of a membership or a user: {id,index}.
func created(id int64, index int) jobResult { return jobResult{id: id, index: index, success: true} }

// changed is a record the job updated, deleted or created in an upsert:
// {id,action,status,success:true}.
func changed(id int64, action, status string) jobResult {
	return jobResult{id: id, index: -1, action: action, status: status, success: true}
}

// itemFailed is an item the job could not process: {id,action,success:false,
// error,details}, with index instead of id when there is no record.
func itemFailed(id int64, index int, action string, e *apiError) jobResult {
	d := e.desc
	if e.ddesc != "" {
		d = strings.TrimSpace(e.ddesc)
	}
	code := e.code
	if e.detail != "" {
		code = e.detail
	}
	if id != 0 {
		index = -1
	}
	return jobResult{id: id, index: index, action: action, err: code, details: d}
}

type jobRec struct {
	seq      int64
	id       string
	jobType  string
	status   string
	total    int
	progress int
	message  string
	results  []jobResult
	created  time.Time
	run      func(st *store, now int64) []jobResult
}

type jobTable struct {
	list   []*jobRec // by seq
	byID   map[string]*jobRec
	next   int64
	active int
}

func newJobTable() jobTable { return jobTable{byID: map[string]*jobRec{}} }

// prune drops expired jobs and keeps the newest jobListLimit.
func (t *jobTable) prune(now time.Time) {
	keep := t.list[:0]
	for i, j := range t.list {
		finished := j.status == "completed" || j.status == "failed"
		if finished && (now.Sub(j.created) > jobRetention || len(t.list)-i > jobListLimit) {
			delete(t.byID, j.id)
			continue
		}
		keep = append(keep, j)
	}
	clear(t.list[len(keep):])
	t.list = keep
}

func (t *jobTable) get(id string, now time.Time) *jobRec {
	j := t.byID[id]
	if j == nil || now.Sub(j.created) > jobRetention && j.status == "completed" {
		return nil
	}
	return j
}

// enqueue registers a job and hands it to the worker. Called with s.mu held.
func (s *Server) enqueue(jobType string, total int, run func(st *store, now int64) []jobResult) (*jobRec, *apiError) {
	t := &s.st.jobs
	now := s.now()
	t.prune(now)
	if t.active >= maxActiveJobs {
		return nil, &apiError{status: http.StatusTooManyRequests, code: "TooManyJobs",
			desc: fmt.Sprintf("Only %d jobs can be queued or running at the same time", maxActiveJobs), retryIn: 1}
	}
	t.next++
	j := &jobRec{seq: t.next, id: fmt.Sprintf("%016x%016x", splitmix64(uint64(t.next)), splitmix64(uint64(t.next)^0x5a)),
		jobType: jobType, status: "queued", total: total, created: now, run: run}
	select {
	case s.jobQueue <- j:
	default:
		t.next--
		return nil, &apiError{status: http.StatusTooManyRequests, code: "TooManyJobs", desc: "job queue is full", retryIn: 1}
	}
	t.list = append(t.list, j)
	t.byID[j.id] = j
	t.active++
	return j, nil
}

// runJobs executes queued jobs: queued -> working -> completed, each step
// after the configured job delay.
func (s *Server) runJobs() {
	defer s.wg.Done()
	wait := func() bool {
		if s.cfg.jobDelay == 0 {
			return true
		}
		t := time.NewTimer(s.cfg.jobDelay)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-s.done:
			return false
		}
	}
	for {
		var j *jobRec
		select {
		case j = <-s.jobQueue:
		case <-s.done:
			return
		}
		if !wait() {
			return
		}
		s.mu.Lock()
		j.status = "working"
		s.mu.Unlock()
		if !wait() {
			return
		}
		s.mu.Lock()
		now := s.now()
		j.results = j.run(s.st, now.Unix())
		j.run = nil
		j.progress = j.total
		j.status = "completed"
		j.message = "Completed at " + now.UTC().Format("2006-01-02 15:04:05 -0700")
		s.st.jobs.active--
		s.mu.Unlock()
	}
}

func (s *store) writeJob(w *jw, base string, j *jobRec) {
	w.open()
	w.str("id", j.id)
	w.str("url", base+"/job_statuses/"+j.id+".json")
	w.str("job_type", j.jobType)
	w.str("status", j.status)
	w.i64("total", int64(j.total))
	if j.status == "queued" {
		w.null("progress")
	} else {
		w.i64("progress", int64(j.progress))
	}
	w.strN("message", j.message)
	if j.results == nil {
		w.null("results")
	} else {
		w.key("results")
		w.openArray()
		for _, r := range j.results {
			w.elem()
			w.open()
			if r.id != 0 {
				w.i64("id", r.id)
			}
			if r.index >= 0 {
				w.i64("index", int64(r.index))
			}
			if r.action != "" {
				w.str("action", r.action)
			}
			if r.status != "" {
				w.str("status", r.status)
			}
			if r.action != "" || !r.success {
				w.boolean("success", r.success)
			}
			if !r.success {
				w.str("error", r.err)
				w.str("details", r.details)
			}
			w.close()
		}
		w.closeArray()
	}
	w.close()
}

func handleListJobStatuses(c *call) {
	pr, e := parsePage(c, true)
	if e != nil {
		c.fail(e)
		return
	}
	pr.cursor = true
	if pr.size == 0 {
		pr.size = defaultPageSize
	}
	c.s.mu.Lock() // prune mutates
	st := c.s.st
	st.jobs.prune(c.s.now())
	list := st.jobs.list
	v := seq{n: len(list), id: func(i int) int64 { return list[i].seq }}
	body := c.writeList("job_statuses", v, pr, func(w *jw, i int) { st.writeJob(w, c.base, list[i]) })
	c.s.mu.Unlock()
	c.ok(http.StatusOK, body)
}

func handleShowJobStatus(c *call) {
	c.one(http.StatusOK, "job_status", func(st *store, w *jw) *apiError {
		j := st.jobs.get(c.strIDs[0], c.s.now())
		if j == nil {
			return errNotFound()
		}
		st.writeJob(w, c.base, j)
		return nil
	})
}

func handleShowManyJobStatuses(c *call) {
	if len(c.q["ids"]) > 1 {
		c.fail(errBadRequest("InvalidValue", "ids: give the ids once, separated by commas (ids=a,b), not as repeated ids parameters"))
		return
	}
	raw := c.query("ids")
	if strings.TrimSpace(raw) == "" {
		c.fail(errBadRequest("InvalidValue", "ids is required"))
		return
	}
	ids := strings.Split(raw, ",")
	if len(ids) > 100 {
		c.fail(errBadRequest("TooManyValues", "ids: at most 100 ids are allowed"))
		return
	}
	c.s.mu.RLock()
	st := c.s.st
	var found []*jobRec
	for _, id := range ids {
		if j := st.jobs.get(strings.TrimSpace(id), c.s.now()); j != nil {
			found = append(found, j)
		}
	}
	body := wrapMany("job_statuses", len(found), func(w *jw, i int) { st.writeJob(w, c.base, found[i]) })
	c.s.mu.RUnlock()
	c.ok(http.StatusOK, body)
}

// jobAnswer renders {"job_status":...} for a new job. Called with s.mu held.
func (c *call) jobAnswer(j *jobRec) []byte {
	return wrapOne("job_status", func(w *jw) { c.s.st.writeJob(w, c.base, j) })
}
