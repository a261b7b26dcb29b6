// Package domain holds the pure domain of the pipeline service. It has no code of its own; the
// sub-packages are:
//
//   - civil: calendar dates without a time zone (close dates, validity dates, contract terms);
//   - money: exact amounts in a currency (shopspring/decimal), ISO 4217 minor units, rounding
//     and the units/nanos form of crm.common.v1.Money;
//   - input: the input rules every aggregate shares (ids, user ids, free text, tags);
//   - pipelinedef: the pipeline aggregate ("pipeline"): ordered stages with probabilities and
//     forecast categories, the built-in default pipeline, revisions that never reuse a removed
//     stage id;
//   - pipelinecfg: the per-tenant configuration aggregate ("pipelineconfig"): opportunity custom
//     fields, how far in the past a new close date may lie, the default currency;
//   - quote: quote and line types and the quote arithmetic (rounding rules in its doc);
//   - opportunity: the opportunity aggregate ("opportunity"): state, events, Apply and the
//     decisions, quotes included;
//   - contract: the contract aggregate ("contract") for won opportunities;
//   - forecast: the weighted forecast computed from opportunity snapshots, and the as-of fold
//     that rebuilds the snapshots the event log knew at an instant.
//
// Everything here imports only the standard library, libs/apperr, libs/customfield and
// github.com/shopspring/decimal (STYLE.md §1): decisions are pure functions of (state, command,
// context, now) that return events or an apperr error, and nothing is decided for a rejected
// command.
package domain
