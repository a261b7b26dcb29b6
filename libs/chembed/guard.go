package chembed

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ErrInsertValues is returned by Exec on connections from Server.Open for an INSERT that
// carries its rows in the query text (INSERT INTO t (a, b) VALUES ... or FORMAT ...).
// ClickHouse 18.16 does not read such rows on the native protocol: it answers with the table's
// columns and waits for data blocks, while clickhouse-go waits for the end of the query, so the
// call would hang until the read timeout (300s by default). Send rows with PrepareBatch, or use
// INSERT ... SELECT.
var ErrInsertValues = errors.New("chembed: ClickHouse 18.16 cannot take an INSERT with inline rows (VALUES, FORMAT) through Exec on the native protocol; use PrepareBatch")

// insertInline matches INSERT INTO table [(columns)] VALUES|FORMAT, and not INSERT ... SELECT.
var insertInline = regexp.MustCompile("(?is)^\\s*INSERT\\s+INTO\\s+(TABLE\\s+)?[\\w.`\"]+\\s*(\\([^)]*\\))?\\s*(VALUES|FORMAT)\\b")

// guardedConn turns the inline-rows hang into an immediate error, so code that would only work
// on current ClickHouse fails in tests instead of timing out.
type guardedConn struct {
	driver.Conn
}

func (c guardedConn) Exec(ctx context.Context, query string, args ...any) error {
	if insertInline.MatchString(query) {
		return fmt.Errorf("%w: %.80s", ErrInsertValues, query)
	}
	return c.Conn.Exec(ctx, query, args...)
}
