// Package fieldpath maps the paths of an update mask ("name", "billing_address.city",
// "custom_fields.tier") onto a Go struct, so that a domain package can expand a mask into leaf
// paths, compare before and after values leaf by leaf and copy the named leaves from one value
// to another. It uses no reflection and no protobuf: each package declares its leaves once, in
// canonical order, with small accessor funcs.
//
// A leaf is a path that names one value. A group ("billing_address") names all the leaves
// below it. "custom_fields" names the whole custom-field map and "custom_fields.<name>" one
// field of it; which names are in play depends on the values, so Expand leaves that to the
// caller (see CustomLeaves).
package fieldpath

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/evcrm/evcrm/libs/customfield"
)

// Mask paths of the custom-field map: CustomFields names the whole map, CustomPrefix followed by
// a field name (customfield.ValidName) names one field.
const (
	CustomFields = "custom_fields"
	CustomPrefix = CustomFields + "."
)

type leaf[D any] struct {
	path  string
	equal func(a, b D) bool
	copy  func(dst *D, src D)
}

// Field is one entry of a Table: a leaf made by Value or Slice, or a Group of them.
type Field[D any] struct {
	leaves []leaf[D]
	groups []string // group paths, outermost first
}

// Value returns the leaf at path for the comparable value that field points into.
func Value[D any, V comparable](path string, field func(*D) *V) Field[D] {
	return Field[D]{leaves: []leaf[D]{{
		path:  path,
		equal: func(a, b D) bool { return *field(&a) == *field(&b) },
		copy:  func(dst *D, src D) { *field(dst) = *field(&src) },
	}}}
}

// Equal returns the leaf at path for a value that field points into and that equal compares:
// for types == cannot compare, or compares wrongly (money.Money, whose decimal amounts may
// differ in exponent while equal). The value is copied by assignment.
func Equal[D, V any](path string, field func(*D) *V, equal func(a, b V) bool) Field[D] {
	return Field[D]{leaves: []leaf[D]{{
		path:  path,
		equal: func(a, b D) bool { return equal(*field(&a), *field(&b)) },
		copy:  func(dst *D, src D) { *field(dst) = *field(&src) },
	}}}
}

// Slice returns the leaf at path for a slice that is replaced as a whole. Slices are equal when
// their elements are (nil equals empty); a copy gets its own backing array, or nil when empty,
// so the copy never aliases the source.
func Slice[D any, E comparable](path string, field func(*D) *[]E) Field[D] {
	return Field[D]{leaves: []leaf[D]{{
		path:  path,
		equal: func(a, b D) bool { return slices.Equal(*field(&a), *field(&b)) },
		copy:  func(dst *D, src D) { *field(dst) = append([]E(nil), *field(&src)...) },
	}}}
}

// Group nests fields of the sub-struct that group points into under prefix: its leaves become
// "prefix.<path>", and prefix itself expands to all of them. Groups may nest.
func Group[D, G any](prefix string, group func(*D) *G, fields ...Field[G]) Field[D] {
	out := Field[D]{groups: []string{prefix}}
	for _, f := range fields {
		for _, g := range f.groups {
			out.groups = append(out.groups, prefix+"."+g)
		}
		for _, l := range f.leaves {
			out.leaves = append(out.leaves, leaf[D]{
				path:  prefix + "." + l.path,
				equal: func(a, b D) bool { return l.equal(*group(&a), *group(&b)) },
				copy:  func(dst *D, src D) { l.copy(group(dst), *group(&src)) },
			})
		}
	}
	return out
}

// Table holds the leaf paths of D in canonical order and its custom-field map. It is built once
// (New) and then only read, so it is safe for concurrent use.
type Table[D any] struct {
	paths  []string
	rank   map[string]int
	leaves map[string]leaf[D]
	groups map[string][]string
	custom func(*D) *map[string]customfield.Value
}

