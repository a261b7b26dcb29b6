package service_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/csvfile"
)

// BenchmarkImport100k imports a CSV of LEADS_IMPORT_BENCH_ROWS (default 100,000) distinct
// leads over gRPC with the default SKIP dedupe policy (every row claims its email and phone),
// every worker running beside it, and reports rows/s next to raw JetStream publishes of as
// many LeadCreated payloads with the same concurrency, measured in the same run. One iteration is one whole
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
	b.ResetTimer()
	// The baseline: as many raw publishes as rows, with the importer's concurrency (64 rows in
	// flight), in the same run.
	const clients = 64
	raw := rawPublish(b, h.harness, clients, max(rows/clients, 1))
	b.ReportMetric(float64(clients*max(rows/clients, 1))/raw.Seconds(), "raw_publish/s")
	// A whole import is one call: give it longer than testkit.As's 30 s.
	md, _ := metadata.FromOutgoingContext(as(b, "bench", "rep-1"))
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), 10*time.Minute)
	defer cancel()
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
		b.ReportMetric((float64(rows)/el.Seconds())/(float64(clients*max(rows/clients, 1))/raw.Seconds()), "import/raw")
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
