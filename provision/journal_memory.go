package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// MemoryJournalStore is a JournalStore in memory, for tests, dry runs and
// programs that keep their journal elsewhere. It is safe for concurrent use.
// The zero value is not usable; call NewMemoryJournalStore.
type MemoryJournalStore struct {
	mu       sync.RWMutex
	entries  []JournalEntry   // entries[i].Seq == i+1
	byChange map[string][]int // change ID -> indexes into entries
	open     map[string]int   // change ID -> index of its started entry, until it finishes
}

// NewMemoryJournalStore returns an empty store.
func NewMemoryJournalStore() *MemoryJournalStore {
	return &MemoryJournalStore{byChange: map[string][]int{}, open: map[string]int{}}
}

var _ JournalStore = (*MemoryJournalStore)(nil)

// Head returns the last entry's Seq and Hash.
func (s *MemoryJournalStore) Head(ctx context.Context) (JournalHead, error) {
	if err := ctx.Err(); err != nil {
		return JournalHead{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.headLocked(), nil
}

func (s *MemoryJournalStore) headLocked() JournalHead {
	if len(s.entries) == 0 {
		return JournalHead{}
	}
	return s.entries[len(s.entries)-1].Head()
}

// Append adds entries after the head, all or none (see JournalStore).
func (s *MemoryJournalStore) Append(ctx context.Context, entries ...JournalEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	for i := 1; i < len(entries); i++ {
		if !entries[i].follows(entries[i-1].Head()) {
			return fmt.Errorf("provision: memory journal: append: entry %d of the batch (seq %d) does not follow the one before it (seq %d)", i, entries[i].Seq, entries[i-1].Seq)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	head := s.headLocked()
	if !entries[0].follows(head) {
		return fmt.Errorf("provision: memory journal: append seq %d after head %d: %w", entries[0].Seq, head.Seq, ErrJournalConflict)
	}
	for _, e := range entries {
		i := len(s.entries)
		s.entries = append(s.entries, cloneJournalEntry(e))
		s.byChange[e.ChangeID] = append(s.byChange[e.ChangeID], i)
		switch e.Kind {
		case JournalStarted:
			if _, ok := s.open[e.ChangeID]; !ok && !s.finishedLocked(e.ChangeID) {
				s.open[e.ChangeID] = i
			}
		case JournalFinished:
			delete(s.open, e.ChangeID)
		}
	}
	return nil
}

// finishedLocked reports whether the change has a finished entry.
func (s *MemoryJournalStore) finishedLocked(id string) bool {
	return slices.ContainsFunc(s.byChange[id], func(i int) bool { return s.entries[i].Kind == JournalFinished })
}

// Entries returns at most limit entries from Seq from on.
func (s *MemoryJournalStore) Entries(ctx context.Context, from int64, limit int) ([]JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, errors.New("provision: memory journal: entries: limit must be positive")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	lo := max(from, 1) - 1
	if lo >= int64(len(s.entries)) {
		return nil, nil
	}
	hi := min(lo+int64(limit), int64(len(s.entries)))
	out := make([]JournalEntry, 0, hi-lo)
	for _, e := range s.entries[lo:hi] {
		out = append(out, cloneJournalEntry(e))
	}
	return out, nil
}

// ChangeEntries returns the entries of one change.
func (s *MemoryJournalStore) ChangeEntries(ctx context.Context, changeID string) ([]JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []JournalEntry
	for _, i := range s.byChange[changeID] {
		out = append(out, cloneJournalEntry(s.entries[i]))
	}
	return out, nil
}

// Unfinished returns the started entries of changes without a finished
// entry.
func (s *MemoryJournalStore) Unfinished(ctx context.Context) ([]JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	idx := make([]int, 0, len(s.open))
	for _, i := range s.open {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	out := make([]JournalEntry, 0, len(idx))
	for _, i := range idx {
		out = append(out, cloneJournalEntry(s.entries[i]))
	}
	s.mu.RUnlock()
	return out, nil
}
