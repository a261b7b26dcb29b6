package fieldpath_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/fieldpath"
)

type geo struct{ Lat, Lng float64 }

type place struct {
	City string
	Geo  geo
}

type record struct {
	Name   string
	Count  int64
	Place  place
	Tags   []string
	Custom map[string]customfield.Value
}

var recordFields = fieldpath.New(func(r *record) *map[string]customfield.Value { return &r.Custom },
	fieldpath.Value("name", func(r *record) *string { return &r.Name }),
	fieldpath.Group("place", func(r *record) *place { return &r.Place },
		fieldpath.Value("city", func(p *place) *string { return &p.City }),
		fieldpath.Group("geo", func(p *place) *geo { return &p.Geo },
			fieldpath.Value("lat", func(g *geo) *float64 { return &g.Lat }),
			fieldpath.Value("lng", func(g *geo) *float64 { return &g.Lng }))),
	fieldpath.Slice("tags", func(r *record) *[]string { return &r.Tags }),
	fieldpath.Value("count", func(r *record) *int64 { return &r.Count }),
)

func str(s string) customfield.Value { return customfield.StringValue(s) }

func TestPaths(t *testing.T) {
	t.Parallel()
	want := []string{"name", "place.city", "place.geo.lat", "place.geo.lng", "tags", "count"}
	got := recordFields.Paths()
	if !slices.Equal(got, want) {
		t.Fatalf("Paths() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if recordFields.Paths()[0] != "name" {
		t.Fatal("Paths() returned the table's own slice")
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path   string
		want   []string
		wantOK bool
	}{
		{"name", []string{"name"}, true},
		{"place", []string{"place.city", "place.geo.lat", "place.geo.lng"}, true},
		{"place.geo", []string{"place.geo.lat", "place.geo.lng"}, true},
		{"place.geo.lat", []string{"place.geo.lat"}, true},
		{"custom_fields", nil, true},
		{"custom_fields.tier", []string{"custom_fields.tier"}, true},
		{"custom_fields.Bad Name", nil, false},
		{"custom_fields.", nil, false},
		{"place.zip", nil, false},
		{"tier", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got, ok := recordFields.Expand(tt.path)
			if !slices.Equal(got, tt.want) || ok != tt.wantOK {
				t.Errorf("Expand(%q) = %v, %v; want %v, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCustomName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path     string
		name     string
		customOK bool
	}{
		{"name", "name", false},
		{"custom_fields.tier", "tier", true},
		{"custom_fields.9x", "9x", false},
		{"custom_fields", "custom_fields", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			if name, ok := recordFields.CustomName(tt.path); name != tt.name || ok != tt.customOK {
				t.Errorf("CustomName(%q) = %q, %v; want %q, %v", tt.path, name, ok, tt.name, tt.customOK)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	base := record{Name: "a", Count: 1, Place: place{City: "Lyon", Geo: geo{Lat: 1}},
		Tags: []string{"x"}, Custom: map[string]customfield.Value{"tier": str("gold")}}
	tests := []struct {
		name  string
		edit  func(*record)
		path  string
		equal bool
	}{
		{"same value", func(*record) {}, "name", true},
		{"other value", func(r *record) { r.Name = "b" }, "name", false},
		{"other leaf changed", func(r *record) { r.Name = "b" }, "count", true},
		{"nested leaf", func(r *record) { r.Place.Geo.Lat = 2 }, "place.geo.lat", false},
		{"nested sibling", func(r *record) { r.Place.Geo.Lat = 2 }, "place.geo.lng", true},
		{"slice element", func(r *record) { r.Tags = []string{"y"} }, "tags", false},
		{"slice longer", func(r *record) { r.Tags = []string{"x", "y"} }, "tags", false},
		{"slice copy", func(r *record) { r.Tags = []string{"x"} }, "tags", true},
		{"custom same", func(r *record) { r.Custom = map[string]customfield.Value{"tier": str("gold")} }, "custom_fields.tier", true},
		{"custom other", func(r *record) { r.Custom = map[string]customfield.Value{"tier": str("silver")} }, "custom_fields.tier", false},
		{"custom removed", func(r *record) { r.Custom = nil }, "custom_fields.tier", false},
		{"custom absent in both", func(r *record) { r.Custom = nil }, "custom_fields.size", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			other := base
			tt.edit(&other)
			if got := recordFields.Equal(base, other, tt.path); got != tt.equal {
				t.Errorf("Equal(%q) = %v, want %v", tt.path, got, tt.equal)
			}
		})
	}
}

func TestEqualNilAndEmptySlice(t *testing.T) {
	t.Parallel()
	if !recordFields.Equal(record{}, record{Tags: []string{}}, "tags") {
		t.Error("a nil and an empty slice differ")
	}
}

func TestCopy(t *testing.T) {
	t.Parallel()
	src := record{Name: "src", Count: 7, Place: place{City: "Paris", Geo: geo{Lat: 48, Lng: 2}},
		Tags: []string{"a", "b"}, Custom: map[string]customfield.Value{"tier": str("gold")}}
	tests := []struct {
		name  string
		dst   record
		paths []string
		want  record
	}{
		{"no paths", record{Name: "dst"}, nil, record{Name: "dst"}},
		{"one leaf", record{Name: "dst", Count: 1}, []string{"name"},
			record{Name: "src", Count: 1}},
		{"nested leaf only", record{Place: place{City: "Lyon", Geo: geo{Lat: 45}}}, []string{"place.geo.lng"},
			record{Place: place{City: "Lyon", Geo: geo{Lat: 45, Lng: 2}}}},
		{"slice", record{}, []string{"tags"}, record{Tags: []string{"a", "b"}}},
		{"custom into nil map", record{}, []string{"custom_fields.tier"},
			record{Custom: map[string]customfield.Value{"tier": str("gold")}}},
		{"custom absent deletes", record{Custom: map[string]customfield.Value{"size": str("l"), "tier": str("x")}},
			[]string{"custom_fields.size", "custom_fields.tier"},
			record{Custom: map[string]customfield.Value{"tier": str("gold")}}},
		{"custom absent from nil map", record{}, []string{"custom_fields.size"}, record{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dst := tt.dst
			recordFields.Copy(&dst, src, tt.paths...)
			if !reflect.DeepEqual(dst, tt.want) {
				t.Errorf("Copy(%v) = %+v, want %+v", tt.paths, dst, tt.want)
			}
		})
	}
}

func TestCopySliceDoesNotAlias(t *testing.T) {
	t.Parallel()
	src := record{Tags: []string{"a"}}
	var dst record
	recordFields.Copy(&dst, src, "tags")
	dst.Tags[0] = "changed"
	if src.Tags[0] != "a" {
		t.Error("the copy shares the source's backing array")
	}
	recordFields.Copy(&dst, record{Tags: []string{}}, "tags")
	if dst.Tags != nil {
		t.Errorf("copying an empty slice gave %#v, want nil", dst.Tags)
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	d := record{Name: "n", Count: 3, Place: place{City: "Lyon"}, Custom: map[string]customfield.Value{"tier": str("gold"), "size": str("l")}}
	got := recordFields.Pick(d, "count", "place", "custom_fields.tier")
	want := record{Count: 3, Custom: map[string]customfield.Value{"tier": str("gold")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Pick = %+v, want %+v (a group path is not a leaf)", got, want)
	}
	got.Custom["tier"] = str("changed")
	if d.Custom["tier"] != str("gold") {
		t.Error("Pick shares the source's custom-field map")
	}
}

func TestSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"empty", nil, nil},
		{"table order", []string{"count", "tags", "name"}, []string{"name", "tags", "count"}},
		{"duplicates dropped", []string{"name", "count", "name"}, []string{"name", "count"}},
		{"custom after, by name", []string{"custom_fields.z", "count", "custom_fields.a", "place.city"},
			[]string{"place.city", "count", "custom_fields.a", "custom_fields.z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := recordFields.Sort(tt.paths); !slices.Equal(got, tt.want) {
				t.Errorf("Sort(%v) = %v, want %v", tt.paths, got, tt.want)
			}
		})
	}
}

func TestCustomLeaves(t *testing.T) {
	t.Parallel()
	a := record{Custom: map[string]customfield.Value{"tier": str("gold"), "b": str("x")}}
	b := record{Custom: map[string]customfield.Value{"tier": str("silver"), "a": str("y")}}
	want := []string{"custom_fields.a", "custom_fields.b", "custom_fields.tier"}
	if got := recordFields.CustomLeaves(a, b); !slices.Equal(got, want) {
		t.Errorf("CustomLeaves = %v, want %v", got, want)
	}
	if got := recordFields.CustomLeaves(record{}); got != nil {
		t.Errorf("CustomLeaves of no fields = %v, want nil", got)
	}
}

func TestNewPanicsOnDuplicatePath(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New accepted two fields with the same path")
		}
	}()
	fieldpath.New(func(r *record) *map[string]customfield.Value { return &r.Custom },
		fieldpath.Value("name", func(r *record) *string { return &r.Name }),
		fieldpath.Value("name", func(r *record) *string { return &r.Name }))
}

// amount stands for a value == cannot compare (a decimal with an exponent): 10 and 10.00 are
// the same amount.
type amount struct{ digits []byte }

type priced struct {
	Price amount
	Note  string
}

func TestEqualLeafUsesTheGivenEquality(t *testing.T) {
	t.Parallel()
	canonical := func(a amount) string {
		s := string(a.digits)
		if strings.Contains(s, ".") {
			s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
		}
		return s
	}
	sameAmount := func(a, b amount) bool { return canonical(a) == canonical(b) }
	table := fieldpath.New(func(*priced) *map[string]customfield.Value { m := map[string]customfield.Value{}; return &m },
		fieldpath.Equal("price", func(p *priced) *amount { return &p.Price }, sameAmount),
		fieldpath.Value("note", func(p *priced) *string { return &p.Note }),
	)
	a := priced{Price: amount{[]byte("10.00")}, Note: "x"}
	tests := []struct {
		name string
		b    priced
		want bool
	}{
		{"same amount, other form", priced{Price: amount{[]byte("10")}}, true},
		{"other amount", priced{Price: amount{[]byte("10.5")}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := table.Equal(a, tc.b, "price"); got != tc.want {
				t.Fatalf("Equal(price) = %v, want %v", got, tc.want)
			}
		})
	}
	var dst priced
	table.Copy(&dst, a, "price")
	if string(dst.Price.digits) != "10.00" || dst.Note != "" {
		t.Fatalf("Copy(price) = %+v", dst)
	}
}
