package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// cursorMeta is the "meta" object of a cursor-paginated page.
type cursorMeta struct {
	HasMore      bool   `json:"has_more"`
	AfterCursor  string `json:"after_cursor"`
	BeforeCursor string `json:"before_cursor"`
}

// cursorLinks is the "links" object of a cursor-paginated page.
type cursorLinks struct {
	Next string `json:"next"`
	Prev string `json:"prev"`
}

// page is one decoded page of any list: the items under the list's key, plus whichever
// pagination fields the endpoint sent (cursor meta and links, or offset next_page).
type page[T any] struct {
	Items    []T
	Meta     cursorMeta
	Links    cursorLinks
	NextPage string // offset pagination
	Count    int    // offset pagination
	// Export pagination (incremental exports).
	AfterURL    string
	EndOfStream bool
	seenEnd     bool
}

// errNotObject is returned for a page body that is not a JSON object.
var errNotObject = errors.New("page is not a JSON object")

// decodePage decodes a list page in one pass, keeping only the list under key and the
// pagination fields; everything else is skipped without being materialised.
func decodePage[T any](body []byte, key string) (*page[T], error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	p := &page[T]{}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected token %v", tok)
		}
		switch name {
		case key:
			found = true
			err = dec.Decode(&p.Items)
		case "meta":
			err = dec.Decode(&p.Meta)
		case "links":
			err = dec.Decode(&p.Links)
		case "next_page":
			var s *string
			err = dec.Decode(&s)
			if s != nil {
				p.NextPage = *s
			}
		case "count":
			var n *int
			err = dec.Decode(&n)
			if n != nil {
				p.Count = *n
			}
		case "after_url":
			var s *string
			err = dec.Decode(&s)
			if s != nil {
				p.AfterURL = *s
			}
		case "end_of_stream":
			err = dec.Decode(&p.EndOfStream)
			p.seenEnd = true
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after page")
	}
	if !found {
		return nil, fmt.Errorf("page has no %q list", key)
	}
	return p, nil
}

// fetchPage requests one page and decodes it.
func fetchPage[T any](ctx context.Context, c *Client, path string, query url.Values, key string) (*page[T], error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	resp, raw, err := c.doRaw(req)
	if err != nil {
		return nil, err
	}
	p, err := decodePage[T](raw, key)
	if err != nil {
		return nil, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID, Err: err}
	}
	return p, nil
}

// nextPage tells walk where the page after p is: a path (relative or an absolute link)
// and query, or done. An error ends the list.
type nextPage[T any] func(p *page[T]) (path string, query url.Values, done bool, err error)

// walk iterates a paginated list from (path, query), asking next where each following
// page is. It yields an error at most once, then stops; a cancelled context ends the
// list with ctx.Err(), and a page asked for twice ends it with an error.
func walk[T any](ctx context.Context, c *Client, path string, query url.Values, key string, next nextPage[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		at, q := path, query
		seen := pageSet{}
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			if err := seen.add(at, q); err != nil {
				yield(zero, fmt.Errorf("zendesk: GET %s: %w", path, err))
				return
			}
			p, err := fetchPage[T](ctx, c, at, q, key)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			var done bool
			at, q, done, err = next(p)
			if err != nil {
				yield(zero, fmt.Errorf("zendesk: GET %s: %w", path, err))
				return
			}
			if done {
				return
			}
		}
	}
}

// listCursor iterates a cursor-paginated list: page[size] on the first request, then
// links.next (or meta.after_cursor) until meta.has_more is false.
func listCursor[T any](ctx context.Context, c *Client, path string, query url.Values, key string) iter.Seq2[T, error] {
	first := func() url.Values {
		q := cloneValues(query)
		q.Set("page[size]", strconv.Itoa(c.pageSize))
		return q
	}
	return walk(ctx, c, path, first(), key, func(p *page[T]) (string, url.Values, bool, error) {
		switch {
		case !p.Meta.HasMore:
			return "", nil, true, nil
		case p.Links.Next != "":
			return p.Links.Next, nil, false, nil
		case p.Meta.AfterCursor != "":
			q := first()
			q.Set("page[after]", p.Meta.AfterCursor)
			return path, q, false, nil
		}
		return "", nil, false, errors.New("has_more is true but the page has no next link or cursor")
	})
}

// listUnder iterates the cursor list {parent}/{id}/{child}, such as one user's group
// memberships, after checking id (idName names it in the error).
func listUnder[T any](ctx context.Context, c *Client, parent, idName string, id int64, child, key string) iter.Seq2[T, error] {
	if err := checkID(idName, id); err != nil {
		return errSeq[T](fmt.Errorf("zendesk: list %s: %w", strings.ReplaceAll(key, "_", " "), err))
	}
	return listCursor[T](ctx, c, parent+"/"+itoa(id)+"/"+child, nil, key)
}

// listOffset iterates an offset-paginated list (only user search needs it: Zendesk has
// no cursor there). Zendesk refuses pages past 10,000 records with a 400.
func listOffset[T any](ctx context.Context, c *Client, path string, query url.Values, key string) iter.Seq2[T, error] {
	q := cloneValues(query)
	q.Set("per_page", "100")
	return walk(ctx, c, path, q, key, func(p *page[T]) (string, url.Values, bool, error) {
		return p.NextPage, nil, p.NextPage == "" || len(p.Items) == 0, nil
	})
}

// listExport iterates an incremental export: after_url until end_of_stream.
func listExport[T any](ctx context.Context, c *Client, path string, query url.Values, key string) iter.Seq2[T, error] {
	return walk(ctx, c, path, query, key, func(p *page[T]) (string, url.Values, bool, error) {
		return p.AfterURL, nil, p.EndOfStream || !p.seenEnd || p.AfterURL == "", nil
	})
}

// pageSet remembers the pages a list has asked for, so that a server handing out a next
// link or cursor it already gave ends the list with an error instead of looping forever.
type pageSet map[string]struct{}

func (s pageSet) add(next string, q url.Values) error {
	key := next + "?" + q.Encode()
	if _, ok := s[key]; ok {
		return errors.New("the next page repeats a page already read (the cursor did not advance)")
	}
	s[key] = struct{}{}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Collect drains a list iterator into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for item, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, item)
	}
	return out, nil
}
