package natsperm_test

import (
	"errors"
	"testing"

	"github.com/evcrm/evcrm/libs/pii"
)

// The leads user keeps people's data keys and shreds them (secure delete on the key bucket's
// stream only); it may still delete no event, and no other service reaches the keys.
func TestLeadsUserShredsDataKeys(t *testing.T) {
	url, _ := seeded(t)
	leads := connect(t, url, "leads")
	ctx := short(t)
	keys, err := pii.OpenKV(ctx, leads.js, pii.KVOptions{CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.DataKey(ctx, "a", "l1"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Destroy(ctx, "a", "l1"); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.DataKey(ctx, "a", "l1"); !errors.Is(err, pii.ErrErased) {
		t.Fatalf("after Destroy: %v", err)
	}
	leads.noViolations(t, "leads")

	ctx = short(t)
	st, err := leads.js.Stream(ctx, "CRM_LEADS")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SecureDeleteMsg(ctx, 1); err == nil {
		t.Error("leads deleted an event")
	}
	if !leads.sawViolation("publish", "$JS.API.STREAM.MSG.DELETE.CRM_LEADS") {
		t.Error("deleting an event was not a permissions violation")
	}

	for _, user := range []string{"campaign", "analytics", "pipeline"} {
		c := connect(t, url, user)
		ctx := short(t)
		if _, err := c.js.KeyValue(ctx, pii.DefaultBucket); err == nil {
			t.Errorf("%s opened the data key bucket", user)
		}
		if _, err := c.js.Stream(ctx, "KV_"+pii.DefaultBucket); err == nil {
			t.Errorf("%s read the data key stream", user)
		}
		if !c.sawViolation("publish", "$JS.API.STREAM.INFO.KV_"+pii.DefaultBucket) {
			t.Errorf("%s reading the key bucket was not a permissions violation", user)
		}
	}
}
