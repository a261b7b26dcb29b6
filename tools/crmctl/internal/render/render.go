// Package render prints protobuf responses for people (aligned text tables) and for programs
// (protojson), driven only by the message descriptors, so no command has print code of its own.
package render

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/tools/crmctl/internal/protoflag"
)

// JSONOptions is how responses are written as JSON: protojson with the JSON field names (as
// the REST gateway writes them), indented.
var JSONOptions = protojson.MarshalOptions{Multiline: true, Indent: "  "}

// JSON writes m as indented protojson followed by a newline.
func JSON(w io.Writer, m proto.Message) error {
	b, err := JSONOptions.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// View says how a response is shown as a table.
type View struct {
	// Rows is the path of repeated message fields whose elements are the table's rows, one
	// field per level: {"leads"}, or {"cohorts", "steps"} for a row per step of every cohort.
	// Empty: the response is shown as one record, a "field value" line per populated field.
	Rows []string
	// Columns are field paths (dot-separated) of a row; a name missing from the innermost level
	// is looked up in the enclosing ones (a cohort's period_start beside its steps). Empty: the
	// row's populated scalar fields.
	Columns []string
}

// maxDefaultColumns bounds the columns chosen when a view names none.
const maxDefaultColumns = 10

// Table writes m as a text table according to v.
func Table(w io.Writer, m proto.Message, v View) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(v.Rows) == 0 {
		writeRecord(tw, "", m.ProtoReflect())
		return tw.Flush()
	}
	rows := collectRows(m.ProtoReflect(), v.Rows, nil)
	cols := v.Columns
	if len(cols) == 0 {
		cols = defaultColumns(rows)
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = strings.ToUpper(c)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(row, c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// row is one table row: its message and the messages enclosing it, innermost first.
type row []protoreflect.Message

func collectRows(m protoreflect.Message, path []string, outer row) []row {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(path[0]))
	if fd == nil || !fd.IsList() || fd.Kind() != protoreflect.MessageKind {
		return nil
	}
	var out []row
	l := m.Get(fd).List()
	for i := range l.Len() {
		el := l.Get(i).Message()
		r := append(row{el}, outer...)
		if len(path) == 1 {
			out = append(out, r)
		} else {
			out = append(out, collectRows(el, path[1:], r)...)
		}
	}
	return out
}

func defaultColumns(rows []row) []string {
	if len(rows) == 0 {
		return nil
	}
	md := rows[0][0].Descriptor()
	var cols []string
	for i := range md.Fields().Len() {
		fd := md.Fields().Get(i)
		if !simple(fd) {
			continue
		}
		for _, r := range rows {
			if r[0].Has(fd) {
				cols = append(cols, string(fd.Name()))
				break
			}
		}
		if len(cols) == maxDefaultColumns {
			break
		}
	}
	return cols
}

// simple reports whether a field fits in one table cell.
func simple(fd protoreflect.FieldDescriptor) bool {
	if fd.IsMap() {
		return false
	}
	if fd.Kind() != protoreflect.MessageKind {
		return true
	}
	return !fd.IsList() && wellKnown(fd.Message().FullName())
}

func wellKnown(name protoreflect.FullName) bool {
	switch name {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "crm.common.v1.Money", "crm.common.v1.Decimal":
		return true
	}
	return false
}

func cell(r row, path string) string {
	for _, m := range r {
		if v, fd, ok := lookup(m, path); ok {
			if fd == nil {
				return ""
			}
			return Value(fd, v)
		}
	}
	return ""
}

// lookup follows path in m. ok is false when m's type has no such field; fd is nil when an
// intermediate message is unset.
func lookup(m protoreflect.Message, path string) (protoreflect.Value, protoreflect.FieldDescriptor, bool) {
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(seg))
		if fd == nil {
			return protoreflect.Value{}, nil, false
		}
		if i == len(segs)-1 {
			return m.Get(fd), fd, true
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return protoreflect.Value{}, nil, false
		}
		if !m.Has(fd) {
			// Still a known path: the cell is blank rather than looked up further out.
			if _, err := protoflag.Field(fd.Message(), strings.Join(segs[i+1:], ".")); err != nil {
				return protoreflect.Value{}, nil, false
			}
			return protoreflect.Value{}, nil, true
		}
		m = m.Get(fd).Message()
	}
	return protoreflect.Value{}, nil, false
}

