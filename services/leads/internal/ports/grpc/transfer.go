package grpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/fieldmap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
)

// Limits of ImportRecords.
const (
	// MaxChunkBytes is the largest chunk message.
	MaxChunkBytes = 1 << 20
	// MaxImportBytes is the largest file: the file is held until it has been checked whole,
	// so that a malformed file is rejected before any row is written.
	MaxImportBytes = 256 << 20
)

// TransferServer implements leadsv1.DataTransferServiceServer.
type TransferServer struct {
	leadsv1.UnimplementedDataTransferServiceServer
	app *app.App
}

// NewTransferServer returns the import/export server of a.
func NewTransferServer(a *app.App) *TransferServer { return &TransferServer{app: a} }

var importIDRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// ImportRecords reads ImportStart and the file, checks the whole file, then imports its rows,
// sending progress while it works and the report last.
func (s *TransferServer) ImportRecords(stream leadsv1.DataTransferService_ImportRecordsServer) error {
	ctx := stream.Context()
	t, err := tenant(ctx)
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return apperr.InvalidFields("ImportStart must come first", apperr.FieldViolation{Field: "start", Description: "the first message must be ImportStart"})
	}
	if err := checkStart(start); err != nil {
		return err
	}
	if start.GetImportId() == "" {
		start.ImportId = uuid7.New()
	}
	var file bytes.Buffer
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if msg.GetStart() != nil {
			return apperr.InvalidFields("ImportStart sent twice", apperr.FieldViolation{Field: "start", Description: "only the first message may be ImportStart"})
		}
		chunk := msg.GetChunk()
		if len(chunk) > MaxChunkBytes {
			return apperr.InvalidFields("chunk too large", apperr.FieldViolation{Field: "chunk", Description: fmt.Sprintf("at most %d bytes per message", MaxChunkBytes)})
		}
		if file.Len()+len(chunk) > MaxImportBytes {
			return apperr.InvalidFields("file too large", apperr.FieldViolation{Field: "chunk", Description: fmt.Sprintf("an import file may have at most %d MiB; split it", MaxImportBytes>>20)})
		}
		file.Write(chunk)
	}
	obj := importObject(start.GetObject())
	src, cols, err := s.openSource(ctx, t, obj, start, file.Bytes())
	if err != nil {
		return err
	}
	bytesRead := int64(file.Len())
	var sendErr error
	rep, err := s.app.Import(ctx, t, app.ImportOptions{
		ImportID: start.GetImportId(), Object: obj, Dedupe: dedupePolicy(start.GetDedupePolicy()),
		DryRun: start.GetDryRun(), ColumnOf: columnOf(cols),
	}, src, func(p app.ImportProgress) {
		if sendErr == nil {
			sendErr = stream.Send(&leadsv1.ImportRecordsResponse{Message: &leadsv1.ImportRecordsResponse_Progress{Progress: progressToProto(p, bytesRead)}})
		}
	})
	if err != nil {
		return err
	}
	if sendErr != nil {
		return sendErr
	}
	return stream.Send(&leadsv1.ImportRecordsResponse{Message: &leadsv1.ImportRecordsResponse_Report{Report: reportToProto(rep, start, cols)}})
}

