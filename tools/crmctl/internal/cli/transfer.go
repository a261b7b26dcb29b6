package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/render"
)

// importChunkSize is the size of the file chunks sent; the API takes up to 1 MiB.
const importChunkSize = 256 << 10

// importFlags are ImportStart's fields as flags (bound like the unary commands' ones).
var importFlags = []field{
	fu("object", "start.object", "what the file holds (required)"),
	fu("format", "start.format", "file format (default: vcard for .vcf/.vcard files, else csv)"),
	fu("map", "start.column_mapping", `column mapping "Header=field.path" (map to nothing to ignore a column)`),
	fu("dedupe", "start.dedupe_policy", "what a row matching an existing record does"),
	fu("dry-run", "start.dry_run", "validate and dedupe every row, write nothing"),
	fu("import-id", "start.import_id", "names the import: re-running with the same id writes no row twice"),
	fu("delimiter", "start.delimiter", "CSV field delimiter (default ,)"),
}

func (a *app) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "import FILE",
		Aliases: []string{"imports"},
		Short:   "Import a CSV (leads, contacts, accounts) or vCard (contacts) file, with progress and a row report",
		Long: `Import a CSV file of leads, contacts or accounts, or a vCard file of contacts (FILE "-" reads
stdin). The file is streamed to the leads service, which checks the whole file before writing
anything, then imports the rows; a progress bar follows it on a terminal. The report lists every
skipped and failed row by its line in the file (the header is line 1) with the reasons.

A bad row never stops the good ones; crmctl exits with status 1 when any row failed, after
printing the report. --output json prints the report as protojson.

Calls crm.leads.v1.DataTransferService/ImportRecords. docs/import.md describes the column
mapping and the formats.`,
		Example: `  crmctl import leads.csv --object lead --dedupe update
  crmctl import contacts.vcf --object contact
  crmctl import leads.csv --object lead --map "E-mail Address=email" --map "Region=custom_fields.region" --dry-run`,
		Args: cobra.ExactArgs(1),
	}
	var fromJSON string
	cmd.Flags().StringVar(&fromJSON, "from-json", "", "the ImportRecordsRequest start message as protojson ('{\"start\": {...}}'): inline, @file, or -; flags override it")
	bound := bindFields(cmd.Flags(), (&leadsv1.ImportRecordsRequest{}).ProtoReflect().Descriptor(), importFlags)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		req := &leadsv1.ImportRecordsRequest{}
		if fromJSON != "" {
			if err := readJSON(cmd.InOrStdin(), fromJSON, req); err != nil {
				return err
			}
		}
		if _, err := bound.apply(req.ProtoReflect()); err != nil {
			return err
		}
		start := req.GetStart()
		if start == nil {
			start = &leadsv1.ImportStart{}
		}
		if start.GetFormat() == leadsv1.ImportFormat_IMPORT_FORMAT_UNSPECIFIED {
			if ext := strings.ToLower(filepath.Ext(args[0])); ext == ".vcf" || ext == ".vcard" {
				start.Format = leadsv1.ImportFormat_IMPORT_FORMAT_VCARD
			}
		}
		return a.runImport(cmd, args[0], start)
	}
	return cmd
}

func (a *app) runImport(cmd *cobra.Command, path string, start *leadsv1.ImportStart) error {
	var in io.Reader
	var size int64 = -1
	if path == "-" {
		in = cmd.InOrStdin()
	} else {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	conn, err := a.conn(svcLeads)
	if err != nil {
		return err
	}
	ctx := a.callContext(cmd.Context())
	stream, err := leadsv1.NewDataTransferServiceClient(conn).ImportRecords(ctx)
	if err != nil {
		return err
	}
	// Send from a goroutine: the server answers with progress while the client still sends,
	// and a stream whose receiver stalls would stop the sender by flow control.
	sent := make(chan error, 1)
	go func() { sent <- sendImport(stream, start, in) }()

	bar := a.newBar(size, "importing")
	var report *leadsv1.ImportReport
	for {
		msg, err := stream.Recv()
		if err != nil {
			bar.done()
			if isEOF(err) {
				break
			}
			return err
		}
		if p := msg.GetProgress(); p != nil {
			bar.set(p.GetBytesRead(), fmt.Sprintf("%d rows: %d created, %d updated, %d skipped, %d failed",
				p.GetRowsRead(), p.GetCreated(), p.GetUpdated(), p.GetSkipped(), p.GetFailed()))
		}
		if r := msg.GetReport(); r != nil {
			report = r
		}
	}
	if err := <-sent; err != nil {
		return err
	}
	if report == nil {
		return errors.New("the import ended without a report")
	}
	if err := a.printReport(report); err != nil {
		return err
	}
	if report.GetFailed() > 0 {
		fmt.Fprintf(a.stderr, "Error: %d of %d rows failed (see the report)\n", report.GetFailed(), report.GetRows())
		return &exitError{msg: "rows failed"}
	}
	return nil
}

// sendImport sends the start message, the file in chunks, and half-closes. A send that fails
// because the server has already answered (io.EOF) is not an error: Recv returns the status.
func sendImport(stream leadsv1.DataTransferService_ImportRecordsClient, start *leadsv1.ImportStart, in io.Reader) error {
	if err := stream.Send(&leadsv1.ImportRecordsRequest{Message: &leadsv1.ImportRecordsRequest_Start{Start: start}}); err != nil {
		return ignoreEOF(err)
	}
	buf := make([]byte, importChunkSize)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			if err := stream.Send(&leadsv1.ImportRecordsRequest{Message: &leadsv1.ImportRecordsRequest_Chunk{Chunk: chunk}}); err != nil {
				return ignoreEOF(err)
			}
		}
		if err == io.EOF {
			return stream.CloseSend()
		}
		if err != nil {
			_ = stream.CloseSend()
			return fmt.Errorf("read the file: %w", err)
		}
	}
}

