// Package accountmodel is the SQLite read model of accounts and contacts (file accounts.db on
// libs/sqlitemodel): one row per record with the filter and sort columns, the record as a JSON
// document, a word index for search, and the projector's checkpoint in the same database, so a
// row and the sequence it reflects are written together. It is rebuildable from CRM_LEADS.
package accountmodel
