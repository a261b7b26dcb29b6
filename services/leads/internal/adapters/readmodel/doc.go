// Package readmodel is the leads service's query store (DESIGN §4): the
// projection of CRM_LEADS that answers GetLead, ListLeads and SearchLeads.
//
// # Why SQLite
//
// SQLite through modernc.org/sqlite (pure Go, no cgo) gives B-tree indexes,
// an FTS5 full-text index and transactions in-process: no server to run, a
// read model that survives restarts with its checkpoint, and at 1,000,000
// leads a database of about a gigabyte (see Benchmarks) instead of the RAM an
// in-memory index of the same queries would pin. Every replica keeps its own
// file and can rebuild it from the stream.
//
// # Consistency
//
// Apply writes one projector batch (upserts, deletes and the stream's
// checkpoint) in one transaction, so the checkpoint always describes exactly
// the rows that are stored: after a crash the ordered runner resumes after
// Checkpoint and nothing is lost or applied twice. An upsert older than the
// stored row (by stream sequence) is ignored and the checkpoint never moves
// back, so replaying a batch is harmless. WaitFor gives read-after-write: a
// command returns the sequence it appended and the query waits, woken in
// process by Apply, until the read model has applied it.
//
// A rebuild from the start of the stream into an empty store is a bulk load
// (bulk.go): the secondary indexes are dropped and the search index is left
// empty while the projector catches up, then both are built in one pass. A
// crash at any point leaves a file the projector finishes from its checkpoint,
// and WaitFor waits for the end of the load, so a read after a write still
// finds the write with every index. Options.NoBulkLoad turns it off.
//
// The write path keeps a projector batch cheap: an update sets only the
// indexed columns that changed (SQLite rewrites every index whose column is
// in the SET list), tags and search terms are rewritten only when they
// changed, and search index changes are written at the end of the batch in
// rowid order so FTS5 buffers them instead of flushing a segment per row.
// The app should still coalesce several events of one lead in a batch into
// one upsert.
//
// Connections: one writer (journal_mode=WAL, synchronous=NORMAL, BEGIN
// IMMEDIATE) and a pool of query_only readers. WAL lets reads run on a
// snapshot while the projector writes. synchronous=NORMAL can lose the last
// transactions on power loss, data and checkpoint together, which the
// projector replays; the stream, not this file, is the record.
//
// # Schema and indexes
//
// The schema is embedded migrations (migrations/*.sql), applied in one
// transaction at Open and recorded in schema_migrations. The search index's
// terms are built in Go, so its format has its own version (PRAGMA
// user_version, searchindex.go): when it changes, Open rebuilds leads_fts from
// the leads table in the migration's transaction (~30 s at 1M leads) instead
// of replaying the stream. leads has one row
// per lead with the filter, sort and display columns and Doc, the opaque
// full view. Every index leads with tenant, so a tenant's rows are one
// contiguous range and no query can leave it:
//
//   - (tenant, id) unique: Get and the upsert lookup.
//   - (tenant, created_at | updated_at | total_score | last_name_key, id,
//     status, owner): one per sort order, id as tiebreak, so a page is one
//     range seek from the keyset cursor and needs no sort. status and owner
//     trail the key so the two most common filters are checked in the index
//     entry before the row is read: a filtered walk touches rows that match.
//   - (tenant, owner, status, created_at, id): "my leads in status X, newest
//     first" is an exact range.
//   - (tenant, campaign_id, created_at, id): a campaign is too selective to
//     find by walking a sort index.
//   - lead_tags (tenant, tag, lead_pk): the tag set. A rare tag
//     (at most 5,000 leads) drives the query and its leads are sorted; a
//     common tag is probed per row during the sort-order walk.
//
// Other filters (territory, source, temperature, score and date ranges) are
// checked on the rows of the walk. Their cost per page is the page size
// divided by the share of the tenant's leads that match: cheap for the
// CRM-typical filters (the benchmark's), but a combination that matches a
// tiny share of a large tenant without a dedicated index reads many rows; the
// caller's deadline cancels such a query.
//
// # Paging
//
// Page tokens are opaque keyset cursors (base64 of the last row's sort key
// and id, or search tier and row key) with a fingerprint of tenant, filters
// and sort. A token used with a different query, or one that does not parse,
// is ErrBadPageToken; page sizes outside 1..1000 are ErrBadPageSize (0 means
// 50). Keyset paging costs the same at any depth and does not shift when rows
// are inserted before the cursor.
//
// # Search
//
// leads_fts is an FTS5 index whose tokens are built in Go: every word of
// first name, last name, email and company becomes "<tenant hash><column
// letter><word>", lower-cased with Latin diacritics folded. A tenant's words
// in one column thus have their own doclists, so tenant scoping and "which
// column matched" cost nothing at query time, and prefix indexes on the first
// 1..12 bytes of a word make a prefix one doclist, read lazily and cut at the
// page size. (Beyond the prefix indexes FTS5 reads and merges every posting
// of every matching term first: with indexes of 1..4 bytes, "robert*" cost
// 6 ms at 1M leads, and a two-word search ORs four such prefixes per word.)
// Every query word must start some word of the lead (AND across words, any
// column). Results are ranked in tiers: a word is the whole last name, starts
// the last name, the first name, an email word, a company word; newest first
// within a tier. Each tier is one FTS query read in rowid order and cut at the
// page size, so a search does not rank every match: bm25 over a common
// prefix at 1M leads read one docsize row per match and took ~100 ms. User
// input is split into letters and digits and quoted, so no input can form
// FTS5 syntax.
//
// # Benchmarks
//
// BenchmarkReadModel (bench_test.go) bulk loads 1,000,000 synthetic leads in
// batches of 1,000 and reports the load rate, p50/p99 of List, Search and Get,
// and the process's memory. On the 2-core development VM (1000 iterations
// each; docs/benchmarks.md has every figure):
//
//	load (bulk, indexes built at the end)  7,500 rows/s, 757 MiB database
//	random updates of existing leads       ~1,150 rows/s (batches of 200)
//	List status+owner, created desc        p50 0.4 ms      p99 1.4 ms
//	List tag+status, created desc          p50 3.2 ms      p99 23 ms
//	List other filter/sort mixes           p50 ≤ 2.4 ms    p99 ≤ 18 ms
//	Search one word (prefix, letter, name) p50 ≤ 0.8 ms    p99 ≤ 5.4 ms
//	Search "first-name last-prefix"        p50 2.1 ms      p99 4.9 ms
//	Get                                    p50 0.05 ms     p99 2.3 ms
//	RSS after the queries                  969 MiB: 155 MiB anonymous, the rest mapped file
//
// BenchmarkRebuild (leadview) replays 1,000,000 LeadCreated events through
// the projector: 8,800 events/s with the bulk load, 4,900 row by row.
package readmodel
