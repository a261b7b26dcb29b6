// Package campaignmodel is the campaign service's read model of campaigns, members and
// touches in SQLite (libs/sqlitemodel, campaign.db). The projector (adapters/campaignview)
// writes whole states with the checkpoint of the batch they come from, in one transaction;
// queries read from a pool that never waits for the writer.
package campaignmodel

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the read model. It is safe for concurrent use: one writer (the projector) and any
// number of readers.
type Store struct {
	// ReadModel promotes the database's Checkpoint, Applied, WaitFor and Close.
	sqlitemodel.ReadModel
	db *sqlitemodel.DB
}

// Open opens (creating if needed) the read model at path; "" gives an ephemeral store.
func Open(ctx context.Context, path string, opts sqlitemodel.Options) (*Store, error) {
	db, err := sqlitemodel.OpenDir(ctx, path, migrationFiles, "migrations", opts)
	if err != nil {
		return nil, fmt.Errorf("campaignmodel: open: %w", err)
	}
	return &Store{ReadModel: db, db: db}, nil
}

// Reset empties the read model so the projector rebuilds it.
func (s *Store) Reset(ctx context.Context) error { return s.db.Reset(ctx) }

// CampaignChange is a campaign's state after a batch.
type CampaignChange struct {
	Tenant string
	State  campaign.Campaign
	Seq    uint64
}

// MemberChange is a member's state after a batch.
type MemberChange struct {
	Tenant string
	State  member.Member
	Seq    uint64
}

// TouchRow is one touch to store.
type TouchRow struct {
	Tenant   string
	Type     member.Type
	PersonID string
	Seq      uint64
	Touch
}

// Batch is what one projector batch changes.
type Batch struct {
	Campaigns []CampaignChange
	Members   []MemberChange
	Touches   []TouchRow
}

// ErrBadChange is returned by Apply for a change it cannot store; nothing is stored.
var ErrBadChange = errors.New("campaignmodel: invalid change")

// Apply stores a batch with the checkpoint (stream, seq) in one transaction. A state older
// than the stored one (a replayed batch) is skipped; touches are stored once per sequence.
func (s *Store) Apply(ctx context.Context, stream string, seq uint64, b Batch) error {
	if stream == "" {
		return fmt.Errorf("%w: no stream", ErrBadChange)
	}
	return s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		if err := applyCampaigns(ctx, tx, b.Campaigns); err != nil {
			return nil, err
		}
		if err := applyMembers(ctx, tx, b.Members); err != nil {
			return nil, err
		}
		if err := applyTouches(ctx, tx, b.Touches); err != nil {
			return nil, err
		}
		return map[string]uint64{stream: seq}, nil
	})
}

