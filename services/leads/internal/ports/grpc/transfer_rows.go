package grpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/csvfile"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/fieldmap"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
)

// rowMapper turns one row's cells (by column) into an import row.
type rowMapper struct {
	obj    app.ImportObject
	cols   []fieldmap.Column
	custom fieldmap.CustomTypes
	column func(field string) string
}

func fieldmapObject(o app.ImportObject) fieldmap.Object {
	switch o {
	case app.ImportContacts:
		return fieldmap.ObjectContact
	case app.ImportAccounts:
		return fieldmap.ObjectAccount
	}
	return fieldmap.ObjectLead
}

func cfgObject(o app.ImportObject) tenantcfg.Object {
	switch o {
	case app.ImportContacts:
		return tenantcfg.ObjectContact
	case app.ImportAccounts:
		return tenantcfg.ObjectAccount
	}
	return tenantcfg.ObjectLead
}

// openSource checks the whole file and returns the source of its rows and how its columns
// were mapped. Any problem with the file as a whole is InvalidArgument, before a row is read.
func (s *TransferServer) openSource(ctx context.Context, tenant string, obj app.ImportObject, st *leadsv1.ImportStart, file []byte) (app.RowSource, []fieldmap.Column, error) {
	cfg, err := s.app.Config(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	defs := cfg.Fields(cfgObject(obj))
	custom := func(name string) (customfield.Type, bool) {
		d, ok := defs[name]
		return d.Type, ok
	}
	names := customfield.SortedNames(defs)
	if st.GetFormat() == leadsv1.ImportFormat_IMPORT_FORMAT_VCARD {
		return openVCard(file, custom)
	}
	opts := csvfile.Options{Delimiter: delimiter(st)}
	// First pass: the whole file must be readable CSV.
	check, err := csvfile.NewReader(bytes.NewReader(file), opts)
	if err != nil {
		return nil, nil, malformed(err)
	}
	for {
		if _, err := check.Read(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, malformed(err)
		}
	}
	r, _ := csvfile.NewReader(bytes.NewReader(file), opts)
	cols, err := fieldmap.Columns(fieldmapObject(obj), r.Header(), st.GetColumnMapping(), names)
	if err != nil {
		return nil, nil, mappingError(err)
	}
	if !slices.ContainsFunc(cols, func(c fieldmap.Column) bool { return c.Field != "" }) {
		return nil, nil, apperr.InvalidFields("no column maps to a field", apperr.FieldViolation{Field: "start.column_mapping",
			Description: fmt.Sprintf("none of the columns %q is a known %s field; map them explicitly", r.Header(), fieldmapObject(obj))})
	}
	m := &rowMapper{obj: obj, cols: cols, custom: custom, column: columnOf(cols)}
	return &csvSource{r: r, m: m}, cols, nil
}

func mappingError(err error) error {
	var me fieldmap.MappingErrors
	if !errors.As(err, &me) {
		return err
	}
	var v apperr.Violations
	for _, e := range me {
		v.Add(fmt.Sprintf("start.column_mapping[%q]", e.Header), "%q: %s", e.Path, e.Reason)
	}
	return v.Err("invalid column mapping")
}

var indexSuffix = regexp.MustCompile(`\[\d+\]$`)

// columnOf names the header a field path came from ("roles[1]" came from the roles column).
func columnOf(cols []fieldmap.Column) func(string) string {
	by := map[string]string{}
	for _, c := range cols {
		if c.Field != "" {
			by[c.Field] = c.Header
		}
	}
	return func(field string) string {
		return by[indexSuffix.ReplaceAllString(field, "")]
	}
}

// csvSource yields the rows of a checked CSV file.
type csvSource struct {
	r *csvfile.Reader
	m *rowMapper
}

func (s *csvSource) Next() (app.ImportRow, error) {
	for {
		rec, err := s.r.Read()
		if err != nil {
			return app.ImportRow{}, err
		}
		if rec.FieldCountErr != nil {
			return app.ImportRow{Line: rec.Line, Reason: "malformed row", Errors: []app.RowError{{Description: rec.FieldCountErr.Error()}}}, nil
		}
		if rec.Blank() {
			continue // a spreadsheet's empty row, like a blank line
		}
		return s.m.row(rec.Line, rec.Fields, ""), nil
	}
}

// row maps one row's cells; accountName is the organisation of a vCard (CSV rows carry it in
// an account_name column).
func (m *rowMapper) row(line int, cells []string, accountName string) app.ImportRow {
	switch m.obj {
	case app.ImportContacts:
		msg := &leadsv1.Contact{}
		set, ferrs := fieldmap.Row(msg.ProtoReflect(), m.cols, cells, m.custom)
		if errs := m.cellErrors(ferrs); len(errs) > 0 {
			return app.ImportRow{Line: line, Errors: errs}
		}
		for i, c := range m.cols {
			if c.Field == fieldmap.AccountNamePath && i < len(cells) && strings.TrimSpace(cells[i]) != "" {
				accountName = strings.TrimSpace(cells[i])
			}
		}
		return m.contactRow(line, msg, set, accountName)
	case app.ImportAccounts:
		msg := &leadsv1.Account{}
		set, ferrs := fieldmap.Row(msg.ProtoReflect(), m.cols, cells, m.custom)
		if errs := m.cellErrors(ferrs); len(errs) > 0 {
			return app.ImportRow{Line: line, Errors: errs}
		}
		return m.accountRow(line, msg, set)
	}
	msg := &leadsv1.Lead{}
	set, ferrs := fieldmap.Row(msg.ProtoReflect(), m.cols, cells, m.custom)
	if errs := m.cellErrors(ferrs); len(errs) > 0 {
		return app.ImportRow{Line: line, Errors: errs}
	}
	return m.leadRow(line, msg, set)
}

func (m *rowMapper) cellErrors(ferrs []fieldmap.FieldError) []app.RowError {
	var out []app.RowError
	for _, e := range ferrs {
		out = append(out, app.RowError{Field: e.Field, Column: e.Column, Description: e.Description})
	}
	return out
}

// violations turns the request mapping's error into row errors, like the API reports them.
func (m *rowMapper) violations(line int, err error) app.ImportRow {
	row := app.ImportRow{Line: line}
	ae, ok := apperr.As(err)
	if !ok || len(ae.Fields) == 0 {
		row.Errors = []app.RowError{{Description: err.Error()}}
		return row
	}
	for _, f := range ae.Fields {
		field := f.Field
		for _, p := range []string{"lead.", "contact.", "account."} {
			field = strings.TrimPrefix(field, p)
		}
		row.Errors = append(row.Errors, app.RowError{Field: field, Column: m.column(field), Description: f.Description})
	}
	return row
}

// updatable keeps the set paths an Update command accepts (tags and owner are set on create
// only: the API changes them through their own commands).
func updatable(set []string, ok func(string) bool) *fieldmaskpb.FieldMask {
	mask := &fieldmaskpb.FieldMask{}
	for _, p := range set {
		if ok(p) {
			mask.Paths = append(mask.Paths, p)
		}
	}
	return mask
}

func (m *rowMapper) leadRow(line int, msg *leadsv1.Lead, set []string) app.ImportRow {
	if msg.GetSource() == leadsv1.LeadSource_LEAD_SOURCE_UNSPECIFIED {
		// A lead needs a source; a file that does not say where its leads came from is the
		// source. It is not written onto an existing lead (the update names set paths only).
		msg.Source = leadsv1.LeadSource_LEAD_SOURCE_IMPORT
	}
	cmd, err := protomap.NewLeadFromProto("", msg)
	if err != nil {
		return m.violations(line, err)
	}
	leaf := map[string]bool{}
	for _, p := range lead.Paths() {
		leaf[p] = true
	}
	upd, err := protomap.UpdateFromProto(msg, updatable(set, func(p string) bool {
		return leaf[p] || strings.HasPrefix(p, fieldmap.CustomPrefix)
	}))
	if err != nil {
		return m.violations(line, err)
	}
	return app.ImportRow{Line: line, Record: app.LeadRow{New: cmd, Update: upd}}
}

func (m *rowMapper) contactRow(line int, msg *leadsv1.Contact, set []string, accountName string) app.ImportRow {
	cmd, err := protomap.NewContactFromProto(msg)
	if err != nil {
		return m.violations(line, err)
	}
	upd, err := protomap.ContactUpdateFromProto(msg, updatable(set, func(p string) bool { _, ok := contact.ExpandPath(p); return ok }))
	if err != nil {
		return m.violations(line, err)
	}
	return app.ImportRow{Line: line, Record: app.ContactRow{New: cmd, Update: upd, AccountName: accountName}}
}

func (m *rowMapper) accountRow(line int, msg *leadsv1.Account, set []string) app.ImportRow {
	cmd, err := protomap.NewAccountFromProto(msg)
	if err != nil {
		return m.violations(line, err)
	}
	upd, err := protomap.AccountUpdateFromProto(msg, updatable(set, func(p string) bool { _, ok := account.ExpandPath(p); return ok }))
	if err != nil {
		return m.violations(line, err)
	}
	return app.ImportRow{Line: line, Record: app.AccountRow{New: cmd, Update: upd}}
}
