package protomap

import (
	"fmt"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
)

// AddressToProto maps a postal address; the empty address is an unset field.
func AddressToProto(a account.Address) *leadsv1.Address {
	if a == (account.Address{}) {
		return nil
	}
	return &leadsv1.Address{Street: a.Street, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country}
}

// AddressFromProto maps a postal address as it is.
func AddressFromProto(p *leadsv1.Address) account.Address {
	return account.Address{Street: p.GetStreet(), City: p.GetCity(), Region: p.GetRegion(),
		PostalCode: p.GetPostalCode(), Country: p.GetCountry()}
}

// AccountToProto maps an account with its output-only fields.
func AccountToProto(a account.Account) *leadsv1.Account {
	p := AccountDetailsToProto(a.Details)
	p.Id, p.Version, p.SourceLeadId = a.ID, a.Version, a.SourceLeadID
	p.CreatedAt, p.UpdatedAt = ts(a.CreatedAt), ts(a.UpdatedAt)
	return p
}

// AccountFromProto is the lossless inverse of AccountToProto (events, no validation).
func AccountFromProto(p *leadsv1.Account) account.Account {
	return account.Account{ID: p.GetId(), Version: p.GetVersion(), Details: AccountDetailsFromProto(p),
		SourceLeadID: p.GetSourceLeadId(), CreatedAt: fromTS(p.GetCreatedAt()), UpdatedAt: fromTS(p.GetUpdatedAt())}
}

// AccountDetailsToProto maps the settable fields into an Account with nothing else set (the
// partial accounts of AccountUpdated).
func AccountDetailsToProto(d account.Details) *leadsv1.Account {
	return &leadsv1.Account{
		Name: d.Name, Domain: d.Domain, Website: d.Website, Industry: d.Industry,
		EmployeeCount: d.EmployeeCount, AnnualRevenue: MoneyToProto(d.AnnualRevenue),
		BillingAddress: AddressToProto(d.BillingAddress), ShippingAddress: AddressToProto(d.ShippingAddress),
		Phone: d.Phone, ParentAccountId: d.ParentAccountID, OwnerId: d.OwnerID, TerritoryId: d.TerritoryID,
		Type: leadsv1.AccountType(d.Type), Tags: cloneOrNil(d.Tags), CustomFields: customToProto(d.CustomFields),
		Description: d.Description,
	}
}

// AccountDetailsFromProto is the lossless inverse of AccountDetailsToProto.
func AccountDetailsFromProto(p *leadsv1.Account) account.Details {
	return account.Details{
		Name: p.GetName(), Domain: p.GetDomain(), Website: p.GetWebsite(), Industry: p.GetIndustry(),
		EmployeeCount: p.GetEmployeeCount(), AnnualRevenue: moneyFromProto(p.GetAnnualRevenue()),
		BillingAddress: AddressFromProto(p.GetBillingAddress()), ShippingAddress: AddressFromProto(p.GetShippingAddress()),
		Phone: p.GetPhone(), ParentAccountID: p.GetParentAccountId(), OwnerID: p.GetOwnerId(),
		TerritoryID: p.GetTerritoryId(), Type: account.Type(p.GetType()), Tags: cloneOrNil(p.GetTags()),
		CustomFields: customFromProto(p.GetCustomFields()), Description: p.GetDescription(),
	}
}

func customToProto(m map[string]customfield.Value) map[string]*leadsv1.CustomValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*leadsv1.CustomValue, len(m))
	for name, v := range m {
		out[name] = CustomValueToProto(v)
	}
	return out
}

func customFromProto(m map[string]*leadsv1.CustomValue) map[string]customfield.Value {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]customfield.Value, len(m))
	for name, v := range m {
		out[name] = CustomValueFromProto(v)
	}
	return out
}

// NewAccountFromProto maps the account of a CreateAccount request to the command (id "": the
// app draws one). Output-only fields are ignored. Values the domain could no longer see after
// mapping are Invalid: an undeclared type ("account.type"), a malformed annual_revenue, a
// custom value with no value set ("account.custom_fields.<name>").
func NewAccountFromProto(p *leadsv1.Account) (account.New, error) {
	if p == nil {
		return account.New{}, apperr.InvalidFields("invalid account", apperr.FieldViolation{Field: "account", Description: "is required"})
	}
	var v apperr.Violations
	d := checkedAccount(p, func(string) bool { return true }, &v)
	if err := v.Err("invalid account"); err != nil {
		return account.New{}, err
	}
	return account.New{Details: d}, nil
}

// AccountUpdateFromProto maps an UpdateAccount request. Mask paths are the proto field names
// (account.ExpandPath); unknown and output-only ones are Invalid ("update_mask.paths[i]").
// Values of the named fields are checked like NewAccountFromProto's.
func AccountUpdateFromProto(p *leadsv1.Account, mask *fieldmaskpb.FieldMask) (account.Update, error) {
	var v apperr.Violations
	var leaves []string
	for i, path := range mask.GetPaths() {
		ls, ok := account.ExpandPath(path)
		if !ok {
			v.Add(fmt.Sprintf("update_mask.paths[%d]", i), "unknown or read-only field %q", path)
			continue
		}
		if path == account.PathCustomFields {
			for name := range p.GetCustomFields() {
				ls = append(ls, account.PathCustomFields+"."+name)
			}
		}
		leaves = append(leaves, ls...)
	}
	touched := map[string]bool{}
	for _, l := range leaves {
		touched[l] = true
	}
	d := checkedAccount(p, func(leaf string) bool { return touched[leaf] }, &v)
	if err := v.Err("invalid account update"); err != nil {
		return account.Update{}, err
	}
	return account.Update{Paths: append([]string(nil), mask.GetPaths()...), Details: d}, nil
}

func checkedAccount(p *leadsv1.Account, touched func(string) bool, v *apperr.Violations) account.Details {
	d := AccountDetailsFromProto(p)
	var ev apperr.Violations
	if !checkEnum(p.GetType(), account.Field+account.PathType, &ev) {
		d.Type = account.TypeUnspecified
		if touched(account.PathType) {
			*v = append(*v, ev...)
		}
	}
	var mv apperr.Violations
	d.AnnualRevenue = checkMoney(p.GetAnnualRevenue(), account.Field+account.PathAnnualRevenue, &mv)
	if touched(account.PathAnnualRevenue) {
		*v = append(*v, mv...)
	}
	d.CustomFields = checkedCustom(p.GetCustomFields(), d.CustomFields, account.Field, touched, v)
	return d
}

// checkedCustom drops custom values with no value set, reporting the touched ones.
func checkedCustom(p map[string]*leadsv1.CustomValue, m map[string]customfield.Value, prefix string, touched func(string) bool, v *apperr.Violations) map[string]customfield.Value {
	for _, name := range customfield.SortedNames(p) {
		if p[name].GetValue() != nil {
			continue
		}
		leaf := "custom_fields." + name
		delete(m, name)
		if touched(leaf) {
			v.Add(prefix+leaf, "has no value; omit the field to leave it empty")
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
