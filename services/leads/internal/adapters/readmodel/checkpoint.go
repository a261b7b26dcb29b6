package readmodel

import (
	"context"
	"database/sql"
	"fmt"
)

// Checkpoint returns, per stream, the sequence of the last event whose effects
// are stored. It is read from the database, so it always describes the rows
// that are there; the projection runner resumes after it.
func (s *Store) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	return readCheckpoints(ctx, s.r)
}

func readCheckpoints(ctx context.Context, db *sql.DB) (map[string]uint64, error) {
	rows, err := db.QueryContext(ctx, `SELECT stream, seq FROM checkpoints`)
	if err != nil {
		return nil, fmt.Errorf("readmodel: read checkpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var stream string
		var seq int64
		if err := rows.Scan(&stream, &seq); err != nil {
			return nil, fmt.Errorf("readmodel: read checkpoints: %w", err)
		}
		out[stream] = uint64(seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: read checkpoints: %w", err)
	}
	return out, nil
}

// WaitFor returns once the checkpoint of stream has reached seq, that is once
// a read sees the effects of that event: the read-after-write wait for a
// command that produced seq. It is woken by Apply in this process, not by
// polling. During a bulk load (bulk.go) it waits for the load's end. It
// returns ctx's error when ctx ends first and ErrClosed when the store is
// closed.
func (s *Store) WaitFor(ctx context.Context, stream string, seq uint64) error {
	for {
		s.ckMu.Lock()
		if s.closed {
			s.ckMu.Unlock()
			return ErrClosed
		}
		if s.ck[stream] >= seq {
			s.ckMu.Unlock()
			return nil
		}
		ch := s.changed
		s.ckMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Applied returns the committed checkpoint of stream as this process knows it (no query).
func (s *Store) Applied(stream string) uint64 {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	return s.ck[stream]
}

// advance records a committed checkpoint and wakes the waiters.
func (s *Store) advance(stream string, seq uint64) {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	if seq > s.ck[stream] {
		s.ck[stream] = seq
	}
	if !s.closed {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

func (s *Store) checkOpen() error {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}
