// Package readmodel is the pipeline service's query store (DESIGN §4): the projection of
// CRM_PIPELINE that answers GetOpportunity, ListOpportunities, GetForecast (now and as of a
// past instant), GetPipeline, ListPipelines, GetContract and ListContracts. It speaks domain
// types: Apply takes the states the projector folded, the queries return domain states and a
// forecast.Forecast.
//
// # Storage and consistency
//
// SQLite through libs/sqlitemodel: one writer connection, a pool of read-only connections on
// WAL snapshots that never wait for it, the schema as embedded migrations (migrations/*.sql),
// and the checkpoint of the stream written in the same transaction as the rows it describes.
// Apply stores one projector batch in one transaction, so after a crash the projector resumes
// after Checkpoint and nothing is lost or applied twice. A change whose aggregate version is
// not above the stored one is ignored and the checkpoint never moves back, so replaying a batch
// changes nothing; history rows are keyed by (tenant, opportunity, version) besides. WaitFor is
// the read-after-write wait on a sequence a command returned. Reset empties everything for a
// rebuild from the start of the stream.
//
// Each aggregate is stored as its domain value in JSON (the doc column) next to the columns
// the queries filter, sort and sum on. The JSON keeps every exported field: civil.Date as
// {"Year","Month","Day"}, times in RFC 3339 with nanoseconds, decimals as strings. Decimals
// come back equal in value but not always in exponent (a quantity 1.50 comes back as 1.5), as
// crm.common.v1.Decimal allows; compare them with Equal, as the money package asks.
//
// Amounts are stored exactly in the wire form of crm.common.v1.Money, whole units and nanos
// in two INTEGER columns: the domain admits any amount whose units fit 64 bits, more than
// micro-units in one INTEGER could hold. Sums are taken apart (SUM of units, SUM of nanos) and
// joined exactly in Go; a sum of units beyond int64 fails the query rather than lose digits.
//
// # Opportunities and lists
//
// opportunities has one row per opportunity. Every index leads with tenant: one index per sort
// order (created, updated, expected close date, currency + amount) with id as the tiebreak and
// status and owner trailing, so a page is one range seek from a keyset cursor and the two
// commonest filters are checked in the index entry; exact-range indexes for owner + status,
// pipeline + stage, account and campaign; opportunity_tags for the tag filter. Page tokens are
// opaque keyset cursors (base64 of the last row's sort key and id) with a fingerprint of
// tenant, filters and order: a token used with another query is Invalid "page_token". Keyset
// paging costs the same at any depth and does not shift when rows change between pages.
//
// # The forecast now
//
// Each opportunity row also holds how forecast.Compute counts it: fc_day (expected close date
// while open, close day when won, NULL when lost), fc_month, fc_category (CLOSED when won) and
// the weighted amount (amount × probability / 100, exact: amounts have at most four decimals;
// the amount itself when won). Forecast reads only the covering index opportunities_forecast
// (tenant, fc_month, currency, fc_category, status, owner_id, …): a close-date range is one
// range of it, and GROUP BY (month, currency, category, status[, owner]) is a prefix of its
// order, so SQLite sums while it scans and never sorts. Go then adds the groups into rows
// (quarters from months) and per-currency totals exactly as Compute does and rounds each
// Weighted once; the result equals Compute's for the same snapshots (the tests check it
// against Compute over random histories made by the domain's own decisions). Cost: one pass
// over the index entries in the close-date range, O(opportunities in range) — see Benchmarks.
//
// # The forecast as of an instant
//
// "The forecast as the event log knew it at T" is Compute over forecast.AsOf(log, T): every
// opportunity folded from its events recorded (appended to the stream) at or before T.
// opportunity_history stores that fold once for all T. Each version of an opportunity is what
// the log knew from the recorded time of the event that produced it until the recorded time of
// the next event of that opportunity, so a row per version valid over [its recorded time, the
// next one's) answers any T by a lookup instead of a fold. The recorded time, not the event's
// OccurredAt, is the right clock: a backdated or late event was not known before it was
// appended. Compute reads only what forecast.SnapshotOf copies (owner, pipeline, status,
// forecast category, amount and currency, probability, expected close date, close day; the
// stage is kept too), so a version that changes none of them adds no row: the
// previous row simply stays valid longer. Versions recorded in the same instant were never
// visible one without the other, so only the last is stored; a recorded time earlier than the
// previous version's (a clock that stepped back) is treated as that previous time.
//
// Apply therefore writes, per opportunity and batch, one row per forecast-relevant version
// (the projector passes every intermediate state of the batch, OpportunityChange.History) and
// closes the previous current row; rows = forecast-relevant versions ≤ events. The query must
// find the rows with valid_from ≤ T < valid_to without reading the rest. Each row is filed
// under the smallest aligned window of 2^lvl nanoseconds that holds its interval (current rows
// under a level of their own). Every row of a window at level lvl > 0 contains the window's
// middle m, so among the rows of the one window per level that holds T, those containing T are
// exactly those with valid_from ≤ T when T < m, and those with valid_to > T when T ≥ m: a range
// of the primary key (tenant, lvl, bkt, valid_from, …) or of the index history_to (tenant,
// lvl, bkt, valid_to, …), both covering. The as-of query is 65 such range seeks (one per level)
// that read only rows alive at T, then one sort of the matching ones into groups:
//
//	write: O(log N) per forecast-relevant event (one insert, one update of the previous row,
//	       in three B-trees: the primary key, history_to and history_by_version);
//	query: O(65 · log N + K + M log M): reads the K rows alive at T (one per opportunity that
//	       existed then), sorts the M of them that match the filters; independent of the
//	       length of the histories and of N, the total rows;
//	space: each history row in three B-trees; the benchmark's 2,000,000 rows and 200,000
//	       opportunities take 1.1 GB, about 560 bytes per history row all in.
//
// A forecast as of a day long ago, when few opportunities existed, is cheap; one as of now is
// as costly as the current forecast plus the sort.
//
// # Pipelines and contracts
//
// pipelines holds each pipeline's folded pipelinedef.State; the built-in default pipeline,
// which exists without events, is returned (Get and List) as pipelinedef.New("default") until
// it has some. contracts holds each contract with its status, account, owner, opportunity,
// renewal and end dates for ListContracts' filters and orders ("nearing renewal" is status
// ACTIVE and a renewal date range).
//
// # Benchmarks
//
// BenchmarkForecast (bench_test.go) loads 200,000 open opportunities with ten versions each
// (1,996,080 history rows; 3 currencies, 60 owners with a skewed spread, two pipelines,
// created over 17 months) through Apply in batches of 1,000, then measures 200 queries each.
// On the 2-core development VM, shared with other work while it ran (so upper bounds):
//
//	load                                   527 opportunities/s (≈5,300 versions/s), 1,122 MiB
//	Forecast now, 5-year range, by month,
//	  owner and category (≈9,000 rows)     p50 197 ms   p99 345 ms
//	Forecast now, next 2 quarters by cat.  p50  22 ms   p99  52 ms
//	Forecast now, one owner, 5 years       p50  35 ms   p99  96 ms
//	Forecast as of 6 months back, as the
//	  first row (139,000 rows alive then)  p50 520 ms   p99 826 ms
//	Forecast as of 12 months back (68,000) p50 251 ms   p99 748 ms
//	List owner + open, by close date       p50 1.1 ms   p99  37 ms
//	List pipeline + quarter, amount desc   p50  57 ms   p99 234 ms
//	List category + amount ≥, updated desc p50 1.6 ms   p99  21 ms
//	List tag, created desc                 p50 1.6 ms   p99  33 ms
//
// Of the as-of query's time, finding the 139,000 rows alive at T through the 65 probes takes
// about 45 ms; SQLite's GROUP BY sort of them takes most of the rest (aggregating them in a Go
// map instead measured about 30% faster). The load inserts each opportunity's whole history at
// once, so history rows land all over the time-ordered primary key; a projector replaying the
// stream in order writes near the end of each level instead.
package readmodel
