package zendeskaccess

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func seq(from, to int64) []int64 {
	var out []int64
	for u := from; u <= to; u++ {
		out = append(out, u)
	}
	return out
}

// TestChooseLists: a group is listed only where that takes fewer requests
// than reading its users, counting only users not read for another group.
func TestChooseLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		users      map[int64][]int64
		sizes      map[int64]int
		optimistic bool
		want       map[int64]bool
	}{
		{"all members of a large group", map[int64][]int64{1: seq(1, 1000)}, map[int64]int{1: 1000}, false, map[int64]bool{1: true}},
		{"a few of a large group", map[int64][]int64{1: seq(1, 3)}, map[int64]int{1: 5000}, false, map[int64]bool{1: false}},
		{"pages equal to users", map[int64][]int64{1: seq(1, 10)}, map[int64]int{1: 1000}, false, map[int64]bool{1: false}},
		{"one page fewer", map[int64][]int64{1: seq(1, 11)}, map[int64]int{1: 1000}, false, map[int64]bool{1: true}},
		{"an empty group", map[int64][]int64{1: seq(1, 50)}, map[int64]int{1: 0}, false, map[int64]bool{1: false}},
		{"users beyond the members are read", map[int64][]int64{1: seq(1, 50)}, map[int64]int{1: 48}, false, map[int64]bool{1: true}},
		{"users beyond the members are read: 1 page and 48 reads", map[int64][]int64{1: seq(1, 50)}, map[int64]int{1: 2}, false, map[int64]bool{1: true}},
		{"users beyond the members are read: 1 page and 49 reads", map[int64][]int64{1: seq(1, 50)}, map[int64]int{1: 1}, false, map[int64]bool{1: false}},
		{"unknown size", map[int64][]int64{1: seq(1, 500)}, nil, false, map[int64]bool{1: false}},
		{"unknown size, optimistic, 2 users", map[int64][]int64{1: seq(1, 2)}, nil, true, map[int64]bool{1: false}},
		{"unknown size, optimistic, 3 users", map[int64][]int64{1: seq(1, 3)}, nil, true, map[int64]bool{1: true}},
		{"users read for another group count for nothing",
			map[int64][]int64{1: seq(1, 12), 2: seq(1, 5)}, map[int64]int{1: 1000, 2: 5000}, false, map[int64]bool{1: false, 2: false}},
		{"a chain of groups tipped to reads",
			map[int64][]int64{1: seq(1, 12), 2: seq(1, 5), 3: seq(6, 20)}, map[int64]int{1: 1000, 2: 5000, 3: 1000}, false,
			map[int64]bool{1: false, 2: false, 3: false}},
		{"mixed", map[int64][]int64{1: seq(1, 1000), 2: seq(1, 3), 3: seq(10, 50)}, map[int64]int{1: 1000, 2: 5000, 3: 60}, false,
			map[int64]bool{1: true, 2: false, 3: true}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, chooseLists(tt.users, tt.sizes, tt.optimistic)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}
