//go:build race

package review_test

// raceEnabled reports a -race build, in which the timed tests do not run:
// the race detector slows them tenfold.
const raceEnabled = true
