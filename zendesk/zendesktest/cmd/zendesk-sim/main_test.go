package main

import (
	"os"
	"strings"
	"testing"
)

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-plan", "gold"},
		{"-rpm", "-1"},
		{"-faults", "0.5", "-fault-kinds", "meteor"},
		{"-listen", "nonsense"},
		{"-users", "-3"},
	} {
		if err := run(args, os.Stdout); err == nil {
			t.Errorf("run(%s) succeeded", strings.Join(args, " "))
		}
	}
}
