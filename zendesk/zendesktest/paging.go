package zendesktest

import (
	"cmp"
	"encoding/base64"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const (
	maxPageSize     = 100
	offsetLimit     = 10_000
	cursorPrefix    = "zs1:"
	defaultPageSize = 100
)

// pageReq is a parsed pagination request.
type pageReq struct {
	cursor  bool
	size    int
	after   int64 // exclusive lower bound (page[after])
	before  int64 // exclusive upper bound (page[before]); 0 = none
	page    int   // offset pagination, 1-based
	perPage int
}

func encodeCursor(id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id >= 0
}

// parsePage reads page[size], page[after], page[before] (cursor) or page and
// per_page (offset). Cursor pagination is used when any page[...] member is
// present and cursorOK.
func parsePage(c *call, cursorOK bool) (pageReq, *apiError) {
	pr := pageReq{page: 1, perPage: defaultPageSize}
	if cursorOK && (c.has("page[size]") || c.has("page[after]") || c.has("page[before]")) {
		pr.cursor = true
		pr.size = defaultPageSize
		if v := c.query("page[size]"); c.has("page[size]") {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return pr, errPagination("page[size] must be a positive integer")
			}
			if n > maxPageSize {
				return pr, errPagination("page[size] must be less than or equal to 100")
			}
			pr.size = n
		}
		if c.has("page[after]") && c.has("page[before]") {
			return pr, errPagination("page[after] and page[before] cannot be used together")
		}
		if c.has("page[after]") {
			id, ok := decodeCursor(c.query("page[after]"))
			if !ok {
				return pr, errPagination("page[after] is not a valid cursor")
			}
			pr.after = id
		}
		if c.has("page[before]") {
			id, ok := decodeCursor(c.query("page[before]"))
			if !ok || id == 0 {
				return pr, errPagination("page[before] is not a valid cursor")
			}
			pr.before = id
		}
		return pr, nil
	}
	if v := c.query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pr, errPagination("page must be a positive integer")
		}
		pr.page = n
	}
	if v := c.query("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pr, errPagination("per_page must be a positive integer")
		}
		pr.perPage = min(n, maxPageSize)
	}
	if (pr.page-1)*pr.perPage >= offsetLimit {
		return pr, errPagination("Offset pagination is limited to the first 10000 records; use cursor pagination (page[size]) to go further")
	}
	return pr, nil
}

// seq is an ordered sequence of records, with a filter. Records are in
// ascending id order unless cmp is set; a cursor names a record by its id.
type seq struct {
	n  int
	id func(i int) int64 // ascending in i, unless cmp is set
	ok func(i int) bool  // nil = all
	// cmp, when set, is the list's order: it compares record i with the
	// record whose id a cursor carries (negative when i comes first). The
	// records must be sorted by it. Nil means the order of ids.
	cmp func(i int, cursorID int64) int
}

func (v seq) keep(i int) bool { return v.ok == nil || v.ok(i) }

// compare is v.cmp, or the order of ids.
func (v seq) compare(i int, cursorID int64) int {
	if v.cmp != nil {
		return v.cmp(i, cursorID)
	}
	return cmp.Compare(v.id(i), cursorID)
}

// cursorPage selects the page and reports whether more records exist in
// the direction of travel.
func (v seq) cursorPage(pr pageReq) (idx []int, hasMore bool) {
	if pr.before != 0 {
		end := sort.Search(v.n, func(i int) bool { return v.compare(i, pr.before) >= 0 })
		i := end - 1
		for ; i >= 0 && len(idx) < pr.size; i-- {
			if v.keep(i) {
				idx = append(idx, i)
			}
		}
		for ; i >= 0; i-- {
			if v.keep(i) {
				hasMore = true
				break
			}
		}
		for l, r := 0, len(idx)-1; l < r; l, r = l+1, r-1 {
			idx[l], idx[r] = idx[r], idx[l]
		}
		return idx, hasMore
	}
	i := 0 // no page[after]: from the start
	if pr.after != 0 {
		i = sort.Search(v.n, func(i int) bool { return v.compare(i, pr.after) > 0 })
	}
	for ; i < v.n && len(idx) < pr.size; i++ {
		if v.keep(i) {
			idx = append(idx, i)
		}
	}
	for ; i < v.n; i++ {
		if v.keep(i) {
			hasMore = true
			break
		}
	}
	return idx, hasMore
}

