package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/testkit"
)

// The REST/JSON gateway of the real leads service, in process: the daemon serves gRPC and, on
// -http-addr, the transcoded API, which goes through the same interceptors as gRPC (development
// auth, error mapping with field violations) and streams server streams as JSON lines.
func TestRESTGateway(t *testing.T) {
	n := testkit.StartNATS(t)
	grpcAddr, httpAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	oldArgs := os.Args
	t.Cleanup(func() { os.Args = oldArgs })
	os.Args = []string{"leads", "-nats-url", n.ClientURL(), "-grpc-addr", grpcAddr, "-metrics-addr", "",
		"-http-addr", httpAddr, "-dev-auth", "-data-dir", t.TempDir(), "-log-level", "warn", "-pipeline-addr", ""}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()

	base := "http://" + httpAddr
	devAuth := map[string]string{"X-Tenant-Id": "acme", "X-User-Id": "demo", "X-Roles": "sales_manager"}
	call := func(method, path, body string, header map[string]string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, raw
	}
	decode := func(raw []byte) map[string]any {
		t.Helper()
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
		return m
	}
	require.Eventually(t, func() bool {
		code, _ := call("GET", "/healthz", "", nil)
		return code == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "the gateway never reported SERVING")

	// Create, then read the write back (read.minSequence: the create's stream sequence).
	code, raw := call("POST", "/v1/leads", `{"lead": {"firstName": "Ada", "lastName": "Lovelace",
		"email": "ada@example.com", "company": "Analytical Engines", "source": "LEAD_SOURCE_WEB_FORM"}}`, devAuth)
	require.Equal(t, http.StatusOK, code, "%s", raw)
	created := decode(raw)
	lead := created["lead"].(map[string]any)
	id := lead["id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, "LEAD_STATUS_NEW", lead["status"])
	seq := created["result"].(map[string]any)["sequence"].(string)

	code, raw = call("GET", "/v1/leads/"+id+"?read.minSequence="+seq, "", devAuth)
	require.Equal(t, http.StatusOK, code, "%s", raw)
	got := decode(raw)["lead"].(map[string]any)
	assert.Equal(t, "ada@example.com", got["email"])

	code, raw = call("GET", "/v1/leads?statuses=LEAD_STATUS_NEW&read.minSequence="+seq, "", devAuth)
	require.Equal(t, http.StatusOK, code, "%s", raw)
	assert.Len(t, decode(raw)["leads"], 1)

	// A custom method (AIP-136) with a body.
	code, raw = call("POST", "/v1/leads/"+id+":addTags", `{"tags": ["VIP", "conference"]}`, devAuth)
	require.Equal(t, http.StatusOK, code, "%s", raw)
	assert.ElementsMatch(t, []any{"vip", "conference"}, decode(raw)["lead"].(map[string]any)["tags"])

	// Bad input: 400 with the service's field violations in the JSON body.
	code, raw = call("POST", "/v1/leads", `{"lead": {"firstName": "Bob", "email": "not-an-email"}}`, devAuth)
	require.Equal(t, http.StatusBadRequest, code, "%s", raw)
	status := decode(raw)
	assert.EqualValues(t, 3, status["code"])
	fields := map[string]bool{}
	for _, d := range status["details"].([]any) {
		d := d.(map[string]any)
		if d["@type"] == "type.googleapis.com/google.rpc.BadRequest" {
			for _, v := range d["fieldViolations"].([]any) {
				fields[v.(map[string]any)["field"].(string)] = true
			}
		}
	}
	assert.True(t, fields["email"] && fields["source"], "violations: %v", fields)

	// No tenant: 401 from the auth interceptor.
	code, raw = call("GET", "/v1/leads/"+id, "", map[string]string{"X-User-Id": "demo"})
	assert.Equal(t, http.StatusUnauthorized, code, "%s", raw)
	assert.EqualValues(t, 16, decode(raw)["code"])

	// A server stream: the export arrives as one JSON object per line.
	code, raw = call("POST", "/v1/records:export", `{"object": "TRANSFER_OBJECT_LEAD", "read": {"minSequence": "`+seq+`"}}`, devAuth)
	require.Equal(t, http.StatusOK, code, "%s", raw)
	var csv strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		msg := decode(sc.Bytes())
		require.NotContains(t, msg, "error")
		chunk, err := base64.StdEncoding.DecodeString(msg["result"].(map[string]any)["chunk"].(string))
		require.NoError(t, err)
		csv.Write(chunk)
	}
	assert.Contains(t, csv.String(), "ada@example.com")

	// The service's OpenAPI document: its five services' paths, nobody else's.
	code, raw = call("GET", "/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, code)
	paths := decode(raw)["paths"].(map[string]any)
	for _, p := range []string{"/v1/leads", "/v1/leads/{leadId}", "/v1/leads/{leadId}:convert", "/v1/accounts",
		"/v1/contacts/{contactId}", "/v1/activities", "/v1/tasks/{taskId}:complete", "/v1/records:export"} {
		assert.Contains(t, paths, p)
	}
	assert.NotContains(t, paths, "/v1/opportunities")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}