// New returns the table of fields, whose order is the canonical order of their leaves; custom
// points to D's custom-field map. It panics when two fields have the same path, which is a
// programming error.
func New[D any](custom func(*D) *map[string]customfield.Value, fields ...Field[D]) *Table[D] {
	t := &Table[D]{rank: map[string]int{}, leaves: map[string]leaf[D]{}, groups: map[string][]string{}, custom: custom}
	var groups []string
	for _, f := range fields {
		for _, l := range f.leaves {
			if _, dup := t.leaves[l.path]; dup {
				panic(fmt.Sprintf("fieldpath: duplicate path %q", l.path))
			}
			t.rank[l.path] = len(t.paths)
			t.paths = append(t.paths, l.path)
			t.leaves[l.path] = l
		}
		groups = append(groups, f.groups...)
	}
	for _, g := range groups {
		for _, p := range t.paths {
			if strings.HasPrefix(p, g+".") {
				t.groups[g] = append(t.groups[g], p)
			}
		}
	}
	return t
}

// Paths returns every leaf path that is not a custom field, in canonical order. The slice is the
// caller's.
func (t *Table[D]) Paths() []string { return slices.Clone(t.paths) }

// CustomName returns the field name in a "custom_fields.<name>" path and whether the path has
// that form with a valid name. Without the prefix the name is the whole path.
func (t *Table[D]) CustomName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, CustomPrefix)
	return name, ok && customfield.ValidName(name)
}

// Expand returns the leaf paths a mask path names, in canonical order, and whether the path is
// known: a group gives its leaves, a leaf or "custom_fields.<name>" itself. "custom_fields"
// is known but gives nothing: the names in play depend on the values (CustomLeaves).
func (t *Table[D]) Expand(path string) ([]string, bool) {
	if g, ok := t.groups[path]; ok {
		return slices.Clone(g), true
	}
	if path == CustomFields {
		return nil, true
	}
	if _, ok := t.leaves[path]; ok {
		return []string{path}, true
	}
	if _, ok := t.CustomName(path); ok {
		return []string{path}, true
	}
	return nil, false
}

// Equal reports whether a and b agree on the leaf path. A path that is not a leaf is taken as a
// custom field, present or absent in both; callers pass leaf paths only.
func (t *Table[D]) Equal(a, b D, path string) bool {
	if l, ok := t.leaves[path]; ok {
		return l.equal(a, b)
	}
	name, _ := t.CustomName(path)
	va, oka := (*t.custom(&a))[name]
	vb, okb := (*t.custom(&b))[name]
	return oka == okb && va == vb
}

// Copy sets the leaf paths of dst to their values in src; a custom field absent from src is
// deleted from dst. dst's custom-field map is written to, so it must not be shared.
func (t *Table[D]) Copy(dst *D, src D, paths ...string) {
	for _, path := range paths {
		if l, ok := t.leaves[path]; ok {
			l.copy(dst, src)
			continue
		}
		name, _ := t.CustomName(path)
		m := t.custom(dst)
		if v, ok := (*t.custom(&src))[name]; ok {
			if *m == nil {
				*m = map[string]customfield.Value{}
			}
			(*m)[name] = v
		} else {
			delete(*m, name)
		}
	}
}

// Pick returns a D holding only the leaf paths of d.
func (t *Table[D]) Pick(d D, paths ...string) D {
	var out D
	t.Copy(&out, d, paths...)
	return out
}

// Sort returns paths in canonical order without duplicates: table leaves in table order, then
// the others (custom fields) by name.
func (t *Table[D]) Sort(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := t.rank[out[i]]
		rj, jok := t.rank[out[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i] < out[j]
	})
	return out
}

// CustomLeaves returns the "custom_fields.<name>" paths of the fields set in any of ds, in
// canonical order: what a "custom_fields" mask names when moving from one value to another.
func (t *Table[D]) CustomLeaves(ds ...D) []string {
	var out []string
	for _, d := range ds {
		for name := range *t.custom(&d) {
			out = append(out, CustomPrefix+name)
		}
	}
	return t.Sort(out)
}
