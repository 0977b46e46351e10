package zendesktest

// Group and organization memberships are kept the same way: records in id
// order, their positions listed by user and by target (group or
// organization), a count of live ones, and one default per user mirrored in
// a field of the user (default_group_id or organization_id). The rules for
// who may join what differ and stay with each kind (store.go); the
// bookkeeping below is shared.

// memberRec is a membership record type (gmRec or omRec) as the shared
// bookkeeping sees it.
type memberRec[R any] interface {
	*R
	base() *membership
	target() int64 // the group or organization id
	setTarget(id int64)
	userDefault(u *userRec) *int64 // the user's field naming the default target
}

func (m *membership) base() *membership { return m }

func (m *gmRec) target() int64               { return m.groupID }
func (m *gmRec) setTarget(id int64)          { m.groupID = id }
func (*gmRec) userDefault(u *userRec) *int64 { return &u.defaultGroupID }
func (m *omRec) target() int64               { return m.orgID }
func (m *omRec) setTarget(id int64)          { m.orgID = id }
func (*omRec) userDefault(u *userRec) *int64 { return &u.orgID }

// members is a view of one kind of membership in a store. It holds the
// store's position lists as they are, so it must not outlive the addition
// of a user, group or organization; take a fresh one for each operation.
type members[R any, P memberRec[R]] struct {
	s          *store
	recs       *[]R
	byUser     [][]int32 // by user position: positions in recs, ascending
	byTarget   [][]int32 // by group or organization position
	live       *int
	idBase     int64 // ids of records: idBase + position + 1
	targetBase int64 // id range of the targets
}

func (s *store) gmTable() members[gmRec, *gmRec] {
	return members[gmRec, *gmRec]{s: s, recs: &s.gms, byUser: s.userGMs, byTarget: s.groupGMs,
		live: &s.liveGMs, idBase: gmBase, targetBase: groupBase}
}

func (s *store) omTable() members[omRec, *omRec] {
	return members[omRec, *omRec]{s: s, recs: &s.oms, byUser: s.userOMs, byTarget: s.orgOMs,
		live: &s.liveOMs, idBase: omBase, targetBase: orgBase}
}

func (t members[R, P]) at(pos int32) P { return P(&(*t.recs)[pos]) }

// pos returns the position of the live membership id, or -1.
func (t members[R, P]) pos(id int64) int {
	p := posOf(id, t.idBase, len(*t.recs))
	if p >= 0 && t.at(int32(p)).base().gone {
		return -1
	}
	return p
}

// find returns the position of user upos's membership of target, or -1.
func (t members[R, P]) find(upos int, target int64) int {
	for _, p := range t.byUser[upos] {
		if t.at(p).target() == target {
			return int(p)
		}
	}
	return -1
}

// link appends a membership of user upos in target tpos (whose id is
// target), created at the given time, indexes it and counts it live,
// without touching the user or its other memberships. It returns the
// membership's position.
func (t members[R, P]) link(upos, tpos int, target int64, isDefault bool, at int64) int {
	pos := len(*t.recs)
	var zero R
	*t.recs = append(*t.recs, zero)
	m := t.at(int32(pos)) // filled in place: a local R would escape
	*m.base() = membership{id: t.idBase + int64(pos) + 1, userID: t.s.users[upos].id,
		createdAt: at, updatedAt: at, isDefault: isDefault}
	m.setTarget(target)
	t.byUser[upos] = append(t.byUser[upos], int32(pos))
	t.byTarget[tpos] = append(t.byTarget[tpos], int32(pos))
	*t.live++
	return pos
}

// setDefault makes the membership at pos the only default among user
// upos's memberships (pos -1: none), stamping those it changes.
func (t members[R, P]) setDefault(upos, pos int, now int64) {
	for _, p := range t.byUser[upos] {
		m := t.at(p).base()
		if want := int(p) == pos; m.isDefault != want {
			m.isDefault = want
			m.updatedAt = now
		}
	}
}

// pointUser sets the user's default field to target, stamping the user if
// it changes.
func (t members[R, P]) pointUser(upos int, target int64, now int64) {
	u := &t.s.users[upos]
	if f := P(nil).userDefault(u); *f != target {
		*f = target
		t.s.touchUser(upos, now)
	}
}

// add creates the membership of user upos in target tpos, created now.
// The first membership of a user is its default whatever makeDefault says;
// a new default takes over from the old one.
func (t members[R, P]) add(upos, tpos int, target int64, makeDefault bool, now int64) int {
	isDefault := makeDefault || len(t.byUser[upos]) == 0
	if isDefault {
		t.setDefault(upos, -1, now)
	}
	pos := t.link(upos, tpos, target, isDefault, now)
	if isDefault {
		t.pointUser(upos, target, now)
	}
	return pos
}

// remove marks the membership at pos gone and unindexes it. When it was the
// user's default, the oldest remaining membership becomes the default.
func (t members[R, P]) remove(pos int, now int64) {
	mp := t.at(int32(pos))
	m := mp.base()
	if m.gone {
		return
	}
	m.gone = true
	*t.live--
	upos := t.s.userPos(m.userID)
	tpos := posOf(mp.target(), t.targetBase, len(t.byTarget))
	t.byUser[upos] = removeInt32(t.byUser[upos], int32(pos))
	t.byTarget[tpos] = removeInt32(t.byTarget[tpos], int32(pos))
	if m.isDefault {
		f := mp.userDefault(&t.s.users[upos])
		*f = 0
		if rest := t.byUser[upos]; len(rest) > 0 {
			next := t.at(rest[0])
			next.base().isDefault = true
			next.base().updatedAt = now
			*f = next.target()
		}
		t.s.touchUser(upos, now)
	}
}

// makeDefault makes the membership at pos its user's default.
func (t members[R, P]) makeDefault(pos int, now int64) {
	mp := t.at(int32(pos))
	upos := t.s.userPos(mp.base().userID)
	t.setDefault(upos, pos, now)
	t.pointUser(upos, mp.target(), now)
}

// removeAllIn removes the memberships listed in lists[i], newest first;
// lists is the view's byUser or byTarget.
func (t members[R, P]) removeAllIn(lists [][]int32, i int, now int64) {
	for n := len(lists[i]); n > 0; n = len(lists[i]) {
		t.remove(int(lists[i][n-1]), now)
	}
}