func applyCampaigns(ctx context.Context, tx *sql.Tx, cs []CampaignChange) error {
	if len(cs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO campaigns (tenant, id, version, status, channel, owner_id, parent_id, start_date, end_date, seq, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET version = excluded.version, status = excluded.status, channel = excluded.channel,
			owner_id = excluded.owner_id, parent_id = excluded.parent_id, start_date = excluded.start_date, end_date = excluded.end_date,
			seq = excluded.seq, body = excluded.body
		WHERE excluded.version > campaigns.version`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, c := range cs {
		if c.Tenant == "" || c.State.ID == "" {
			return fmt.Errorf("%w: campaign without tenant or id", ErrBadChange)
		}
		body, err := proto.Marshal(protomap.CampaignToProto(c.State))
		if err != nil {
			return err
		}
		s := c.State
		if _, err := st.ExecContext(ctx, c.Tenant, s.ID, int64(s.Version), int(s.Status), int(s.Channel), s.OwnerID, s.ParentCampaignID,
			s.StartDate, s.EndDate, int64(c.Seq), body); err != nil {
			return fmt.Errorf("campaignmodel: store campaign: %w", err)
		}
	}
	return nil
}

func applyMembers(ctx context.Context, tx *sql.Tx, ms []MemberChange) error {
	if len(ms) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO members (tenant, id, campaign_id, version, type, person_id, status, kind, responded, unsubscribed,
			added_at, first_responded_at, last_response_at, added_by, channel, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET version = excluded.version, status = excluded.status, kind = excluded.kind,
			responded = excluded.responded, unsubscribed = excluded.unsubscribed, first_responded_at = excluded.first_responded_at,
			last_response_at = excluded.last_response_at, seq = excluded.seq
		WHERE excluded.version > members.version`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, c := range ms {
		m := c.State
		if c.Tenant == "" || m.ID == "" {
			return fmt.Errorf("%w: member without tenant or id", ErrBadChange)
		}
		if _, err := st.ExecContext(ctx, c.Tenant, m.ID, m.CampaignID, int64(m.Version), int(m.Type), m.PersonID, m.Status, int(m.Kind),
			m.Responded, m.Unsubscribed, nanos(m.AddedAt), nanos(m.FirstRespondedAt), nanos(m.LastResponseAt), m.AddedBy,
			int(m.Channel), int64(c.Seq)); err != nil {
			return fmt.Errorf("campaignmodel: store member: %w", err)
		}
	}
	return nil
}

func applyTouches(ctx context.Context, tx *sql.Tx, ts []TouchRow) error {
	if len(ts) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO touches (tenant, type, person_id, seq, at, campaign_id, channel, status, kind, responded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, t := range ts {
		if _, err := st.ExecContext(ctx, t.Tenant, int(t.Type), t.PersonID, int64(t.Seq), nanos(t.At), t.CampaignID, int(t.Channel),
			t.Status, int(t.Kind), t.Responded); err != nil {
			return fmt.Errorf("campaignmodel: store touch: %w", err)
		}
	}
	return nil
}

// nanos stores an instant as Unix nanoseconds; the zero time as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// GetCampaign returns one campaign.
func (s *Store) GetCampaign(ctx context.Context, tenant, id string) (campaign.Campaign, error) {
	var body []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT body FROM campaigns WHERE tenant = ? AND id = ?`, tenant, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return campaign.Campaign{}, apperr.NotFoundf("campaign", id)
	}
	if err != nil {
		return campaign.Campaign{}, err
	}
	return decodeCampaign(body)
}

func decodeCampaign(body []byte) (campaign.Campaign, error) {
	var p campaignv1.Campaign
	if err := proto.Unmarshal(body, &p); err != nil {
		return campaign.Campaign{}, fmt.Errorf("campaignmodel: decode campaign: %w", err)
	}
	return protomap.CampaignFromProto(&p)
}

// GetMember returns one member (the projector's starting state).
func (s *Store) GetMember(ctx context.Context, tenant, id string) (member.Member, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+memberCols+` FROM members WHERE tenant = ? AND id = ?`, tenant, id)
	if err != nil {
		return member.Member{}, err
	}
	ms, err := scanMembers(rows)
	if err != nil {
		return member.Member{}, err
	}
	if len(ms) == 0 {
		return member.Member{}, apperr.NotFoundf("member", id)
	}
	return ms[0], nil
}

// GetMembers returns the stored members among ids (the projector loads a batch's members in
// one query per 500 instead of one each).
func (s *Store) GetMembers(ctx context.Context, tenant string, ids []string) (map[string]member.Member, error) {
	out := make(map[string]member.Member, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := []any{tenant}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.db.R.QueryContext(ctx, `SELECT `+memberCols+` FROM members WHERE tenant = ? AND id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, err
		}
		ms, err := scanMembers(rows)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out[m.ID] = m
		}
	}
	return out, nil
}

const memberCols = `id, campaign_id, version, type, person_id, status, kind, responded, unsubscribed, added_at, first_responded_at,
	last_response_at, added_by, channel`

func scanMembers(rows *sql.Rows) ([]member.Member, error) {
	defer rows.Close()
	var out []member.Member
	for rows.Next() {
		var m member.Member
		var version, added, first, last int64
		var typ, kind, ch int
		if err := rows.Scan(&m.ID, &m.CampaignID, &version, &typ, &m.PersonID, &m.Status, &kind, &m.Responded, &m.Unsubscribed,
			&added, &first, &last, &m.AddedBy, &ch); err != nil {
			return nil, err
		}
		m.Version, m.Type, m.Kind, m.Channel = uint64(version), member.Type(typ), campaign.Kind(kind), campaign.Channel(ch)
		m.AddedAt, m.FirstRespondedAt, m.LastResponseAt = fromNanos(added), fromNanos(first), fromNanos(last)
		out = append(out, m)
	}
	return out, rows.Err()
}
