package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/tools/crmctl/internal/protoflag"
	"github.com/evcrm/evcrm/tools/crmctl/internal/render"
)

// client is a generated gRPC client constructor and the service it talks to.
type client[C any] struct {
	svc service
	new func(grpc.ClientConnInterface) C
}

// field binds a flag to a request field (path: proto field names joined by dots).
type field struct {
	flag  string // flag name; empty: the path's last segment with '-' for '_'
	path  string
	usage string // empty: the path and the text the field takes
}

// f is a flag named after its field; fn names it.
func f(path string) field           { return field{path: path} }
func fn(flag, path string) field    { return field{flag: flag, path: path} }
func fu(flag, path, u string) field { return field{flag: flag, path: path, usage: u} }

// under binds a flag per field of the message at prefix, named after the field.
func under(prefix string, names ...string) []field {
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = field{path: prefix + "." + n}
	}
	return out
}

func fields(groups ...[]field) []field {
	var out []field
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// spec describes one command over one unary RPC.
type spec struct {
	use, short, long, example string
	aliases                   []string
	// args are request field paths filled from the positional arguments, in order; a last
	// path ending in "..." is a repeated field that takes the remaining arguments.
	args   []string
	fields []field
	// mask names the message field (e.g. "lead") whose flags given on the command line become
	// the request's update_mask, unless --update-mask or --from-json sets one.
	mask string
	view render.View
	// defaults fills the request before --from-json and flags apply (e.g. a time range).
	defaults func(req protoreflect.Message)
	// extra adds flags that do not map to one field; the function it returns applies them.
	extra func(fs *pflag.FlagSet) func(req protoreflect.Message) error
}

// rpc builds the command that sends method's request, built from --from-json, positional
// arguments and flags, and prints the response as a table or JSON. List RPCs (page_token in,
// next_page_token out) get --all, which follows the pages and prints them as one.
func rpc[C any, Req, Resp proto.Message](a *app, c client[C], method func(C, context.Context, Req, ...grpc.CallOption) (Resp, error), s spec) *cobra.Command {
	var zero Req
	reqType := zero.ProtoReflect().Type()
	md := reqType.Descriptor()
	var zeroResp Resp
	respMD := zeroResp.ProtoReflect().Descriptor()

	cmd := &cobra.Command{Use: s.use, Short: s.short, Long: s.long, Example: s.example, Aliases: s.aliases}
	cmd.Args = positional(s.args)
	if s.long == "" {
		cmd.Long = s.short + "."
	}
	if name := rpcName(md, method); name != "" {
		cmd.Long += "\n\nCalls " + name + "."
	}
	fs := cmd.Flags()
	var fromJSON string
	fs.StringVar(&fromJSON, "from-json", "", fmt.Sprintf("the %s as protojson: inline, @file, or - for stdin; flags override its fields", md.Name()))
	bound := bindFields(fs, md, append(s.fields, commonFields(md)...))
	var all bool
	paged := md.Fields().ByName("page_token") != nil && respMD.Fields().ByName("next_page_token") != nil
	if paged {
		fs.BoolVar(&all, "all", false, "follow next_page_token and print every page")
	}
	var applyExtra func(protoreflect.Message) error
	if s.extra != nil {
		applyExtra = s.extra(fs)
	}

	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		req := reqType.New()
		if s.defaults != nil {
			s.defaults(req)
		}
		if fromJSON != "" {
			if err := readJSON(cmd.InOrStdin(), fromJSON, req.Interface()); err != nil {
				return err
			}
		}
		if err := setPositional(req, s.args, args); err != nil {
			return err
		}
		changed, err := bound.apply(req)
		if err != nil {
			return err
		}
		if s.mask != "" {
			setMask(req, s.mask, changed)
		}
		if applyExtra != nil {
			if err := applyExtra(req); err != nil {
				return err
			}
		}
		conn, err := a.conn(c.svc)
		if err != nil {
			return err
		}
		call := func(r protoreflect.Message) (proto.Message, error) {
			ctx, cancel := a.unaryContext(cmd.Context())
			defer cancel()
			return method(c.new(conn), ctx, r.Interface().(Req))
		}
		resp, err := call(req)
		if err != nil {
			return err
		}
		for all {
			token := nextPageToken(resp)
			if token == "" {
				break
			}
			req.Set(md.Fields().ByName("page_token"), protoreflect.ValueOfString(token))
			page, err := call(req)
			if err != nil {
				return err
			}
			appendPage(resp.ProtoReflect(), page.ProtoReflect())
		}
		return a.print(resp, s.view)
	}
	return cmd
}

