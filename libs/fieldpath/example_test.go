package fieldpath_test

import (
	"fmt"
	"maps"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/fieldpath"
)

type Address struct{ City, Country string }

type Account struct {
	Name    string
	Billing Address
	Tags    []string
	Custom  map[string]customfield.Value
}

var accountFields = fieldpath.New(func(a *Account) *map[string]customfield.Value { return &a.Custom },
	fieldpath.Value("name", func(a *Account) *string { return &a.Name }),
	fieldpath.Group("billing_address", func(a *Account) *Address { return &a.Billing },
		fieldpath.Value("city", func(a *Address) *string { return &a.City }),
		fieldpath.Value("country", func(a *Address) *string { return &a.Country })),
	fieldpath.Slice("tags", func(a *Account) *[]string { return &a.Tags }),
)

// An update names "billing_address" and "custom_fields"; the mask is expanded into leaves, the
// leaves are copied onto the current value and the ones that changed are listed.
func Example() {
	before := Account{Name: "Acme", Billing: Address{City: "Lyon", Country: "FR"},
		Custom: map[string]customfield.Value{"tier": customfield.StringValue("gold")}}
	update := Account{Billing: Address{City: "Paris", Country: "FR"}}

	var leaves []string
	for _, path := range []string{"billing_address", "custom_fields"} {
		if path == fieldpath.CustomFields {
			leaves = append(leaves, accountFields.CustomLeaves(before, update)...)
			continue
		}
		ls, _ := accountFields.Expand(path)
		leaves = append(leaves, ls...)
	}
	leaves = accountFields.Sort(leaves)

	after := before
	after.Custom = maps.Clone(before.Custom) // Copy writes to after's map
	accountFields.Copy(&after, update, leaves...)

	var changed []string
	for _, l := range leaves {
		if !accountFields.Equal(before, after, l) {
			changed = append(changed, l)
		}
	}
	fmt.Println(leaves)
	fmt.Println(changed)
	fmt.Printf("%+v\n", accountFields.Pick(after, changed...))
	// Output:
	// [billing_address.city billing_address.country custom_fields.tier]
	// [billing_address.city custom_fields.tier]
	// {Name: Billing:{City:Paris Country:} Tags:[] Custom:map[]}
}
