package review

import (
	"fmt"
	"os"
	"time"
)

var debugStart = time.Now()
var debugLast = time.Now()

func debugf(format string, args ...any) {
	if os.Getenv("ZGOV_REVIEW_DEBUG") == "" {
		return
	}
	fmt.Fprintf(os.Stderr, "%8v +%8v "+format+"\n", append([]any{time.Since(debugStart).Round(time.Millisecond), time.Since(debugLast).Round(time.Millisecond)}, args...)...)
	debugLast = time.Now()
}
