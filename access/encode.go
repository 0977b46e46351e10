package access

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Format identifies the snapshot file format. Load rejects other formats.
const Format = "zgov.access.snapshot/v1"

// The canonical encoding of a snapshot is a JSON object with one item per
// line, so snapshot files diff well:
//
//	{"hash":"<hex sha256>",
//	"provenance":{...},
//	"format":"zgov.access.snapshot/v1",
//	"resource_types":[
//	{"id":"group","name":"Group","traits":["group"]},
//	...],
//	"resources":[...],
//	"entitlements":[...],
//	"grants":[...]}
//
// The hash covers the bytes from `"format"` up to, not including, the final
// "}\n": the content without the provenance. Items are sorted by ID, object
// keys appear in a fixed order, empty fields are omitted, attribute keys are
// sorted, and strings are escaped minimally (only '"', '\\' and control
// characters), so equal content always encodes to equal bytes.

// Save writes the snapshot's canonical encoding to w.
func (s *Snapshot) Save(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	prov, err := json.Marshal(s.prov)
	if err != nil {
		return fmt.Errorf("access: save snapshot: provenance: %w", err)
	}
	bw.WriteString(`{"hash":"` + s.hash + "\",\n\"provenance\":")
	bw.Write(prov)
	bw.WriteString(",\n")
	if err := s.writeContent(bw); err != nil {
		return fmt.Errorf("access: save snapshot: %w", err)
	}
	bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("access: save snapshot: %w", err)
	}
	return nil
}

// WriteFile writes the snapshot to the named file, atomically: it writes a
// temporary file in the same directory and renames it.
func (s *Snapshot) WriteFile(name string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("access: write snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := s.Save(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("access: write snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("access: write snapshot: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("access: write snapshot: %w", err)
	}
	return nil
}

// ReadFile loads a snapshot from the named file; see Load.
func ReadFile(name string) (*Snapshot, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("access: read snapshot: %w", err)
	}
	defer f.Close()
	s, err := Load(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// computeHash returns the hex SHA-256 of the canonical content.
func (s *Snapshot) computeHash() string {
	h := sha256.New()
	bw := bufio.NewWriterSize(h, 64<<10)
	s.writeContent(bw) // writes to a hash cannot fail
	bw.Flush()
	return hex.EncodeToString(h.Sum(nil))
}

// writeContent writes the hashed part of the canonical encoding.
func (s *Snapshot) writeContent(w *bufio.Writer) error {
	buf := make([]byte, 0, 1024)
	w.WriteString(`"format":"` + Format + "\",\n\"resource_types\":[")
	for i, t := range s.types {
		buf = appendSep(buf[:0], i)
		buf = appendType(buf, t)
		w.Write(buf)
	}
	w.WriteString("],\n\"resources\":[")
	for i, r := range s.resources {
		buf = appendSep(buf[:0], i)
		buf = appendRecord(buf, r.id, r.name, r.attrs, nil)
		w.Write(buf)
	}
	w.WriteString("],\n\"entitlements\":[")
	for i, e := range s.entitlements {
		buf = appendSep(buf[:0], i)
		buf = appendRecord(buf, e.id, e.name, e.attrs, &e)
		w.Write(buf)
	}
	w.WriteString("],\n\"grants\":[")
	for i, g := range s.grants {
		buf = appendSep(buf[:0], i)
		buf = appendRecord(buf, g.id, g.name, g.attrs, nil)
		w.Write(buf)
	}
	_, err := w.WriteString("]")
	return err
}

func appendSep(buf []byte, i int) []byte {
	if i > 0 {
		buf = append(buf, ',')
	}
	return append(buf, '\n')
}

func appendType(buf []byte, t ResourceType) []byte {
	buf = append(buf, `{"id":`...)
	buf = appendString(buf, t.ID)
	if t.DisplayName != "" {
		buf = append(buf, `,"name":`...)
		buf = appendString(buf, t.DisplayName)
	}
	if len(t.Traits) > 0 {
		buf = append(buf, `,"traits":[`...)
		for i, tr := range t.Traits {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, string(tr))
		}
		buf = append(buf, ']')
	}
	if t.IDSyntax != IDSyntaxAny {
		buf = append(buf, `,"id_syntax":`...)
		buf = appendString(buf, string(t.IDSyntax))
	}
	return append(buf, '}')
}

// appendRecord appends a resource, entitlement (e != nil) or grant.
func appendRecord(buf []byte, id, name string, attrs Attributes, e *EntitlementRecord) []byte {
	buf = append(buf, `{"id":`...)
	buf = appendString(buf, id)
	if name != "" {
		buf = append(buf, `,"name":`...)
		buf = appendString(buf, name)
	}
	if e != nil {
		buf = append(buf, `,"purpose":`...)
		buf = appendString(buf, string(e.purpose))
		buf = append(buf, `,"grantable_to":[`...)
		for i, t := range e.grantableTo {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, t)
		}
		buf = append(buf, ']')
	}
	if len(attrs) > 0 {
		buf = append(buf, `,"attributes":{`...)
		var small [16]string
		keys := small[:0]
		for k := range attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, k)
			buf = append(buf, ':')
			buf = appendString(buf, attrs[k])
		}
		buf = append(buf, '}')
	}
	return append(buf, '}')
}

