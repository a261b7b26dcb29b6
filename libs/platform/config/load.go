// Package config turns command-line flags and EVCRM_* environment variables into a typed
// service configuration.
//
// A service declares its configuration as a struct whose fields carry tags, embeds [Base] for the
// settings every service shares, and calls [Load]:
//
//	type Config struct {
//		config.Base
//		ClickHouseAddr string        `flag:"clickhouse-addr" default:"127.0.0.1:9000" usage:"ClickHouse native protocol address"`
//		BatchWait      time.Duration `flag:"batch-wait" default:"1s" usage:"longest time a batch waits before it is inserted"`
//	}
//
// Tags:
//   - flag: the flag name (required; fields without it are not configuration). Nested structs
//     without a flag tag, embedded or not, are walked too.
//   - env: the environment variable; defaults to [EnvName] of the flag name, e.g. flag
//     "grpc-addr" reads EVCRM_GRPC_ADDR. "-" disables the environment fallback.
//   - default: the default in flag syntax. A field that is already non-zero before Load keeps
//     its value as the default instead, so each service can preset per-service defaults (ports)
//     for the shared Base fields.
//   - usage: the help text.
//
// Precedence is flag, then environment, then default. After parsing, Load calls the struct's
// Validate() error method if it has one; errors built with [Invalid] name both the flag and the
// environment variable, so an operator knows which knob to turn whichever one they used.
//
// Field types: string, bool, int, int64, uint, uint64, float64, time.Duration, []string
// (comma-separated) and any type whose pointer implements encoding.TextUnmarshaler (for
// example slog.Level).
//
// The package uses the standard library flag package on purpose: services are daemons with a
// flat set of settings; cobra is reserved for the crmctl CLI.
package config

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// EnvPrefix starts every environment variable evcrm reads.
const EnvPrefix = "EVCRM_"

// EnvName returns the environment variable that backs a flag by convention: EnvPrefix followed
// by the flag name in upper case with '-' and '.' turned into '_'.
func EnvName(flagName string) string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return EnvPrefix + strings.ToUpper(r.Replace(flagName))
}

// Loader parses flags and environment into a configuration struct. The zero value reads nothing;
// most callers use [Load], tests set Args and LookupEnv explicitly.
type Loader struct {
	// Name is the program name shown in usage output; defaults to the base name of os.Args[0].
	Name string
	// Args are the command-line arguments without the program name.
	Args []string
	// LookupEnv reads an environment variable; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Output receives the usage text when -h or -help is given; nil means os.Stderr.
	Output io.Writer
}

// Load parses os.Args[1:] and the process environment into dst (a pointer to a struct) and
// validates it. With -h it prints usage and returns flag.ErrHelp, which main should treat as a
// clean exit.
func Load(dst any) error {
	return Loader{Args: os.Args[1:]}.Load(dst)
}

// Load parses l.Args and the environment into dst (a pointer to a struct), then calls dst's
// Validate() error method if it has one. Every error about a single setting is a *[FieldError].
// more are further destinations sharing the flag set (a service's own settings next to the
// shared ones); a flag declared in two of them is an error.
func (l Loader) Load(dst any, more ...any) error {
	dsts := append([]any{dst}, more...)
	for _, d := range dsts {
		rv := reflect.ValueOf(d)
		if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
			return fmt.Errorf("config: Load needs a non-nil pointer to a struct, got %T", d)
		}
	}
	name := l.Name
	if name == "" && len(os.Args) > 0 {
		name = baseName(os.Args[0])
	}
	lookup := l.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	out := l.Output
	if out == nil {
		out = os.Stderr
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package would print its own message and the whole usage on every error; we
	// return a precise error instead and print usage only when asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	b := &binder{fs: fs, byFlag: map[string]*field{}}
	for _, d := range dsts {
		if err := b.walk(reflect.ValueOf(d).Elem()); err != nil {
			return err
		}
	}

	if err := fs.Parse(l.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			b.printUsage(out, fs.Name())
			return err
		}
		if b.setErr != nil {
			return b.setErr
		}
		return fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("config: unexpected arguments %q", fs.Args())
	}

	fromFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { fromFlags[f.Name] = true })
	for _, f := range b.fields {
		if fromFlags[f.flag] || f.env == "" {
			continue
		}
		v, ok := lookup(f.env)
		if !ok {
			continue
		}
		if err := f.value.set(v); err != nil {
			return &FieldError{Flag: f.flag, Env: f.env, Value: v, Reason: err.Error()}
		}
	}

	var errs error
	for _, d := range dsts {
		if v, ok := d.(interface{ Validate() error }); ok {
			errs = errors.Join(errs, v.Validate())
		}
	}
	if errs != nil {
		b.fillEnv(errs)
		return errs
	}
	return nil
}

