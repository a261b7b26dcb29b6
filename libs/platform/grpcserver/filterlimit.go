package grpcserver

import (
	"fmt"
	"path"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/libs/apperr"
)

// MaxFilterValues bounds every repeated field of a read request (Get*, List*, Search*,
// Preview*, Export*): the values of one filter (owner ids, statuses, sources, ...). Reads bind
// each value as an SQL parameter, and SQLite refuses a statement with more than 32,766 of them
// (pipeline's as-of forecast repeats its filters in 65 index probes), which would come back as
// INTERNAL. 200 values is more than any list view or dashboard filter needs; writes carry their
// own bounds (import chunks, response batches).
const MaxFilterValues = 200

// readMethod reports whether fullMethod ("/pkg.Service/Method") only reads.
func readMethod(fullMethod string) bool {
	m := path.Base(fullMethod)
	for _, p := range []string{"Get", "List", "Search", "Preview", "Export"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// checkFilterValues refuses a read request with a repeated field longer than MaxFilterValues,
// naming every such field.
func checkFilterValues(fullMethod string, req any) error {
	m, ok := req.(proto.Message)
	if !ok || !readMethod(fullMethod) {
		return nil
	}
	var fields []apperr.FieldViolation
	walkLists(m.ProtoReflect(), "", 0, func(field string, n int) {
		fields = append(fields, apperr.FieldViolation{Field: field,
			Description: fmt.Sprintf("at most %d values, got %d", MaxFilterValues, n)})
	})
	if len(fields) == 0 {
		return nil
	}
	return apperr.InvalidFields("too many filter values", fields...)
}

// walkLists calls tooLong for every list field under m longer than MaxFilterValues (nested
// messages included, a few levels deep: filters are flat or one message down).
func walkLists(m protoreflect.Message, prefix string, depth int, tooLong func(field string, n int)) {
	if depth > 4 {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			if n := v.List().Len(); n > MaxFilterValues {
				tooLong(name, n)
			}
		case fd.Message() != nil && !fd.IsMap():
			walkLists(v.Message(), name+".", depth+1, tooLong)
		}
		return true
	})
}
