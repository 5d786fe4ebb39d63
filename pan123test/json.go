package pan123test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"slices"
	"strconv"
	"strings"
)

// jsonType is the JSON type a request key must have.
type jsonType int

const (
	tString jsonType = iota
	tInt             // a JSON number without fraction or exponent
	tBool
	tStrings // a string or an array of strings (image-bed mkdir name)
)

func (t jsonType) String() string {
	return [...]string{"string", "integer number", "boolean", "string or array of strings"}[t]
}

// field is one key an endpoint accepts, spelled exactly as documented.
type field struct {
	name     string
	typ      jsonType
	required bool
}

// args are the decoded values of a strict JSON body: string, int64, bool or []string.
type args map[string]any

func (a args) str(k string) string    { s, _ := a[k].(string); return s }
func (a args) int(k string) int64     { n, _ := a[k].(int64); return n }
func (a args) bool(k string) bool     { b, _ := a[k].(bool); return b }
func (a args) strs(k string) []string { s, _ := a[k].([]string); return s }

// checkJSONContentType requires Content-Type: application/json.
func checkJSONContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return badRequest("Content-Type must be application/json, got %q", ct)
	}
	return nil
}

// decodeStrict decodes a JSON object whose keys must be exactly those in
// fields (case-sensitive, unlike encoding/json), each of the declared type.
// Unknown, duplicate, missing required and mistyped keys are errors.
func decodeStrict(body []byte, fields []field) (args, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, badRequest("body must be a JSON object")
	}
	raw := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badRequest("malformed JSON: %v", err)
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, badRequest("malformed JSON: %v", err)
		}
		if _, dup := raw[key]; dup {
			return nil, badRequest("duplicate key %q", key)
		}
		raw[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, badRequest("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("trailing data after the JSON object")
	}

	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.ContainsFunc(fields, func(f field) bool { return f.name == k }) {
			continue
		}
		for _, f := range fields {
			if strings.EqualFold(f.name, k) {
				return nil, badRequest("unknown key %q (the key is spelled %q)", k, f.name)
			}
		}
		return nil, badRequest("unknown key %q", k)
	}

	a := args{}
	for _, f := range fields {
		v, ok := raw[f.name]
		if !ok {
			if f.required {
				return nil, badRequest("missing key %q", f.name)
			}
			continue
		}
		val, ok := convert(v, f.typ)
		if !ok {
			return nil, badRequest("key %q must be a %s, got %s", f.name, f.typ, v)
		}
		a[f.name] = val
	}
	return a, nil
}

func convert(v json.RawMessage, t jsonType) (any, bool) {
	s := string(v)
	switch t {
	case tString:
		var out string
		return out, strings.HasPrefix(s, `"`) && json.Unmarshal(v, &out) == nil
	case tInt:
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	case tBool:
		return s == "true", s == "true" || s == "false"
	case tStrings:
		if str, ok := convert(v, tString); ok {
			return []string{str.(string)}, true
		}
		var items []json.RawMessage
		if !strings.HasPrefix(s, "[") || json.Unmarshal(v, &items) != nil {
			return nil, false
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			str, ok := convert(it, tString)
			if !ok {
				return nil, false
			}
			out = append(out, str.(string))
		}
		return out, true
	}
	return nil, false
}
