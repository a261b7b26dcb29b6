package chwriter

import (
	"reflect"
	"testing"
	"time"
)

func TestColumnsHoldRowsColumnByColumn(t *testing.T) {
	at := time.Unix(1_767_000_000, 0).UTC()
	c := newColumns([]string{"s", "u", "i", "b", "f", "t"}, 2)
	c.add("a", uint64(1), int64(-1), uint8(1), 0.5, at)
	r := struct {
		S string
		U uint64
		I int64
		B uint8
		F float64
		T time.Time
	}{"b", 2, -2, 0, 1.5, at.Add(time.Hour)}
	c.addPtrs([]any{&r.S, &r.U, &r.I, &r.B, &r.F, &r.T})
	want := []any{&[]string{"a", "b"}, &[]uint64{1, 2}, &[]int64{-1, -2}, &[]uint8{1, 0}, &[]float64{0.5, 1.5},
		&[]time.Time{at, at.Add(time.Hour)}}
	if c.rows != 2 || !reflect.DeepEqual(c.cols, want) {
		t.Fatalf("rows %d, columns %v, want 2 rows of %v", c.rows, c.cols, want)
	}
}

func TestColumnsRefuseAWrongRow(t *testing.T) {
	for name, add := range map[string]func(c *columns){
		"too few values":     func(c *columns) { c.add("a") },
		"another type":       func(c *columns) { c.add("a", int64(1)) },
		"an unhandled type":  func(c *columns) { c.add("a", 1) },
		"another ptr type":   func(c *columns) { s, i := "a", int64(1); c.addPtrs([]any{&s, &i}) },
		"too many pointers":  func(c *columns) { s, u := "a", uint64(1); c.addPtrs([]any{&s, &u, &u}) },
		"an unhandled value": func(c *columns) { s := "a"; c.addPtrs([]any{&s, s}) },
	} {
		t.Run(name, func(t *testing.T) {
			c := newColumns([]string{"s", "u"}, 0)
			c.add("x", uint64(0))
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			add(c)
		})
	}
}
