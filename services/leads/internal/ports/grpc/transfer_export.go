package grpc

import (
	"bytes"
	"context"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/csvfile"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/fieldmap"
)

// exportPageSize is how many records one read-model page of an export holds.
const exportPageSize = 1000

// exportChunkBytes is the size a chunk of the exported file is sent at.
const exportChunkBytes = 64 << 10

// ExportRecords pages through the object's List with the request's filters (through the List
// handlers themselves, so filters are validated and applied exactly as List does) and streams
// the CSV: a header of the import's field paths (then the tenant's custom fields by name), a
// row per record.
func (s *TransferServer) ExportRecords(req *leadsv1.ExportRecordsRequest, stream leadsv1.DataTransferService_ExportRecordsServer) error {
	ctx := stream.Context()
	t, err := tenant(ctx)
	if err != nil {
		return err
	}
	obj := importObject(req.GetObject())
	if req.GetObject() == leadsv1.TransferObject_TRANSFER_OBJECT_UNSPECIFIED {
		return apperr.InvalidFields("invalid export", apperr.FieldViolation{Field: "object", Description: "is required: LEAD, CONTACT or ACCOUNT"})
	}
	cfg, err := s.app.Config(ctx, t)
	if err != nil {
		return err
	}
	cols := fieldmap.Paths(fieldmapObject(obj))
	for _, name := range customfield.SortedNames(cfg.Fields(cfgObject(obj))) {
		cols = append(cols, fieldmap.CustomPrefix+name)
	}
	var buf bytes.Buffer
	w := csvfile.NewWriter(&buf, 0)
	if err := w.Write(cols); err != nil {
		return err
	}
	rows := int64(0)
	flush := func(force bool) error {
		if err := w.Flush(); err != nil {
			return err
		}
		if buf.Len() == 0 || (!force && buf.Len() < exportChunkBytes) {
			return nil
		}
		if err := stream.Send(&leadsv1.ExportRecordsResponse{Chunk: bytes.Clone(buf.Bytes()), Rows: rows}); err != nil {
			return err
		}
		buf.Reset()
		return nil
	}
	cells := make([]string, len(cols))
	err = s.exportPages(ctx, req, func(page []protoreflect.Message) error {
		for _, m := range page {
			for i, c := range cols {
				cells[i] = fieldmap.Format(m, c)
			}
			if err := w.Write(cells); err != nil {
				return err
			}
			rows++
		}
		return flush(false)
	})
	if err != nil {
		return err
	}
	return flush(true)
}

// exportPages calls each with every page of the object's List.
func (s *TransferServer) exportPages(ctx context.Context, req *leadsv1.ExportRecordsRequest, each func([]protoreflect.Message) error) error {
	token := ""
	for {
		var page []protoreflect.Message
		var next string
		switch req.GetObject() {
		case leadsv1.TransferObject_TRANSFER_OBJECT_CONTACT:
			q := proto.CloneOf(req.GetContacts())
			if q == nil {
				q = &leadsv1.ListContactsRequest{}
			}
			q.PageSize, q.PageToken, q.Read = exportPageSize, token, req.GetRead()
			res, err := NewContactsServer(s.app).ListContacts(ctx, q)
			if err != nil {
				return err
			}
			for _, c := range res.GetContacts() {
				page = append(page, c.ProtoReflect())
			}
			next = res.GetNextPageToken()
		case leadsv1.TransferObject_TRANSFER_OBJECT_ACCOUNT:
			q := proto.CloneOf(req.GetAccounts())
			if q == nil {
				q = &leadsv1.ListAccountsRequest{}
			}
			q.PageSize, q.PageToken, q.Read = exportPageSize, token, req.GetRead()
			res, err := NewAccountsServer(s.app).ListAccounts(ctx, q)
			if err != nil {
				return err
			}
			for _, a := range res.GetAccounts() {
				page = append(page, a.ProtoReflect())
			}
			next = res.GetNextPageToken()
		default:
			q := proto.CloneOf(req.GetLeads())
			if q == nil {
				q = &leadsv1.ListLeadsRequest{}
			}
			q.PageSize, q.PageToken, q.Read = exportPageSize, token, req.GetRead()
			res, err := NewServer(s.app).ListLeads(ctx, q)
			if err != nil {
				return err
			}
			for _, l := range res.GetLeads() {
				page = append(page, l.ProtoReflect())
			}
			next = res.GetNextPageToken()
		}
		if err := each(page); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		token = next
	}
}
