package sqlitemodel

import (
	"context"
	"database/sql"
	"fmt"
)

// Checkpoint returns, per stream, the sequence of the last event whose effects are stored. It is
// read from the database, so it always describes the rows that are there; a projection runner
// resumes after it.
func (d *DB) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	if err := d.checkOpen(); err != nil {
		return nil, err
	}
	return readCheckpoints(ctx, d.R)
}

func readCheckpoints(ctx context.Context, db *sql.DB) (map[string]uint64, error) {
	rows, err := db.QueryContext(ctx, `SELECT stream, seq FROM checkpoints`)
	if err != nil {
		return nil, fmt.Errorf("sqlitemodel: read checkpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var stream string
		var seq int64
		if err := rows.Scan(&stream, &seq); err != nil {
			return nil, fmt.Errorf("sqlitemodel: read checkpoints: %w", err)
		}
		out[stream] = uint64(seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitemodel: read checkpoints: %w", err)
	}
	return out, nil
}

// Applied returns the committed checkpoint of stream as this process knows it (no query).
func (d *DB) Applied(stream string) uint64 {
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	return d.ck[stream]
}

// WaitFor returns once the checkpoint of stream has reached seq, that is once a read sees the
// effects of that event: the read-after-write wait for a command that produced seq. Write in
// this process wakes it; it does not poll. It returns ctx's error when ctx ends first and
// ErrClosed when the DB closes.
func (d *DB) WaitFor(ctx context.Context, stream string, seq uint64) error {
	for {
		d.ckMu.Lock()
		if d.closed {
			d.ckMu.Unlock()
			return ErrClosed
		}
		if d.ck[stream] >= seq {
			d.ckMu.Unlock()
			return nil
		}
		ch := d.changed
		d.ckMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// advance records committed checkpoints and wakes the waiters.
func (d *DB) advance(ck map[string]uint64) {
	if len(ck) == 0 {
		return
	}
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	for stream, seq := range ck {
		if seq > d.ck[stream] {
			d.ck[stream] = seq
		}
	}
	if !d.closed {
		close(d.changed)
		d.changed = make(chan struct{})
	}
}

func (d *DB) checkOpen() error {
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	if d.closed {
		return ErrClosed
	}
	return nil
}