// writeRecord writes a "path value" line for every populated field of m, depth first.
func writeRecord(w io.Writer, prefix string, m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		name := prefix + string(fd.Name())
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			keys := mapKeys(v.Map())
			for _, k := range keys {
				writeLeaf(w, name+"["+k.String()+"]", fd.MapValue(), v.Map().Get(k))
			}
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind && !wellKnown(fd.Message().FullName()):
			for j := range v.List().Len() {
				writeRecord(w, fmt.Sprintf("%s[%d].", name, j), v.List().Get(j).Message())
			}
		case !fd.IsList() && fd.Kind() == protoreflect.MessageKind && !wellKnown(fd.Message().FullName()):
			writeRecord(w, name+".", v.Message())
		default:
			fmt.Fprintf(w, "%s\t%s\n", name, Value(fd, v))
		}
	}
}

func writeLeaf(w io.Writer, name string, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	if fd.Kind() == protoreflect.MessageKind && !wellKnown(fd.Message().FullName()) && fd.Message().Name() != "CustomValue" {
		writeRecord(w, name+".", v.Message())
		return
	}
	fmt.Fprintf(w, "%s\t%s\n", name, Value(fd, v))
}

func mapKeys(m protoreflect.Map) []protoreflect.MapKey {
	var keys []protoreflect.MapKey
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// Value formats one field value for a person: enums without their type prefix, times in RFC
// 3339 UTC, durations rounded, money as "1250.5 EUR", lists comma-separated.
func Value(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	if fd.IsList() {
		l := v.List()
		parts := make([]string, l.Len())
		for i := range l.Len() {
			parts[i] = scalar(fd, l.Get(i))
		}
		return strings.Join(parts, ",")
	}
	if fd.IsMap() {
		var parts []string
		for _, k := range mapKeys(v.Map()) {
			parts = append(parts, k.String()+"="+scalar(fd.MapValue(), v.Map().Get(k)))
		}
		return strings.Join(parts, ",")
	}
	return scalar(fd, v)
}

func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil {
			return strconv.Itoa(int(v.Enum()))
		}
		if v.Enum() == 0 {
			return ""
		}
		return strings.TrimPrefix(string(ev.Name()), protoflag.EnumPrefix(fd.Enum()))
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		return strconv.FormatFloat(math.Round(v.Float()*1e4)/1e4, 'f', -1, 64)
	case protoreflect.BytesKind:
		return fmt.Sprintf("(%d bytes)", len(v.Bytes()))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return message(v.Message())
	default:
		return v.String()
	}
}

func message(m protoreflect.Message) string {
	f := m.Descriptor().Fields()
	switch m.Descriptor().FullName() {
	case "google.protobuf.Timestamp":
		if !m.IsValid() {
			return ""
		}
		return time.Unix(m.Get(f.ByName("seconds")).Int(), m.Get(f.ByName("nanos")).Int()).UTC().Format(time.RFC3339)
	case "google.protobuf.Duration":
		if !m.IsValid() {
			return ""
		}
		d := time.Duration(m.Get(f.ByName("seconds")).Int())*time.Second + time.Duration(m.Get(f.ByName("nanos")).Int())
		return roundDuration(d).String()
	case "crm.common.v1.Money":
		if !m.IsValid() {
			return ""
		}
		amount := FormatDecimal(m.Get(f.ByName("units")).Int(), int32(m.Get(f.ByName("nanos")).Int()))
		if c := m.Get(f.ByName("currency_code")).String(); c != "" {
			return amount + " " + c
		}
		return amount
	case "crm.common.v1.Decimal":
		return m.Get(f.ByName("value")).String()
	}
	if oneofs := m.Descriptor().Oneofs(); oneofs.Len() == 1 && f.Len() == oneofs.Get(0).Fields().Len() {
		// A pure oneof wrapper (CustomValue): its set field's value.
		if fd := m.WhichOneof(oneofs.Get(0)); fd != nil {
			return scalar(fd, m.Get(fd))
		}
		return ""
	}
	b, err := protojson.Marshal(m.Interface())
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// roundDuration keeps durations readable: whole seconds above a minute, milliseconds below.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute || d <= -time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// FormatDecimal writes units + nanos/10^9 without trailing zeros ("1250.5", "-0.25", "3").
func FormatDecimal(units int64, nanos int32) string {
	neg := units < 0 || nanos < 0
	u, n := units, int64(nanos)
	if u < 0 {
		u = -u
	}
	if n < 0 {
		n = -n
	}
	s := strconv.FormatInt(u, 10)
	if n != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%09d", n), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}
