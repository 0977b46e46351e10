package zendesktest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// logCheckingWriter fails the test if the request is not yet in the server's log when
// the first byte of the answer is about to go out: a client that has its answer must
// find its request in Stats and RequestLog.
type logCheckingWriter struct {
	*httptest.ResponseRecorder
	t       *testing.T
	srv     *Server
	checked bool
}

func (w *logCheckingWriter) check() {
	if w.checked {
		return
	}
	w.checked = true
	if n := len(w.srv.RequestLog()); n != 1 {
		w.t.Errorf("request log has %d entries when the answer is sent, want 1", n)
	}
}

func (w *logCheckingWriter) WriteHeader(code int) { w.check(); w.ResponseRecorder.WriteHeader(code) }
func (w *logCheckingWriter) Write(p []byte) (int, error) {
	w.check()
	return w.ResponseRecorder.Write(p)
}

func TestRequestRecordedBeforeAnswerIsSent(t *testing.T) {
	srv, err := New(WithAccount(DemoAccount()))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cred := srv.Credentials()
	for _, path := range []string{"/api/v2/users/me", "/api/v2/no-such-path"} {
		srv.ResetStats()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.SetBasicAuth(cred.AdminEmail+"/token", cred.APIToken)
		w := &logCheckingWriter{ResponseRecorder: httptest.NewRecorder(), t: t, srv: srv}
		srv.ServeHTTP(w, req)
		if !w.checked {
			t.Fatalf("%s: nothing was written", path)
		}
		if log := srv.RequestLog(); len(log) != 1 || log[0].Status != w.Code {
			t.Errorf("%s: log %+v, want one entry with status %d", path, log, w.Code)
		}
	}
}
