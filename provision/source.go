package provision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The errors of policies and directories, matched with errors.Is through a
// *FieldError.
var (
	// ErrInvalidPolicy means a policy is malformed: a syntax error, an
	// unknown or missing field, a role that is not a built-in one, a rule
	// that gives nothing, an invalid ladder.
	ErrInvalidPolicy = errors.New("invalid policy")
	// ErrUnknownName means a policy names a group, organization, custom
	// role or role the snapshot does not hold.
	ErrUnknownName = errors.New("unknown name")
	// ErrAmbiguousName means a policy names a group, organization or custom
	// role by a name several of them share; name it by id instead.
	ErrAmbiguousName = errors.New("ambiguous name")
	// ErrInvalidDirectory means a directory file is malformed, or a
	// directory contradicts itself (one person with two external ids).
	// A person without a valid e-mail address is access.ErrInvalidPerson.
	ErrInvalidDirectory = errors.New("invalid directory")
	// ErrUnknownDirectoryGroup means the directory has no group of the
	// name a rule gives. Directory implementations wrap it.
	ErrUnknownDirectoryGroup = errors.New("unknown directory group")
)

// FieldError is a problem with one field of a policy or a directory: where
// it is and what is wrong. It reads like a compiler's message:
//
//	policy.yaml:12: rules[2].groups[1]: no group named "Tier 3" in the snapshot
//
// and matches its Kind with errors.Is.
type FieldError struct {
	// Source is the file name given to ParsePolicy or ParseDirectory (or
	// read by LoadPolicy or LoadDirectory), or "policy" or "directory" for
	// one built in Go.
	Source string
	// Line is the 1-based line of the field in Source; 0 when unknown (a
	// policy built in Go).
	Line int
	// Field is the path of the field, such as "rules[2].groups[1]"; empty
	// for the file as a whole.
	Field string
	// Reason says what is wrong.
	Reason string
	// Kind is the sentinel the error matches: ErrInvalidPolicy,
	// ErrUnknownName, ErrAmbiguousName, ErrInvalidDirectory,
	// ErrUnknownDirectoryGroup or access.ErrInvalidPerson.
	Kind error
}

// Error returns "source:line: field: reason".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns Kind.
func (e *FieldError) Unwrap() error { return e.Kind }

// maxFieldErrors is how many problems a file reports at most: enough to fix
// a file in one go, few enough to read.
const maxFieldErrors = 20

// fieldErrors collects the problems of one file.
type fieldErrors struct {
	source string
	kind   error
	list   []*FieldError
	more   int
}

func (fe *fieldErrors) add(line int, field, format string, args ...any) {
	fe.addKind(fe.kind, line, field, format, args...)
}

func (fe *fieldErrors) addKind(kind error, line int, field, format string, args ...any) {
	if len(fe.list) == maxFieldErrors {
		fe.more++
		return
	}
	fe.list = append(fe.list, &FieldError{Source: fe.source, Line: line, Field: field, Reason: fmt.Sprintf(format, args...), Kind: kind})
}

// err returns nil, the one problem, or all of them joined in the order of
// their lines (errors.As finds the first).
func (fe *fieldErrors) err() error {
	if len(fe.list) == 0 {
		return nil
	}
	slices.SortStableFunc(fe.list, func(a, b *FieldError) int { return a.Line - b.Line })
	if len(fe.list) == 1 {
		return fe.list[0]
	}
	errs := make([]error, 0, len(fe.list)+1)
	for _, e := range fe.list {
		errs = append(errs, e)
	}
	if fe.more > 0 {
		errs = append(errs, fmt.Errorf("%s: %d more problems", fe.source, fe.more))
	}
	return errors.Join(errs...)
}

// isJSON reports whether a file is read as JSON: by its name.
func isJSON(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".json") }

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parseTree parses YAML or JSON into a yaml.Node tree: the node of the
// document's content, with lines for every field. Both formats go through
// one tree so that both report the same errors at the same fields; JSON is
// read token by token with encoding/json, and the byte offset of each token
// gives its line.
func parseTree(fe *fieldErrors, data []byte) *yaml.Node {
	if isJSON(fe.source) {
		return parseJSONTree(fe, data)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		fe.add(0, "", "the file is empty")
		return nil
	}
	if err == nil {
		// One document only: a second (after "---") would be ignored by a
		// reader that takes the first, and people in it would be planned
		// as leavers.
		var next yaml.Node
		if nerr := dec.Decode(&next); !errors.Is(nerr, io.EOF) {
			line := next.Line
			if nerr != nil {
				line = 0
			}
			fe.add(line, "", "the file holds more than one YAML document (a \"---\" separator): put everything in one")
			return nil
		}
	}
	if err != nil {
		msg := err.Error()
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		fe.add(line, "", "not valid YAML: %s", msg)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		fe.add(0, "", "the file is empty")
		return nil
	}
	return doc.Content[0]
}

