package chwriter

import (
	"fmt"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// columns is one INSERT's rows held column by column, each column a typed slice ([]string,
// []uint64, []uint32, []int64, []uint8, []float64 or []time.Time) as clickhouse-go's columnar Append takes
// it. A row's values are copied into the slices and the row is not kept, so the values passed
// as ...any stay on the caller's stack: nothing is boxed on the heap per value, and the driver
// appends a whole column at once instead of type-switching every value of every row (row-wise
// appends of boxed values and the garbage they left were about a third of the projector's own
// CPU per event; docs/analytics.md "Benchmarks").
type columns struct {
	names []string
	cols  []any // *[]T, typed by the first row
	rows  int
	hint  int // the rows expected: each column's first capacity
}

// newColumns returns an empty set of columns for names, sized for about hint rows.
func newColumns(names []string, hint int) *columns { return &columns{names: names, hint: hint} }

// add appends one row: a value per column, in the order of names, of the same Go type in every
// row. A wrong count or type is a programming error and panics.
func (c *columns) add(row ...any) {
	c.start(len(row))
	for i, v := range row {
		switch v := v.(type) {
		case string:
			push(c, i, v)
		case uint64:
			push(c, i, v)
		case uint32:
			push(c, i, v)
		case int64:
			push(c, i, v)
		case uint8:
			push(c, i, v)
		case float64:
			push(c, i, v)
		case time.Time:
			push(c, i, v)
		default:
			// reflect.TypeOf keeps v from escaping (fmt's %T would move every row's boxed
			// values to the heap, the allocations columns exists to avoid).
			panic(fmt.Sprintf("chwriter: column %s: unhandled type %s", c.names[i], reflect.TypeOf(v)))
		}
	}
	c.rows++
}

// addPtrs appends one row given as pointers to its values (a current-state row's ptrs()).
func (c *columns) addPtrs(ptrs []any) {
	c.start(len(ptrs))
	for i, p := range ptrs {
		switch p := p.(type) {
		case *string:
			push(c, i, *p)
		case *uint64:
			push(c, i, *p)
		case *uint32:
			push(c, i, *p)
		case *int64:
			push(c, i, *p)
		case *uint8:
			push(c, i, *p)
		case *float64:
			push(c, i, *p)
		case *time.Time:
			push(c, i, *p)
		default:
			panic(fmt.Sprintf("chwriter: column %s: unhandled type %T", c.names[i], p))
		}
	}
	c.rows++
}

func (c *columns) start(n int) {
	if n != len(c.names) {
		panic(fmt.Sprintf("chwriter: a row of %d values for %d columns (%v)", n, len(c.names), c.names))
	}
}

// push appends v to column i, which the first row typed.
func push[T any](c *columns, i int, v T) {
	if len(c.cols) == i {
		col := make([]T, 0, c.hint)
		c.cols = append(c.cols, &col)
	}
	col, ok := c.cols[i].(*[]T)
	if !ok {
		panic(fmt.Sprintf("chwriter: column %s holds %T, got a %T", c.names[i], c.cols[i], v))
	}
	*col = append(*col, v)
}

// appendTo appends every column to nb, whose INSERT names the columns in the same order.
func (c *columns) appendTo(nb driver.Batch) error {
	for i, col := range c.cols {
		var v any
		switch col := col.(type) {
		case *[]string:
			v = *col
		case *[]uint64:
			v = *col
		case *[]uint32:
			v = *col
		case *[]int64:
			v = *col
		case *[]uint8:
			v = *col
		case *[]float64:
			v = *col
		case *[]time.Time:
			v = *col
		}
		if err := nb.Column(i).Append(v); err != nil {
			return fmt.Errorf("column %s: %w", c.names[i], err)
		}
	}
	return nil
}