func checkStart(st *leadsv1.ImportStart) error {
	var v apperr.Violations
	switch st.GetObject() {
	case leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT, leadsv1.TransferObject_TRANSFER_OBJECT_ACCOUNT:
	default:
		v.Add("start.object", "is required: LEAD, CONTACT or ACCOUNT")
	}
	switch st.GetFormat() {
	case leadsv1.ImportFormat_IMPORT_FORMAT_UNSPECIFIED, leadsv1.ImportFormat_IMPORT_FORMAT_CSV:
	case leadsv1.ImportFormat_IMPORT_FORMAT_VCARD:
		if st.GetObject() != leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT {
			v.Add("start.format", "vCard files import contacts only")
		}
	default:
		v.Add("start.format", "unknown format %d", st.GetFormat())
	}
	switch st.GetDedupePolicy() {
	case leadsv1.DedupePolicy_DEDUPE_POLICY_UNSPECIFIED, leadsv1.DedupePolicy_DEDUPE_POLICY_SKIP,
		leadsv1.DedupePolicy_DEDUPE_POLICY_UPDATE, leadsv1.DedupePolicy_DEDUPE_POLICY_ALLOW:
	default:
		v.Add("start.dedupe_policy", "unknown policy %d", st.GetDedupePolicy())
	}
	if id := st.GetImportId(); id != "" && !importIDRE.MatchString(id) {
		v.Add("start.import_id", "must match [A-Za-z0-9_.:-]{1,128}")
	}
	if d := st.GetDelimiter(); d != "" {
		if r, n := utf8.DecodeRuneInString(d); n != len(d) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
			v.Add("start.delimiter", "must be one character other than a quote or newline")
		}
	}
	return v.Err("invalid import")
}

func delimiter(st *leadsv1.ImportStart) rune {
	r, _ := utf8.DecodeRuneInString(st.GetDelimiter())
	if r == utf8.RuneError {
		return ','
	}
	return r
}

func importObject(o leadsv1.TransferObject) app.ImportObject {
	switch o {
	case leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT:
		return app.ImportContacts
	case leadsv1.TransferObject_TRANSFER_OBJECT_ACCOUNT:
		return app.ImportAccounts
	}
	return app.ImportLeads
}

func dedupePolicy(p leadsv1.DedupePolicy) app.DedupePolicy {
	switch p {
	case leadsv1.DedupePolicy_DEDUPE_POLICY_UPDATE:
		return app.DedupeUpdate
	case leadsv1.DedupePolicy_DEDUPE_POLICY_ALLOW:
		return app.DedupeAllow
	}
	return app.DedupeSkip
}

// malformed is the InvalidArgument of a file that cannot be read at all.
func malformed(err error) error {
	e := apperr.InvalidFields(err.Error(), apperr.FieldViolation{Field: "chunk", Description: err.Error()})
	e.Reason = "MALFORMED_FILE"
	return e
}

func progressToProto(p app.ImportProgress, bytesRead int64) *leadsv1.ImportProgress {
	return &leadsv1.ImportProgress{RowsRead: p.RowsRead, Created: p.Created, Updated: p.Updated,
		Skipped: p.Skipped, Failed: p.Failed, BytesRead: bytesRead}
}

func reportToProto(r app.ImportReport, st *leadsv1.ImportStart, cols []fieldmap.Column) *leadsv1.ImportReport {
	out := &leadsv1.ImportReport{ImportId: r.ImportID, Object: st.GetObject(), DryRun: st.GetDryRun(),
		Rows: r.RowsRead, Created: r.Created, Updated: r.Updated, Skipped: r.Skipped, Failed: r.Failed,
		Duration: durationpb.New(r.Duration), ResultsTruncated: r.Truncated}
	for _, res := range r.Results {
		pr := &leadsv1.ImportRowResult{Line: int64(res.Line), Outcome: outcomeToProto(res.Outcome), RecordId: res.RecordID, Reason: res.Reason}
		for _, e := range res.Errors {
			pr.Errors = append(pr.Errors, &leadsv1.ImportFieldError{Field: e.Field, Column: e.Column, Description: e.Description})
		}
		out.Results = append(out.Results, pr)
	}
	for _, c := range cols {
		out.Columns = append(out.Columns, &leadsv1.ImportColumn{Header: c.Header, Field: c.Field, Automatic: c.Automatic})
	}
	return out
}

func outcomeToProto(o app.RowOutcome) leadsv1.ImportRowOutcome {
	switch o {
	case app.RowCreated:
		return leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_CREATED
	case app.RowUpdated:
		return leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_UPDATED
	case app.RowSkipped:
		return leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_SKIPPED
	}
	return leadsv1.ImportRowOutcome_IMPORT_ROW_OUTCOME_FAILED
}