// lineOf returns the 1-based line of byte offset off in data.
func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// parseJSONTree reads JSON into a yaml.Node tree.
func parseJSONTree(fe *fieldErrors, data []byte) *yaml.Node {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// start returns the offset where the next token begins: InputOffset is
	// the end of the previous one, before white space and separators.
	start := func() int64 {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
			off++
		}
		return off
	}
	fail := func(err error) *yaml.Node {
		var se *json.SyntaxError
		off := start()
		if errors.As(err, &se) {
			off = se.Offset
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		fe.add(lineOf(data, off), "", "not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
		return nil
	}
	var value func(depth int) (*yaml.Node, error)
	value = func(depth int) (*yaml.Node, error) {
		if depth > 64 {
			return nil, errors.New("json: nested more than 64 deep")
		}
		line := lineOf(data, start())
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		n := &yaml.Node{Line: line, Column: 1}
		switch t := tok.(type) {
		case json.Delim:
			closing := json.Delim(']')
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			if t == '{' {
				closing = '}'
				n.Kind, n.Tag = yaml.MappingNode, "!!map"
			}
			for dec.More() {
				if n.Kind == yaml.MappingNode {
					kline := lineOf(data, start())
					k, err := dec.Token()
					if err != nil {
						return nil, err
					}
					n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string), Line: kline, Column: 1})
				}
				v, err := value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			if end, err := dec.Token(); err != nil || end != closing {
				return nil, cmpOrErr(err, fmt.Errorf("json: expected %q", closing))
			}
		case string:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!str", t
		case json.Number:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!int", t.String()
			if strings.ContainsAny(n.Value, ".eE") {
				n.Tag = "!!float"
			}
		case bool:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", strconv.FormatBool(t)
		case nil:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
		}
		return n, nil
	}
	root, err := value(0)
	if err != nil {
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("json: data after the top-level value")
		}
		return fail(err)
	}
	return root
}

func cmpOrErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// fields walks a mapping node: each key must be one of handlers (an
// unknown field is a problem, with its line), at most once; required keys
// must be present.
func fields(fe *fieldErrors, n *yaml.Node, path string, required []string, handlers map[string]func(v *yaml.Node, path string)) {
	if n.Kind != yaml.MappingNode {
		fe.add(n.Line, path, "want a mapping of fields, got %s", describeNode(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := join(path, k.Value)
		h, ok := handlers[k.Value]
		switch {
		case k.Kind != yaml.ScalarNode:
			fe.add(k.Line, path, "a field name must be a string")
		case !ok:
			fe.add(k.Line, sub, "unknown field (want %s)", strings.Join(slices.Sorted(keysOf(handlers)), ", "))
		case seen[k.Value]:
			fe.add(k.Line, sub, "field given twice")
		case v.Kind == yaml.AliasNode:
			fe.add(v.Line, sub, "YAML aliases are not supported")
		default:
			seen[k.Value] = true
			h(v, sub)
		}
	}
	for _, r := range required {
		if !seen[r] {
			fe.add(n.Line, join(path, r), "missing")
		}
	}
}

func keysOf[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// sequence walks a sequence node, or reports a problem.
func sequence(fe *fieldErrors, n *yaml.Node, path string, each func(i int, v *yaml.Node, path string)) {
	if n.Kind != yaml.SequenceNode {
		fe.add(n.Line, path, "want a list, got %s", describeNode(n))
		return
	}
	for i, v := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if v.Kind == yaml.AliasNode {
			fe.add(v.Line, p, "YAML aliases are not supported")
			continue
		}
		each(i, v, p)
	}
}

// scalar returns a scalar's text: strings, and numbers and booleans as
// written (a directory group named 2024 is the string "2024").
func scalar(fe *fieldErrors, n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		fe.add(n.Line, path, "want a string, got %s", describeNode(n))
		return "", false
	}
	return n.Value, true
}

// boolean returns a boolean scalar.
func boolean(fe *fieldErrors, n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		fe.add(n.Line, path, "want true or false, got %s", describeNode(n))
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(n.Value))
	return b
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!null":
		return "nothing"
	case "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}
