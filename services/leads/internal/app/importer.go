package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// ImportObject is the kind of record an import writes.
type ImportObject int

// Import objects.
const (
	ImportLeads ImportObject = iota + 1
	ImportContacts
	ImportAccounts
)

func (o ImportObject) String() string {
	switch o {
	case ImportLeads:
		return "lead"
	case ImportContacts:
		return "contact"
	case ImportAccounts:
		return "account"
	}
	return "record"
}

// DedupePolicy says what happens to a row matching an existing record.
type DedupePolicy int

// Dedupe policies.
const (
	// DedupeSkip leaves the existing record alone and reports the row skipped.
	DedupeSkip DedupePolicy = iota
	// DedupeUpdate writes the row's non-empty mapped fields onto the existing record.
	DedupeUpdate
	// DedupeAllow creates a new record anyway.
	DedupeAllow
)

// RowOutcome is what happened to one row.
type RowOutcome int

// Row outcomes.
const (
	RowCreated RowOutcome = iota + 1
	RowUpdated
	RowSkipped
	RowFailed
)

// RowError is one reason a row failed.
type RowError struct {
	// Field is the field path ("email"); "" for the row as a whole.
	Field string
	// Column is the header the field came from.
	Column      string
	Description string
}

// RowResult is what happened to one row.
type RowResult struct {
	Line     int
	Outcome  RowOutcome
	RecordID string
	Errors   []RowError
	Reason   string
}

// ImportRow is one row of a file, mapped to a command.
type ImportRow struct {
	// Line is the row's first line in the file (vCard: the BEGIN line).
	Line int
	// Errors found while reading and mapping the row: the row fails with them, unwritten.
	Errors []RowError
	// Reason is the one-line reason of such a failure.
	Reason string
	// Record is a LeadRow, ContactRow or AccountRow (nil when Errors is set).
	Record any
}

// RowSource yields the rows of a file in line order; Next returns io.EOF after the last.
type RowSource interface {
	Next() (ImportRow, error)
}

// ImportOptions configure one import.
type ImportOptions struct {
	// ImportID names the import; the row ids are derived from it (see ImportRecordID).
	ImportID string
	Object   ImportObject
	Dedupe   DedupePolicy
	DryRun   bool
	// ColumnOf names the column a field path came from, for row errors.
	ColumnOf func(field string) string
	// Concurrency bounds the rows in flight; 64 when 0.
	Concurrency int
	// ProgressRows and ProgressInterval pace progress reports: every ProgressRows rows read
	// (1,000) and every ProgressInterval (500 ms), whichever comes first.
	ProgressRows     int
	ProgressInterval time.Duration
}

// ImportProgress is how far an import has come.
type ImportProgress struct {
	RowsRead, Created, Updated, Skipped, Failed int64
}

// MaxReportResults caps the rows listed in a report.
const MaxReportResults = 10_000

// ImportReport is the outcome of an import.
type ImportReport struct {
	ImportID string
	ImportProgress
	// Results are the skipped and failed rows in line order (failed ones kept first when
	// there are more than MaxReportResults).
	Results   []RowResult
	Truncated bool
	Duration  time.Duration
}

// ImportRecordID is the id of the record a row creates: a UUID-shaped hash of (tenant,
// import id, object, line), so re-running an interrupted import addresses the same records and
// creates none twice.
func ImportRecordID(tenant, importID string, o ImportObject, line int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", tenant, importID, o, line))
	sum[6] = sum[6]&0x0f | 0x80 // UUID version 8 (custom)
	sum[8] = sum[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// importRun is the shared state of one running import.
type importRun struct {
	a      *App
	tenant string
	o      ImportOptions

	mu       sync.Mutex
	progress ImportProgress
	results  []RowResult
	// dryKeys are the dedupe keys rows of a dry run would have claimed, to report in-file
	// duplicates as a real run would.
	dryKeys map[string]string
}

// Import runs an import of the rows src yields. Rows are written concurrently (at most
// o.Concurrency in flight) except that rows sharing a dedupe key run in line order, so the
// first of two duplicate rows wins as a person reading the file expects. A bad row fails alone;
// Import fails only when src does (the rows already written stay written, and a re-run with the
// same import id completes the import without writing any row twice). progress is called with
// running totals, never concurrently.
func (a *App) Import(ctx context.Context, tenant string, o ImportOptions, src RowSource, progress func(ImportProgress)) (ImportReport, error) {
	start := time.Now()
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.ProgressRows <= 0 {
		o.ProgressRows = 1000
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 500 * time.Millisecond
	}
	if o.ColumnOf == nil {
		o.ColumnOf = func(string) string { return "" }
	}
	run := &importRun{a: a, tenant: tenant, o: o, dryKeys: map[string]string{}}

	var progMu sync.Mutex
	report := func() {
		if progress == nil {
			return
		}
		progMu.Lock()
		defer progMu.Unlock()
		progress(run.snapshot())
	}
	tickDone := make(chan struct{})
	tickStopped := make(chan struct{})
	go func() {
		defer close(tickStopped)
		t := time.NewTicker(o.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				report()
			case <-tickDone:
				return
			}
		}
	}()

	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Concurrency)
	inflight := map[string]chan struct{}{}
	var srcErr error
	for {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			srcErr = err
			break
		}
		if ctx.Err() != nil {
			srcErr = ctx.Err()
			break
		}
		run.mu.Lock()
		run.progress.RowsRead++
		read := run.progress.RowsRead
		run.mu.Unlock()
		if read%int64(o.ProgressRows) == 0 {
			report()
		}
		if len(row.Errors) > 0 || row.Record == nil {
			reason := row.Reason
			if reason == "" {
				reason = "invalid " + o.Object.String()
			}
			run.record(RowResult{Line: row.Line, Outcome: RowFailed, Errors: row.Errors, Reason: reason})
			continue
		}
		// Wait for earlier rows with the same key: they decide whether this one is a duplicate.
		keys := run.keys(row.Record)
		for _, k := range keys {
			if ch, ok := inflight[k]; ok {
				<-ch
			}
		}
		done := make(chan struct{})
		for _, k := range keys {
			inflight[k] = done
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; close(done); wg.Done() }()
			run.record(run.write(ctx, row))
		}()
	}
	wg.Wait()
	close(tickDone)
	<-tickStopped
	if srcErr != nil {
		return ImportReport{}, srcErr
	}
	report()
	return run.report(time.Since(start)), nil
}

