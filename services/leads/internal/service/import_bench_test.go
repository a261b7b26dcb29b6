package service_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/csvfile"
)

// BenchmarkImport100k imports a CSV of LEADS_IMPORT_BENCH_ROWS (default 100,000) distinct
// leads over gRPC with the default SKIP dedupe policy (every row claims its email and phone),
// the read-model projector running beside it, and reports rows/s. One iteration is one whole
// import: run it with -benchtime 1x (make bench does).
func BenchmarkImport100k(b *testing.B) {
	if b.N > 1 {
		b.Skip("one iteration imports every row: run with -benchtime 1x")
	}
	rows := 100_000
	if v, err := strconv.Atoi(os.Getenv("LEADS_IMPORT_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	file := benchCSV(b, rows)
	h := startTransfer(b, true)
	ctx := as(b, "bench", "rep-1")
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		rep, _, err := h.importFile(ctx, &leadsv1.ImportStart{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD,
			ImportId: fmt.Sprintf("bench-%d", i)}, file, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		if i == 0 && rep.GetCreated() != int64(rows) {
			b.Fatalf("created %d of %d: %v", rep.GetCreated(), rows, rep.GetResults()[:min(3, len(rep.GetResults()))])
		}
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		b.ReportMetric(el.Seconds(), "s/import")
	}
	b.ReportMetric(0, "ns/op")
}

// benchCSV is a file of n distinct, valid leads (about 150 bytes a row).
func benchCSV(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := csvfile.NewWriter(&buf, 0)
	_ = w.Write([]string{"First Name", "Last Name", "Email", "Phone", "Company", "Job Title", "Country", "Industry", "Employees", "Lead Source", "Tags"})
	for i := range n {
		_ = w.Write([]string{"First" + strconv.Itoa(i), "Last", fmt.Sprintf("lead%d@bench.example", i), fmt.Sprintf("+1 555 %07d", i),
			"Company " + strconv.Itoa(i%5000), "Engineer", "US", "software", strconv.Itoa(10 + i%500), "web form", "imported;bench"})
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
