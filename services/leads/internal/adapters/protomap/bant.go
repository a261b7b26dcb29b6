package protomap

import (
	"fmt"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// BANT field-mask paths of SetBant.
const (
	bantBudget             = "budget"
	bantBudgetConfirmed    = "budget_confirmed"
	bantAuthority          = "authority"
	bantAuthorityConfirmed = "authority_confirmed"
	bantNeed               = "need"
	bantNeedConfirmed      = "need_confirmed"
	bantTimeline           = "timeline"
	bantTimelineConfirmed  = "timeline_confirmed"
)

// bantSetters copy one part of the record; their keys are the accepted mask paths.
var bantSetters = map[string]func(dst *lead.Bant, src lead.Bant){
	bantBudget:             func(d *lead.Bant, s lead.Bant) { d.Budget = s.Budget },
	bantBudgetConfirmed:    func(d *lead.Bant, s lead.Bant) { d.BudgetConfirmed = s.BudgetConfirmed },
	bantAuthority:          func(d *lead.Bant, s lead.Bant) { d.Authority = s.Authority },
	bantAuthorityConfirmed: func(d *lead.Bant, s lead.Bant) { d.AuthorityConfirmed = s.AuthorityConfirmed },
	bantNeed:               func(d *lead.Bant, s lead.Bant) { d.Need = s.Need },
	bantNeedConfirmed:      func(d *lead.Bant, s lead.Bant) { d.NeedConfirmed = s.NeedConfirmed },
	bantTimeline:           func(d *lead.Bant, s lead.Bant) { d.Timeline = s.Timeline },
	bantTimelineConfirmed:  func(d *lead.Bant, s lead.Bant) { d.TimelineConfirmed = s.TimelineConfirmed },
}

// BantToProto maps a BANT record; the empty record is an unset field.
func BantToProto(b lead.Bant) *leadsv1.Bant {
	if b.Equal(lead.Bant{}) {
		return nil
	}
	return &leadsv1.Bant{
		Budget:             MoneyToProto(b.Budget),
		BudgetConfirmed:    b.BudgetConfirmed,
		Authority:          b.Authority,
		AuthorityConfirmed: b.AuthorityConfirmed,
		Need:               b.Need,
		NeedConfirmed:      b.NeedConfirmed,
		Timeline:           ts(b.Timeline),
		TimelineConfirmed:  b.TimelineConfirmed,
	}
}

// bantFromProto is the lossless inverse of BantToProto.
func bantFromProto(p *leadsv1.Bant) lead.Bant {
	return lead.Bant{
		Budget:             moneyFromProto(p.GetBudget()),
		BudgetConfirmed:    p.GetBudgetConfirmed(),
		Authority:          p.GetAuthority(),
		AuthorityConfirmed: p.GetAuthorityConfirmed(),
		Need:               p.GetNeed(),
		NeedConfirmed:      p.GetNeedConfirmed(),
		Timeline:           fromTS(p.GetTimeline()),
		TimelineConfirmed:  p.GetTimelineConfirmed(),
	}
}

// BantFromProto builds the record SetBant should store from a SetBant request: with an empty
// (or nil) mask p replaces the whole record; otherwise the named parts ("budget",
// "budget_confirmed", "authority", …, "timeline_confirmed") are taken from p and the rest from
// current. Unknown paths are Invalid ("update_mask.paths[i]"), as is a malformed budget
// ("bant.budget") when it is taken from p.
func BantFromProto(p *leadsv1.Bant, mask *fieldmaskpb.FieldMask, current lead.Bant) (lead.Bant, error) {
	var v apperr.Violations
	paths := mask.GetPaths()
	takesBudget := len(paths) == 0
	for i, path := range paths {
		if _, ok := bantSetters[path]; !ok {
			v.Add(fmt.Sprintf("update_mask.paths[%d]", i), "unknown BANT field %q", path)
		}
		takesBudget = takesBudget || path == bantBudget
	}
	src := bantFromProto(p)
	if takesBudget {
		src.Budget = checkMoney(p.GetBudget(), "bant.budget", &v)
	}
	if err := v.Err("invalid BANT"); err != nil {
		return lead.Bant{}, err
	}
	if len(paths) == 0 {
		return src, nil
	}
	out := current
	for _, path := range paths {
		bantSetters[path](&out, src)
	}
	return out, nil
}