func (r *importRun) snapshot() ImportProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.progress
}

func (r *importRun) record(res RowResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch res.Outcome {
	case RowCreated:
		r.progress.Created++
		return
	case RowUpdated:
		r.progress.Updated++
		return
	case RowSkipped:
		r.progress.Skipped++
	default:
		res.Outcome = RowFailed
		r.progress.Failed++
	}
	r.results = append(r.results, res)
}

// report lists skipped and failed rows in line order, failed rows first when there are too
// many to list.
func (r *importRun) report(d time.Duration) ImportReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.results
	truncated := false
	if len(res) > MaxReportResults {
		slices.SortStableFunc(res, func(a, b RowResult) int {
			if (a.Outcome == RowFailed) != (b.Outcome == RowFailed) {
				if a.Outcome == RowFailed {
					return -1
				}
				return 1
			}
			return a.Line - b.Line
		})
		res, truncated = res[:MaxReportResults], true
	}
	slices.SortFunc(res, func(a, b RowResult) int { return a.Line - b.Line })
	return ImportReport{ImportID: r.o.ImportID, ImportProgress: r.progress, Results: res, Truncated: truncated, Duration: d}
}

// write runs one row, retrying while another writer holds a pending claim on its key.
func (r *importRun) write(ctx context.Context, row ImportRow) RowResult {
	id := ImportRecordID(r.tenant, r.o.ImportID, r.o.Object, row.Line)
	for attempt := 1; ; attempt++ {
		res, busy := r.writeOnce(ctx, row, id)
		if !busy || attempt == 10 || ctx.Err() != nil {
			res.Line = row.Line
			return res
		}
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
}

func (r *importRun) writeOnce(ctx context.Context, row ImportRow, id string) (RowResult, bool) {
	switch rec := row.Record.(type) {
	case LeadRow:
		return r.importLead(ctx, id, row.Line, rec)
	case ContactRow:
		return r.importContact(ctx, id, row.Line, rec)
	case AccountRow:
		return r.importAccount(ctx, id, row.Line, rec)
	}
	return RowResult{Outcome: RowFailed, Reason: fmt.Sprintf("unsupported row %T", row.Record)}, false
}

// keys are the dedupe keys of a row (prefixed by kind so a lead's and a contact's never meet).
func (r *importRun) keys(rec any) []string {
	switch rec := rec.(type) {
	case LeadRow:
		return leadRowKeys(rec)
	case ContactRow:
		return contactRowKeys(rec)
	case AccountRow:
		return accountRowKeys(rec)
	}
	return nil
}

// idempotencyKey is the key of a row's update, so a re-run replays it instead of writing again.
func (r *importRun) idempotencyKey(line int) string {
	return fmt.Sprintf("import:%s:%s:%d", r.o.ImportID, r.o.Object, line)
}

// dryClaim records a dry-run row's keys; it returns the id of an earlier row holding one and
// that key.
func (r *importRun) dryClaim(id string, keys []string) (string, string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if holder, ok := r.dryKeys[k]; ok && holder != id {
			return holder, k, true
		}
	}
	for _, k := range keys {
		r.dryKeys[k] = id
	}
	return "", "", false
}
