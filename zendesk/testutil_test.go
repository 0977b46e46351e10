package zendesk

import (
	"context"
	"io"
	"testing"
	"time"
)

var errDeadline = context.DeadlineExceeded

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

// errAfter is a body that yields s and then fails as a connection cut mid-body does.
func errAfter(s string) io.ReadCloser {
	return &cutBody{data: []byte(s)}
}

type cutBody struct{ data []byte }

func (b *cutBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *cutBody) Close() error { return nil }