// print writes a response in the --output format; in a table, a list's next page token goes
// to stderr so stdout stays the table.
func (a *app) print(m proto.Message, v render.View) error {
	if a.output == outputJSON {
		return render.JSON(a.stdout, m)
	}
	if err := render.Table(a.stdout, m, v); err != nil {
		return err
	}
	if token := nextPageToken(m); token != "" {
		fmt.Fprintf(a.stderr, "more results: --page-token %s (or --all)\n", token)
	}
	return nil
}

// rpcName is the full gRPC name of a generated client's method ("crm.leads.v1.LeadsService/
// CreateLead"), read from the method expression's symbol, for the help text.
func rpcName(md protoreflect.MessageDescriptor, method any) string {
	fn := runtime.FuncForPC(reflect.ValueOf(method).Pointer())
	if fn == nil {
		return ""
	}
	parts := strings.Split(fn.Name(), ".")
	if len(parts) < 2 {
		return ""
	}
	svc := strings.TrimSuffix(parts[len(parts)-2], "Client")
	return string(md.ParentFile().Package()) + "." + svc + "/" + strings.TrimSuffix(parts[len(parts)-1], "-fm")
}

// positional checks the argument count: a path ending in "..." takes one or more arguments
// (it must be last), one ending in "?" is optional (only at the end). Errors name the missing
// arguments as the command's use line does.
func positional(paths []string) cobra.PositionalArgs {
	n, optional := len(paths), 0
	variadic := n > 0 && strings.HasSuffix(paths[n-1], "...")
	for _, p := range paths {
		if strings.HasSuffix(p, "?") {
			optional++
		}
	}
	return func(cmd *cobra.Command, args []string) error {
		names := strings.Fields(cmd.Use)[1:]
		if len(names) < n { // a use line that does not list its arguments: name them by field
			names = make([]string, n)
			for i, p := range paths {
				names[i] = strings.ToUpper(strings.TrimRight(p, ".?"))
			}
		}
		if missing := n - optional - len(args); missing > 0 {
			return fmt.Errorf("missing %s (usage: %s)", strings.Join(names[len(args):len(args)+missing], " "), cmd.UseLine())
		}
		if !variadic && len(args) > n {
			return fmt.Errorf("unexpected argument %q (usage: %s)", args[n], cmd.UseLine())
		}
		return nil
	}
}

func setPositional(req protoreflect.Message, paths, args []string) error {
	for i, arg := range args {
		path := paths[min(i, len(paths)-1)]
		path = strings.TrimSuffix(strings.TrimSuffix(path, "..."), "?")
		if err := protoflag.Set(req, path, arg); err != nil {
			return fmt.Errorf("argument %d (%s): %w", i+1, path, err)
		}
	}
	return nil
}

// commonFields are the flags every request of a kind gets: write options, read-your-writes,
// paging.
func commonFields(md protoreflect.MessageDescriptor) []field {
	var out []field
	has := func(name string, msg protoreflect.FullName) bool {
		fd := md.Fields().ByName(protoreflect.Name(name))
		return fd != nil && (msg == "" || fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() == msg)
	}
	if has("options", "crm.common.v1.WriteOptions") {
		out = append(out,
			fu("idempotency-key", "options.idempotency_key", "idempotency key: a retry with the same key changes nothing"),
			fu("expected-version", "options.expected_version", "fail with ABORTED unless the record is at this version"))
	}
	if has("read", "crm.common.v1.ReadOptions") {
		out = append(out, fu("min-sequence", "read.min_sequence", "wait until the read model has applied this stream sequence (a write's result.sequence)"))
	}
	if has("page_size", "") {
		out = append(out, fu("page-size", "page_size", "results per page"))
	}
	if has("page_token", "") {
		out = append(out, fu("page-token", "page_token", "page token from the previous page"))
	}
	if has("update_mask", "google.protobuf.FieldMask") {
		out = append(out, fu("update-mask", "update_mask", "fields to change, comma-separated (default: the fields whose flags are given)"))
	}
	return out
}

// boundFields are the flags of a command bound to request fields.
type boundFields []boundField

type boundField struct {
	path string
	flag *pflag.Flag
	val  *textValue
}