// offsetPage selects an offset page and counts all records.
func (v seq) offsetPage(pr pageReq) (idx []int, count int) {
	skip := (pr.page - 1) * pr.perPage
	for i := 0; i < v.n; i++ {
		if !v.keep(i) {
			continue
		}
		if count >= skip && len(idx) < pr.perPage {
			idx = append(idx, i)
		}
		count++
	}
	return idx, count
}

// writeList renders a paginated list response for collection key.
func (c *call) writeList(key string, v seq, pr pageReq, render func(w *jw, i int)) []byte {
	var idx []int
	var hasMore bool
	count := 0
	if pr.cursor {
		idx, hasMore = v.cursorPage(pr)
	} else {
		idx, count = v.offsetPage(pr)
	}
	// About 1 KiB per record (a user is ~900 bytes) avoids regrowing the buffer.
	w := jw{b: make([]byte, 0, 1024*len(idx)+1024)}
	w.open()
	w.key(key)
	w.openArray()
	for _, i := range idx {
		w.elem()
		render(&w, i)
	}
	w.closeArray()
	if pr.cursor {
		w.key("meta")
		w.open()
		w.boolean("has_more", hasMore)
		var after, before string
		if len(idx) > 0 {
			after, before = encodeCursor(v.id(idx[len(idx)-1])), encodeCursor(v.id(idx[0]))
		}
		w.strN("after_cursor", after)
		w.strN("before_cursor", before)
		w.close()
		w.key("links")
		w.open()
		w.strN("prev", c.pageLink(before, "page[before]", pr.size))
		w.strN("next", c.pageLink(after, "page[after]", pr.size))
		w.close()
	} else {
		next, prev := "", ""
		if pr.page*pr.perPage < count {
			next = c.offsetLink(pr.page+1, pr.perPage)
		}
		if pr.page > 1 {
			prev = c.offsetLink(pr.page-1, pr.perPage)
		}
		w.strN("next_page", next)
		w.strN("previous_page", prev)
		w.i64("count", int64(count))
	}
	w.close()
	return w.b
}

// selfURL is the request URL, absolute, without its query.
func (c *call) selfURL() string {
	return strings.TrimSuffix(c.base, "/api/v2") + c.r.URL.Path
}

func (c *call) pageLink(cursor, param string, size int) string {
	if cursor == "" {
		return ""
	}
	q := url.Values{}
	for k, v := range c.q {
		if !strings.HasPrefix(k, "page[") {
			q[k] = v
		}
	}
	q.Set(param, cursor)
	q.Set("page[size]", strconv.Itoa(size))
	return c.selfURL() + "?" + q.Encode()
}

func (c *call) offsetLink(page, perPage int) string {
	q := url.Values{}
	for k, v := range c.q {
		if k != "page" && k != "per_page" {
			q[k] = v
		}
	}
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	return c.selfURL() + "?" + q.Encode()
}

// list serves a paginated list: parse, render under the read lock, write.
func (c *call) list(key string, cursorOK bool, build func(st *store) (seq, func(w *jw, i int), *apiError)) {
	pr, e := parsePage(c, cursorOK)
	if e != nil {
		c.fail(e)
		return
	}
	var body []byte
	c.s.read(func(st *store) {
		var v seq
		var render func(w *jw, i int)
		v, render, e = build(st)
		if e == nil {
			body = c.writeList(key, v, pr, render)
		}
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.ok(200, body)
}

// positions returns a seq over a slice of record positions (a per-user or
// per-group index); ids ascend with positions.
func positions(list []int32, id func(p int32) int64) seq {
	return seq{n: len(list), id: func(i int) int64 { return id(list[i]) }}
}

// sortedPositions returns a seq over a copy of list sorted by the records'
// order, which compare gives for two record ids (it must be total: ties
// broken by id), and the sorted copy. The cursor of such a list is a record
// id, placed by compare against the records, so that a page after a record
// stays right when records are added or removed between requests.
func sortedPositions(list []int32, id func(p int32) int64, compare func(a, b int64) int) (seq, []int32) {
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b int32) int { return compare(id(a), id(b)) })
	return seq{n: len(sorted), id: func(i int) int64 { return id(sorted[i]) },
		cmp: func(i int, cursorID int64) int { return compare(id(sorted[i]), cursorID) }}, sorted
}