func ignoreEOF(err error) error {
	if isEOF(err) {
		return nil
	}
	return err
}

// printReport writes the import report: a summary line and a row per skipped or failed row
// (table), or the report itself (json).
func (a *app) printReport(r *leadsv1.ImportReport) error {
	if a.output == outputJSON {
		return render.JSON(a.stdout, r)
	}
	mode := ""
	if r.GetDryRun() {
		mode = " (dry run: nothing written)"
	}
	fmt.Fprintf(a.stdout, "import %s%s: %d rows, %d created, %d updated, %d skipped, %d failed in %s\n",
		r.GetImportId(), mode, r.GetRows(), r.GetCreated(), r.GetUpdated(), r.GetSkipped(), r.GetFailed(),
		r.GetDuration().AsDuration().Round(1e6))
	if len(r.GetResults()) == 0 {
		return nil
	}
	fmt.Fprintln(a.stdout)
	flat := &leadsv1.ImportReport{}
	for _, res := range r.GetResults() {
		row := &leadsv1.ImportRowResult{Line: res.GetLine(), Outcome: res.GetOutcome(), RecordId: res.GetRecordId(), Reason: reasonText(res)}
		flat.Results = append(flat.Results, row)
	}
	if err := render.Table(a.stdout, flat, render.View{Rows: []string{"results"}, Columns: []string{"line", "outcome", "record_id", "reason"}}); err != nil {
		return err
	}
	if r.GetResultsTruncated() {
		fmt.Fprintln(a.stdout, "(only the first 10,000 rows are listed)")
	}
	return nil
}

// reasonText joins a row's reason and field errors into one cell.
func reasonText(res *leadsv1.ImportRowResult) string {
	parts := []string{}
	if res.GetReason() != "" {
		parts = append(parts, res.GetReason())
	}
	for _, e := range res.GetErrors() {
		where := e.GetField()
		if e.GetColumn() != "" && e.GetColumn() != e.GetField() {
			where += " (column " + e.GetColumn() + ")"
		}
		if where == "" {
			parts = append(parts, e.GetDescription())
		} else {
			parts = append(parts, where+": "+e.GetDescription())
		}
	}
	return strings.Join(parts, "; ")
}

func (a *app) exportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "export",
		Aliases: []string{"exports"},
		Short:   "Export leads, contacts or accounts as CSV to a file or stdout",
		Long: `Export leads, contacts or accounts as CSV (UTF-8, header row) to --file or stdout. The columns
are the import's field paths, so an export imports back unchanged. Filters: the list command's
request under "leads", "contacts" or "accounts" in --from-json, or the flags below.

Calls crm.leads.v1.DataTransferService/ExportRecords.`,
		Example: `  crmctl export --object lead --file leads.csv
  crmctl export --object lead --status sales-qualified > sql.csv
  crmctl export --object contact --from-json '{"contacts": {"accountId": "0190..."}}'`,
		Args: cobra.NoArgs,
	}
	var fromJSON, file string
	cmd.Flags().StringVar(&fromJSON, "from-json", "", "the ExportRecordsRequest as protojson: inline, @file, or -; flags override it")
	cmd.Flags().StringVarP(&file, "file", "f", "", "write to this file instead of stdout")
	bound := bindFields(cmd.Flags(), (&leadsv1.ExportRecordsRequest{}).ProtoReflect().Descriptor(), []field{
		fu("object", "object", "what to export (required)"),
		fu("status", "leads.statuses", "leads: only these statuses"),
		fu("owner", "leads.owner_ids", "leads: only these owners"),
		fu("source", "leads.sources", "leads: only these sources"),
		fu("tag", "leads.tag", "leads: only with this tag"),
		fu("min-sequence", "read.min_sequence", "wait until the read model has applied this stream sequence"),
	})
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		req := &leadsv1.ExportRecordsRequest{}
		if fromJSON != "" {
			if err := readJSON(cmd.InOrStdin(), fromJSON, req); err != nil {
				return err
			}
		}
		if _, err := bound.apply(req.ProtoReflect()); err != nil {
			return err
		}
		return a.runExport(cmd, req, file)
	}
	return cmd
}

func (a *app) runExport(cmd *cobra.Command, req *leadsv1.ExportRecordsRequest, file string) (err error) {
	conn, err := a.conn(svcLeads)
	if err != nil {
		return err
	}
	stream, err := leadsv1.NewDataTransferServiceClient(conn).ExportRecords(a.callContext(cmd.Context()), req)
	if err != nil {
		return err
	}
	out := a.stdout
	if file != "" {
		// Written beside the target and renamed at the end, so a failed export leaves no
		// half-written file under the name asked for.
		tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
		if err != nil {
			return err
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		out = tmp
	}
	bar := a.newBar(-1, "exporting")
	var rows int64
	for {
		msg, err := stream.Recv()
		if isEOF(err) {
			break
		}
		if err != nil {
			bar.done()
			return err
		}
		if _, err := out.Write(msg.GetChunk()); err != nil {
			bar.done()
			return err
		}
		rows = msg.GetRows()
		bar.set(rows, fmt.Sprintf("exported %d rows", rows))
	}
	bar.done()
	if tmp, ok := out.(*os.File); ok && file != "" {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), file); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "exported %d rows to %s\n", rows, file)
	}
	return nil
}
