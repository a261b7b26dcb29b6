package territory_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

func rr(id string, prio int32, reps ...string) territory.Territory {
	return territory.Territory{ID: id, Name: id, Priority: prio, Mode: territory.ModeRoundRobin, RepIDs: reps}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	catchAll := rr("catch-all", 100, "u0")
	dach := rr("dach", 10, "u1")
	dach.Countries = []string{"DE", "AT", "CH"}
	dachSoftware := rr("dach-software", 10, "u2")
	dachSoftware.Countries = []string{"DE", "AT", "CH"}
	dachSoftware.Industries = []string{"Software"}
	enterprise := rr("enterprise", 5, "u3")
	enterprise.MinEmployees = 5000
	bavaria := rr("bavaria", 10, "u4")
	bavaria.Countries = []string{"DE"}
	bavaria.Regions = []string{"Bayern"}
	tieA := rr("a-tie", 10, "u5")
	tieA.Countries = []string{"FR"}
	tieB := rr("b-tie", 10, "u6")
	tieB.Countries = []string{"FR"}
	smb := rr("smb", 20, "u7")
	smb.MaxEmployees = 50
	all := []territory.Territory{catchAll, dach, dachSoftware, enterprise, bavaria, tieB, tieA, smb}

	for _, tc := range []struct {
		name string
		f    territory.Facts
		want string
	}{
		{"nothing specific: catch-all", territory.Facts{Country: "BR"}, "catch-all"},
		{"country", territory.Facts{Country: "AT"}, "dach"},
		{"more specific wins at equal priority", territory.Facts{Country: "de", Industry: "software"}, "dach-software"},
		{"priority beats specificity", territory.Facts{Country: "DE", Industry: "Software", EmployeeCount: 9000}, "enterprise"},
		{"region, case-insensitive", territory.Facts{Country: "DE", Region: "bayern"}, "bavaria"},
		{"equal priority and specificity: smallest id", territory.Facts{Country: "FR"}, "a-tie"},
		{"band upper bound", territory.Facts{Country: "BR", EmployeeCount: 50}, "smb"},
		{"band excludes unknown size", territory.Facts{Country: "BR", EmployeeCount: 0}, "catch-all"},
		{"band excludes bigger", territory.Facts{Country: "BR", EmployeeCount: 51}, "catch-all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := territory.Match(all, tc.f)
			require.True(t, ok)
			assert.Equal(t, tc.want, got.ID)
			// Deterministic whatever the order of the list.
			shuffled := append([]territory.Territory(nil), all...)
			rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			again, _ := territory.Match(shuffled, tc.f)
			assert.Equal(t, tc.want, again.ID)
		})
	}
	_, ok := territory.Match([]territory.Territory{dach}, territory.Facts{Country: "US"})
	assert.False(t, ok)
}

func TestPickRep(t *testing.T) {
	t.Parallel()
	ter := rr("t", 1, "ann", "bob", "cy")
	var got []string
	for c := uint64(0); c < 7; c++ {
		got = append(got, territory.PickRep(ter, c))
	}
	assert.Equal(t, []string{"ann", "bob", "cy", "ann", "bob", "cy", "ann"}, got)
	assert.Equal(t, "ann", territory.PickRep(ter, ^uint64(0)), "the largest cursor still picks: (2^64−1) mod 3 = 0")
	fixed := territory.Territory{Mode: territory.ModeFixedOwner, OwnerID: "olga"}
	assert.Equal(t, "olga", territory.PickRep(fixed, 42))
	assert.Equal(t, "", territory.PickRep(territory.Territory{Mode: territory.ModeRoundRobin}, 3))
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		t      territory.Territory
		fields []string
	}{
		{"valid round-robin", rr("emea", 1, "a", "b"), nil},
		{"valid fixed", territory.Territory{ID: "x", Name: "X", Mode: territory.ModeFixedOwner, OwnerID: "o"}, nil},
		{"everything wrong", territory.Territory{ID: "bad id", Priority: -1, Countries: []string{"DEU"},
			MinEmployees: 100, MaxEmployees: 10, Mode: territory.ModeUnspecified},
			[]string{"t.id", "t.name", "t.priority", "t.countries[0]", "t.max_employees", "t.assignment_mode"}},
		{"round-robin without reps", territory.Territory{ID: "x", Name: "X", Mode: territory.ModeRoundRobin}, []string{"t.rep_ids"}},
		{"duplicate rep", rr("x", 1, "a", "a"), []string{"t.rep_ids[1]"}},
		{"fixed without owner", territory.Territory{ID: "x", Name: "X", Mode: territory.ModeFixedOwner, RepIDs: []string{"a"}},
			[]string{"t.owner_id", "t.rep_ids"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v apperr.Violations
			tc.t.Validate("t.", &v)
			var got []string
			for _, f := range v {
				got = append(got, f.Field)
			}
			assert.Equal(t, tc.fields, got)
		})
	}
	n := territory.Territory{ID: "x", Name: " X ", Countries: []string{" de ", ""}}.Normalize()
	assert.Equal(t, []string{"DE"}, n.Countries)
	assert.Equal(t, "X", n.Name)
}
