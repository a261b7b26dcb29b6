-- Schema version 2: prefix indexes for search words of 1..12 bytes (were 1..4).
--
-- A prefix query longer than every prefix index makes FTS5 read and merge
-- the doclist of every matching term before it returns the first row: at
-- 1,000,000 leads "robert*" (20,000 postings) took 6 ms and "smith*" 18 ms,
-- and a two-word search ORs four such prefixes per word. A prefix index
-- serves the same prefix as one doclist read lazily, cut at the page size
-- (0.2 ms). 12 bytes covers the words people type in full (first names,
-- last names, most company words); a longer word is selective enough that
-- its merge is small. Each extra length costs one more term per indexed word
-- of at least that length: the index grows by about 40 MiB at 1M leads.
--
-- The table is recreated empty; Open then rebuilds it from leads (see
-- searchindex.go: PRAGMA user_version records which search index format the
-- file holds), in this same transaction.
DROP TABLE leads_fts;

CREATE VIRTUAL TABLE leads_fts USING fts5 (
    terms,
    content = '',
    contentless_delete = 1,
    detail = 'none',
    prefix = '10 11 12 13 14 15 16 17 18 19 20 21',
    tokenize = 'ascii'
);
