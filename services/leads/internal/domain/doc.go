// Package domain holds the pure domain of the leads service. It has no code of its own; the
// sub-packages are:
//
//   - lead: the lead aggregate (state, events, Apply, decisions);
//   - tenantcfg: the per-tenant lead configuration aggregate ("leadconfig"): custom field
//     definitions, scoring model, territories, lifecycle settings;
//   - scoring: the versioned scoring model, fit rules, engagement decay, temperature;
//   - territory: territory definitions, matching and round-robin picking;
//   - dedupe: normalisation of emails and phones and the keys of uniqueness claims.
//
// Everything here imports only the standard library, libs/apperr and libs/customfield (typed
// custom fields, shared with the other services; STYLE.md §1): decisions are pure functions of
// (state, command, context, now) that return events or an apperr error.
package domain
