package grpc

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
)

// Request mapping shared by the accounts and contacts servers.

// optTime maps an optional timestamp filter; unset is the zero time (no filter).
func optTime(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func pageSizeCheck(n int32, v *apperr.Violations) {
	if n < 0 || n > accountmodel.MaxPageSize {
		v.Add("page_size", "must be 1 to %d (0 for the default %d)", accountmodel.MaxPageSize, accountmodel.DefaultPageSize)
	}
}

// searchRequest is what SearchAccountsRequest and SearchContactsRequest have in common.
type searchRequest interface {
	GetQuery() string
	GetPageSize() int32
	GetPageToken() string
}

// searchQuery checks a search request and maps it to the read model's query.
func searchQuery(tenant string, req searchRequest) (accountmodel.SearchQuery, error) {
	var v apperr.Violations
	pageSizeCheck(req.GetPageSize(), &v)
	if err := v.Err("invalid search"); err != nil {
		return accountmodel.SearchQuery{}, err
	}
	return accountmodel.SearchQuery{Tenant: tenant, Query: req.GetQuery(),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}, nil
}

// toProtos maps records with toProto; none gives nil, as the appending loops it replaces did.
func toProtos[T, P any](records []T, toProto func(T) P) []P {
	if len(records) == 0 {
		return nil
	}
	out := make([]P, len(records))
	for i, r := range records {
		out[i] = toProto(r)
	}
	return out
}
