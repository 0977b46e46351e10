package zendesktest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const incrementalCursorPrefix = "zi1:"

func encodeIncrementalCursor(pos int) string {
	return base64.StdEncoding.EncodeToString([]byte(incrementalCursorPrefix + strconv.Itoa(pos)))
}

func decodeIncrementalCursor(s string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), incrementalCursorPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// handleIncrementalUsers is GET /incremental/users/cursor: users changed
// since start_time, oldest change first, each user once at its latest
// change. Deleted users are included (active:false).
func handleIncrementalUsers(c *call) {
	perPage := 1000
	if v := c.query("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			c.fail(errBadRequest("InvalidValue", "per_page must be a positive integer"))
			return
		}
		perPage = min(n, 1000)
	}
	var body []byte
	var e *apiError
	c.s.read(func(st *store) { body, e = c.incrementalPage(st, perPage) })
	if e != nil {
		c.fail(e)
		return
	}
	c.ok(http.StatusOK, body)
}

func (c *call) incrementalPage(st *store, perPage int) ([]byte, *apiError) {
	start := 0
	switch {
	case c.has("cursor"):
		n, ok := decodeIncrementalCursor(c.query("cursor"))
		if !ok || n > len(st.changes) {
			return nil, errBadRequest("InvalidCursor", "cursor is not valid")
		}
		start = n
	case c.has("start_time"):
		t, err := strconv.ParseInt(c.query("start_time"), 10, 64)
		if err != nil || t < 0 {
			return nil, errBadRequest("InvalidValue", "start_time must be a Unix timestamp in seconds")
		}
		if t > c.nowUnix()-60 {
			return nil, errBadRequest("InvalidValue", "Too recent start_time. Use a start_time older than 1 minute")
		}
		start = sort.Search(len(st.changes), func(i int) bool { return st.changes[i].ts >= t })
	default:
		return nil, errBadRequest("InvalidValue", "start_time or cursor is required")
	}
	w := jw{b: make([]byte, 0, 8192)}
	w.open()
	w.key("users")
	w.openArray()
	i, n := start, 0
	for ; i < len(st.changes) && n < perPage; i++ {
		ch := st.changes[i]
		if st.users[ch.pos].changeIdx != int32(i) {
			continue // superseded by a later change
		}
		w.elem()
		st.writeUser(&w, c.base, int(ch.pos))
		n++
	}
	w.closeArray()
	after := encodeIncrementalCursor(i)
	w.str("after_cursor", after)
	w.str("after_url", strings.TrimSuffix(c.selfURL(), ".json")+"?cursor="+url.QueryEscape(after))
	w.null("before_cursor")
	w.null("before_url")
	w.boolean("end_of_stream", i >= len(st.changes))
	w.close()
	return w.b, nil
}