// field is one flag-backed struct field.
type field struct {
	flag, env, usage string
	value            *fieldValue
}

type binder struct {
	fs     *flag.FlagSet
	fields []*field
	byFlag map[string]*field
	// setErr keeps the structured error of the last failed flag assignment, because the flag
	// package only hands back a formatted string.
	setErr *FieldError
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func (b *binder) walk(s reflect.Value) error {
	t := s.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		fv := s.Field(i)
		name, tagged := sf.Tag.Lookup("flag")
		if !tagged {
			if fv.Kind() == reflect.Struct && sf.IsExported() && !reflect.PointerTo(sf.Type).Implements(textUnmarshalerType) {
				if err := b.walk(fv); err != nil {
					return err
				}
			}
			continue
		}
		if !sf.IsExported() {
			return fmt.Errorf("config: field %s.%s has a flag tag but is not exported", t.Name(), sf.Name)
		}
		if name == "" {
			return fmt.Errorf("config: field %s.%s has an empty flag tag", t.Name(), sf.Name)
		}
		if _, dup := b.byFlag[name]; dup {
			return fmt.Errorf("config: flag -%s declared twice (second on %s.%s)", name, t.Name(), sf.Name)
		}
		val, err := newFieldValue(fv)
		if err != nil {
			return fmt.Errorf("config: field %s.%s: %w", t.Name(), sf.Name, err)
		}
		env, hasEnv := sf.Tag.Lookup("env")
		switch {
		case !hasEnv:
			env = EnvName(name)
		case env == "-":
			env = ""
		}
		if def, ok := sf.Tag.Lookup("default"); ok && fv.IsZero() {
			if err := val.set(def); err != nil {
				// A bad default is a programming error in the service, not an operator's.
				return fmt.Errorf("config: field %s.%s: bad default %q: %w", t.Name(), sf.Name, def, err)
			}
		}
		f := &field{flag: name, env: env, value: val, usage: sf.Tag.Get("usage")}
		b.fs.Var(&flagAdapter{f: f, b: b}, name, f.usage)
		b.fields = append(b.fields, f)
		b.byFlag[name] = f
	}
	return nil
}

// fillEnv completes FieldErrors that Validate built with only a flag name.
func (b *binder) fillEnv(err error) {
	walkErrors(err, func(fe *FieldError) {
		if fe.Env == "" {
			if f, ok := b.byFlag[fe.Flag]; ok {
				fe.Env = f.env
			}
		}
	})
}

func walkErrors(err error, fn func(*FieldError)) {
	if err == nil {
		return
	}
	if fe, ok := err.(*FieldError); ok {
		fn(fe)
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walkErrors(e, fn)
		}
	case interface{ Unwrap() error }:
		walkErrors(u.Unwrap(), fn)
	}
}

// flagAdapter is the flag.Value registered with the FlagSet; it records failures structurally.
type flagAdapter struct {
	f *field
	b *binder
}

func (a *flagAdapter) String() string {
	if a == nil || a.f == nil {
		return ""
	}
	return a.f.value.String()
}

func (a *flagAdapter) Set(s string) error {
	if err := a.f.value.set(s); err != nil {
		a.b.setErr = &FieldError{Flag: a.f.flag, Env: a.f.env, Value: s, Reason: err.Error()}
		return err
	}
	return nil
}

func (a *flagAdapter) IsBoolFlag() bool {
	return a != nil && a.f != nil && a.f.value.v.Kind() == reflect.Bool
}

// printUsage lists the settings in declaration order (Base first), which groups related settings
// better than the flag package's alphabetical order, with each one's environment variable.
func (b *binder) printUsage(w io.Writer, name string) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Usage of %s:\n", name)
	for _, f := range b.fields {
		fmt.Fprintf(&sb, "  -%s", f.flag)
		if t := f.value.typeName(); t != "" {
			sb.WriteString(" " + t)
		}
		sb.WriteString("\n    \t" + f.usage)
		if f.env != "" {
			sb.WriteString(" [$" + f.env + "]")
		}
		if def := f.value.String(); def != "" && f.value.typeName() != "" {
			fmt.Fprintf(&sb, " (default %q)", def)
		}
		sb.WriteString("\n")
	}
	_, _ = io.WriteString(w, sb.String())
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