func bindFields(fs *pflag.FlagSet, md protoreflect.MessageDescriptor, fields []field) boundFields {
	var out boundFields
	for _, fl := range fields {
		fd, err := protoflag.Field(md, fl.path)
		if err != nil {
			panic(fmt.Sprintf("crmctl: flag for %s: %v", fl.path, err)) // a wrong command table
		}
		name := fl.flag
		if name == "" {
			segs := strings.Split(fl.path, ".")
			name = strings.ReplaceAll(segs[len(segs)-1], "_", "-")
		}
		usage := fl.usage
		if usage == "" {
			usage = fl.path
		}
		if hint := protoflag.Hint(fd); hint != "" {
			usage += " (" + hint + ")"
		}
		v := &textValue{typ: typeName(fd)}
		fs.Var(v, name, usage)
		flag := fs.Lookup(name)
		if fd.Kind() == protoreflect.BoolKind && !fd.IsList() {
			flag.NoOptDefVal = "true"
		}
		out = append(out, boundField{path: fl.path, flag: flag, val: v})
	}
	return out
}

// apply sets the fields of the flags given on the command line and returns their paths.
func (b boundFields) apply(req protoreflect.Message) ([]string, error) {
	var changed []string
	for _, bf := range b {
		if !bf.flag.Changed {
			continue
		}
		for _, text := range bf.val.values {
			if err := protoflag.Set(req, bf.path, text); err != nil {
				return nil, fmt.Errorf("--%s: %w", bf.flag.Name, err)
			}
		}
		changed = append(changed, bf.path)
	}
	return changed, nil
}

// textValue is a flag that keeps the text of each occurrence for protoflag.Set.
type textValue struct {
	typ    string
	values []string
}

func (v *textValue) String() string     { return strings.Join(v.values, ",") }
func (v *textValue) Type() string       { return v.typ }
func (v *textValue) Set(s string) error { v.values = append(v.values, s); return nil }

func typeName(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "key=value"
	case fd.Kind() == protoreflect.EnumKind:
		return "enum"
	case fd.Kind() == protoreflect.MessageKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			return "time"
		case "google.protobuf.Duration":
			return "duration"
		case "crm.common.v1.Money":
			return "money"
		case "crm.common.v1.Decimal":
			return "decimal"
		case "google.protobuf.FieldMask":
			return "paths"
		}
		return "json"
	case fd.Kind() == protoreflect.BoolKind:
		return "bool"
	}
	if fd.IsList() {
		return "strings"
	}
	return fd.Kind().String()
}

// setMask fills update_mask from the flags given under prefix, unless it is set already.
func setMask(req protoreflect.Message, prefix string, changed []string) {
	fd := req.Descriptor().Fields().ByName("update_mask")
	if fd == nil || req.Has(fd) {
		return
	}
	paths := req.Mutable(fd).Message().Mutable(fd.Message().Fields().ByName("paths")).List()
	for _, p := range changed {
		if rest, ok := strings.CutPrefix(p, prefix+"."); ok {
			paths.Append(protoreflect.ValueOfString(rest))
		}
	}
	if paths.Len() == 0 {
		req.Clear(fd)
	}
}

func nextPageToken(m proto.Message) string {
	r := m.ProtoReflect()
	if fd := r.Descriptor().Fields().ByName("next_page_token"); fd != nil {
		return r.Get(fd).String()
	}
	return ""
}

// appendPage adds the repeated fields of page to into and takes page's next_page_token.
func appendPage(into, page protoreflect.Message) {
	page.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsList() {
			l := into.Mutable(fd).List()
			for i := range v.List().Len() {
				l.Append(v.List().Get(i))
			}
		}
		return true
	})
	if fd := into.Descriptor().Fields().ByName("next_page_token"); fd != nil {
		into.Set(fd, page.Get(fd))
	}
}

// readJSON reads protojson from text: inline JSON, @file, or - for in.
func readJSON(in io.Reader, text string, m proto.Message) error {
	var b []byte
	var err error
	switch {
	case text == "-":
		b, err = io.ReadAll(in)
	case strings.HasPrefix(text, "@"):
		b, err = os.ReadFile(text[1:])
	default:
		b = []byte(text)
	}
	if err != nil {
		return fmt.Errorf("--from-json: %w", err)
	}
	// protojson.Unmarshal resets its target: decode apart and merge, so defaults stay for the
	// fields the JSON does not set.
	parsed := m.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(b, parsed); err != nil {
		return fmt.Errorf("--from-json: %w", err)
	}
	proto.Merge(m, parsed)
	return nil
}
