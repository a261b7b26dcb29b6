package civil_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
)

func TestDate(t *testing.T) {
	t.Parallel()
	d := civil.New(2024, time.February, 28)
	assert.Equal(t, civil.New(2024, time.February, 29), d.AddDays(1), "leap year")
	assert.Equal(t, civil.New(2024, time.March, 1), d.AddDays(2))
	assert.Equal(t, civil.New(2023, time.December, 31), civil.New(2024, time.January, 1).AddDays(-1))
	assert.Equal(t, 366, civil.New(2025, time.January, 1).DaysSince(civil.New(2024, time.January, 1)))
	assert.Equal(t, -2, d.DaysSince(d.AddDays(2)))
	assert.Equal(t, "2024-02-28", d.String())
	assert.Empty(t, civil.Date{}.String())
	assert.True(t, civil.Date{}.IsZero())

	p, err := civil.Parse("2025-03-31")
	require.NoError(t, err)
	assert.Equal(t, civil.New(2025, time.March, 31), p)
	_, err = civil.Parse("2025-02-30")
	assert.Error(t, err)

	assert.True(t, d.Before(d.AddDays(1)))
	assert.True(t, d.AddDays(1).After(d))
	assert.Equal(t, 0, d.Compare(d))
	assert.Equal(t, -1, civil.New(2024, time.December, 31).Compare(civil.New(2025, time.January, 1)))
}

func TestDateValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    civil.Date
		want bool
	}{
		{civil.New(2024, time.February, 29), true},
		{civil.New(2025, time.February, 29), false},
		{civil.New(2025, time.April, 31), false},
		{civil.New(2025, 13, 1), false},
		{civil.New(0, time.January, 1), false},
		{civil.New(10000, time.January, 1), false},
		{civil.Date{}, false},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.d.Valid())
		})
	}
}

func TestDateOfUsesTheLocation(t *testing.T) {
	t.Parallel()
	instant := time.Date(2025, 3, 31, 23, 30, 0, 0, time.UTC)
	assert.Equal(t, civil.New(2025, time.March, 31), civil.DateOf(instant))
	assert.Equal(t, civil.New(2025, time.April, 1), civil.DateOf(instant.In(time.FixedZone("UTC+2", 2*3600))))
}

func TestPeriodStarts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d, month, quarter civil.Date
	}{
		{civil.New(2025, 1, 1), civil.New(2025, 1, 1), civil.New(2025, 1, 1)},
		{civil.New(2025, 3, 31), civil.New(2025, 3, 1), civil.New(2025, 1, 1)},
		{civil.New(2025, 4, 1), civil.New(2025, 4, 1), civil.New(2025, 4, 1)},
		{civil.New(2025, 8, 15), civil.New(2025, 8, 1), civil.New(2025, 7, 1)},
		{civil.New(2025, 12, 31), civil.New(2025, 12, 1), civil.New(2025, 10, 1)},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.month, tc.d.StartOfMonth())
			assert.Equal(t, tc.quarter, tc.d.StartOfQuarter())
		})
	}
}
