// Package openapi embeds the OpenAPI (Swagger 2.0) document of evcrm's REST/JSON API, generated
// by protoc-gen-openapiv2 from the google.api.http options in proto/ (`make generate` writes
// gen/evcrm.swagger.json; buf.gen.yaml explains the options). One merged document covers every
// service; [ForServices] cuts out the part one process serves, which is what its /openapi.json
// returns.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

//go:embed gen/evcrm.swagger.json
var document []byte

// Document returns the merged document of every service, as generated.
func Document() []byte { return slices.Clone(document) }

// ForServices returns the document cut down to the operations of the named gRPC services (full
// names, e.g. "crm.leads.v1.LeadsService") and the schemas they reach, titled for the API
// surface of one process. Names without REST operations are ignored, so a caller may pass every
// service its gRPC server registered (health and reflection included).
func ForServices(title string, services ...string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(document, &doc); err != nil {
		return nil, fmt.Errorf("openapi: embedded document: %w", err)
	}
	keep := make(map[string]bool, len(services))
	for _, s := range services {
		keep[s] = true
	}

	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			if !taggedWithAny(op, keep) {
				delete(ops, method)
			}
		}
		if len(ops) == 0 {
			delete(paths, path)
		}
	}
	if tags, ok := doc["tags"].([]any); ok {
		doc["tags"] = slices.DeleteFunc(tags, func(t any) bool {
			m, _ := t.(map[string]any)
			name, _ := m["name"].(string)
			return !keep[name]
		})
	}
	pruneDefinitions(doc)

	// The generator titles the merged document after its first input file; name the API instead.
	doc["info"] = map[string]any{
		"title":   title,
		"version": "v1",
		"description": "REST/JSON transcoding of the evcrm gRPC API (docs/api.md). Send x-tenant-id and " +
			"x-user-id headers (development auth) or an Authorization header; errors are google.rpc.Status " +
			"JSON with details such as google.rpc.BadRequest field violations.",
	}
	return json.MarshalIndent(doc, "", "  ")
}

// taggedWithAny reports whether an operation carries one of the kept service names as a tag
// (buf.gen.yaml sets include_package_in_tags, so the tag is the full service name).
func taggedWithAny(op any, keep map[string]bool) bool {
	m, _ := op.(map[string]any)
	tags, _ := m["tags"].([]any)
	for _, t := range tags {
		if s, _ := t.(string); keep[s] {
			return true
		}
	}
	return false
}

const defPrefix = "#/definitions/"

// pruneDefinitions drops the schemas no remaining path reaches, so a service's document does not
// describe the messages of the others. Status and Any (google.rpc.Status) stay reachable through the
// default error responses.
func pruneDefinitions(doc map[string]any) {
	defs, _ := doc["definitions"].(map[string]any)
	if defs == nil {
		return
	}
	reached := map[string]bool{}
	var queue []string
	visit := func(v any) {
		walkRefs(v, func(ref string) {
			name, ok := strings.CutPrefix(ref, defPrefix)
			if ok && !reached[name] {
				reached[name] = true
				queue = append(queue, name)
			}
		})
	}
	visit(doc["paths"])
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		visit(defs[name])
	}
	for _, name := range slices.Collect(maps.Keys(defs)) {
		if !reached[name] {
			delete(defs, name)
		}
	}
}

// walkRefs calls fn with every "$ref" value inside v.
func walkRefs(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				fn(s)
				continue
			}
			walkRefs(e, fn)
		}
	case []any:
		for _, e := range x {
			walkRefs(e, fn)
		}
	}
}
