package review

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

// jsonItem is Item as the JSON export writes it: the principal as stored
// (the JSON of Principal, attributes included), copied without decoding.
// Its fields are Item's, with the same names (a test holds them equal).
type jsonItem struct {
	ID          int64           `json:"id"`
	Kind        ItemKind        `json:"kind"`
	Principal   json.RawMessage `json:"principal"`
	Grants      []ItemGrant     `json:"grants"`
	Reviewers   []Assignment    `json:"reviewers"`
	Outcome     Outcome         `json:"outcome"`
	Remediation Remediation     `json:"remediation"`
}

// jsonSink writes FormatJSON: the sections of Evidence in the order an
// export reads them (decisions, events, items), each record on a line,
// then the journal's verification.
type jsonSink struct {
	h       *exportHead
	bw      *bufio.Writer
	enc     *json.Encoder
	section int  // 0 decisions, 1 events, 2 items, 3 done
	first   bool // no record yet in the section
}

var jsonSections = []string{`"decisions":[`, `"events":[`, `"items":[`}

func newJSONSink(w io.Writer) *jsonSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonSink{bw: bw, enc: enc}
}

func (s *jsonSink) history() bool { return true }

func (s *jsonSink) begin(h *exportHead) error {
	s.h = h
	head := struct {
		Campaign   CampaignInfo `json:"campaign"`
		ExportedAt time.Time    `json:"exported_at,omitzero"`
		Version    string       `json:"zgov_version,omitempty"`
		Drift      *DriftReport `json:"drift,omitempty"`
	}{h.Info, h.ExportedAt, h.Version, h.Drift}
	data, err := json.Marshal(head)
	if err != nil {
		return err
	}
	// The head's object stays open for the sections.
	s.bw.Write(data[:len(data)-1])
	s.bw.WriteString(",\n" + jsonSections[0] + "\n")
	s.first = true
	return nil
}

// to closes sections up to section i and opens it.
func (s *jsonSink) to(i int) {
	for s.section < i {
		s.bw.WriteString("]")
		s.section++
		if s.section < len(jsonSections) {
			s.bw.WriteString(",\n" + jsonSections[s.section] + "\n")
		}
		s.first = true
	}
}

// record writes one record of the current section.
func (s *jsonSink) record(v any) error {
	if !s.first {
		s.bw.WriteString(",")
	}
	s.first = false
	return s.enc.Encode(v) // ends the line
}

func (s *jsonSink) batch(b *evidenceBatch) error {
	switch {
	case len(b.decisions) > 0:
		s.to(0)
		for _, d := range b.decisions {
			if err := s.record(d); err != nil {
				return err
			}
		}
	case len(b.events) > 0:
		s.to(1)
		for _, e := range b.events {
			if err := s.record(e); err != nil {
				return err
			}
		}
	case len(b.items) > 0:
		s.to(2)
		for i := range b.items {
			it := &b.items[i]
			if err := s.record(jsonItem{it.ID, it.Kind, it.principal, it.Grants, it.Reviewers, it.Outcome, it.Remediation}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *jsonSink) end() error {
	s.to(len(jsonSections))
	// The journal is verified after the campaign is read.
	data, err := json.Marshal(s.h.Journal)
	if err != nil {
		return err
	}
	s.bw.WriteString(",\n\"journal\":")
	s.bw.Write(data)
	s.bw.WriteString("}\n")
	return s.bw.Flush()
}