// appendString appends s as a JSON string, escaping only what JSON requires.
// s must be valid UTF-8 (checked before items enter a snapshot).
func appendString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// The JSON shapes Load decodes into.
type (
	fileJSON struct {
		Hash          string            `json:"hash"`
		Provenance    Provenance        `json:"provenance"`
		Format        string            `json:"format"`
		ResourceTypes []typeJSON        `json:"resource_types"`
		Resources     []recordJSON      `json:"resources"`
		Entitlements  []entitlementJSON `json:"entitlements"`
		Grants        []recordJSON      `json:"grants"`
	}
	typeJSON struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Traits   []Trait  `json:"traits"`
		IDSyntax IDSyntax `json:"id_syntax"`
	}
	recordJSON struct {
		ID         string     `json:"id"`
		Name       string     `json:"name"`
		Attributes Attributes `json:"attributes"`
	}
	entitlementJSON struct {
		ID          string     `json:"id"`
		Name        string     `json:"name"`
		Purpose     Purpose    `json:"purpose"`
		GrantableTo []string   `json:"grantable_to"`
		Attributes  Attributes `json:"attributes"`
	}
)

// Load reads a snapshot written by Save. It rejects, with an error wrapping
// ErrInvalidSnapshot (of type *SnapshotError), input that is not the
// snapshot format, has unknown fields or trailing data, holds invalid or
// inconsistent items, or whose content does not match its hash (wrapping
// ErrHashMismatch too). Saving a loaded snapshot reproduces the input
// byte for byte if the input was written by Save.
func Load(r io.Reader) (*Snapshot, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f fileJSON
	if err := dec.Decode(&f); err != nil {
		return nil, &SnapshotError{Reason: "decode", Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &SnapshotError{Reason: "trailing data after the snapshot"}
	}
	if f.Format != Format {
		return nil, &SnapshotError{Reason: fmt.Sprintf("format %s, want %q", quoteShort(f.Format), Format)}
	}
	if len(f.Hash) != sha256.Size*2 {
		return nil, &SnapshotError{Reason: "hash is not a hex SHA-256"}
	}
	f.Provenance.TakenAt = f.Provenance.TakenAt.UTC()

	types := make([]ResourceType, len(f.ResourceTypes))
	for i, t := range f.ResourceTypes {
		types[i] = ResourceType{ID: t.ID, DisplayName: t.Name, Traits: t.Traits, IDSyntax: t.IDSyntax}
	}
	res := make([]ResourceRecord, len(f.Resources))
	for i, x := range f.Resources {
		res[i] = NewResource(x.ID, x.Name, x.Attributes)
		if err := checkResource(res[i]); err != nil {
			return nil, &SnapshotError{Reason: "resources", Err: err}
		}
	}
	f.Resources = nil
	ents := make([]EntitlementRecord, len(f.Entitlements))
	for i, x := range f.Entitlements {
		ents[i] = NewEntitlement(x.ID, x.Name, x.Purpose, x.GrantableTo, x.Attributes)
		if err := checkEntitlement(ents[i]); err != nil {
			return nil, &SnapshotError{Reason: "entitlements", Err: err}
		}
	}
	f.Entitlements = nil
	grants := make([]GrantRecord, len(f.Grants))
	for i, x := range f.Grants {
		grants[i] = GrantRecord{id: x.ID, name: x.Name, attrs: normAttrs(x.Attributes)}
		if err := checkGrant(grants[i]); err != nil {
			return nil, &SnapshotError{Reason: "grants", Err: err}
		}
	}
	f.Grants = nil

	s, _, err := assemble(types, res, ents, grants, false)
	if err != nil {
		return nil, &SnapshotError{Reason: "content", Err: err}
	}
	s.prov = f.Provenance
	s.hash = s.computeHash()
	if s.hash != f.Hash {
		return nil, &SnapshotError{Reason: fmt.Sprintf("content hashes to %s, file records %s", s.hash, quoteShort(f.Hash)), Err: ErrHashMismatch}
	}
	return s, nil
}
