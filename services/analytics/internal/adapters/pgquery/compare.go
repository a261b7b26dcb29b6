package pgquery

import (
	"fmt"
	"math"
	"reflect"
	"time"
)

// FloatTolerance is the relative difference Diff allows between two float64s. The engines add
// floating-point values (Σ amount × probability, the average sales cycle) in different orders,
// and a sum of doubles depends on its order in the last bits; every other value (counts,
// integer sums, quantiles, keys, dates) must be equal.
const FloatTolerance = 1e-9

// Diff compares two results of the same metric (slices of chquery's row types), row by row
// and field by field, and describes the first difference; "" when they agree (floats within
// FloatTolerance, everything else exactly).
func Diff(want, got any) string {
	return diff("", reflect.ValueOf(want), reflect.ValueOf(got))
}

func diff(path string, a, b reflect.Value) string {
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: types %s and %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d rows vs %d:\n%+v\n%+v", path, a.Len(), b.Len(), a.Interface(), b.Interface())
		}
		for i := range a.Len() {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Struct:
		if t, ok := a.Interface().(time.Time); ok {
			if u := b.Interface().(time.Time); !t.Equal(u) {
				return fmt.Sprintf("%s: %v vs %v", path, t, u)
			}
			return ""
		}
		for i := range a.NumField() {
			if d := diff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		if x == y || math.Abs(x-y) <= FloatTolerance*math.Max(math.Abs(x), math.Abs(y)) {
			return ""
		}
		return fmt.Sprintf("%s: %v vs %v", path, x, y)
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return fmt.Sprintf("%s: %v vs %v", path, a.Interface(), b.Interface())
		}
		return ""
	}
}
