// Package protomap maps between the pipeline domain (internal/domain/...) and the
// crm.pipeline.v1 protobuf types, in both directions. It is the one place that knows both: the
// event codecs, the gRPC port and the read model all go through it, so the domain stays free of
// generated code (STYLE.md §1).
//
// Four kinds of code live here:
//
//   - the event codecs (OpportunityCodec, PipelineCodec, ConfigCodec, ContractCodec): every
//     domain event ↔ the crm.pipeline.v1 message of the same name; an event's time travels as
//     the envelope's occurred_at; decoding a payload of another type is an error;
//   - state mappers, *ToProto and their lossless *FromProto inverses (OpportunityToProto,
//     QuoteToProto, ContractToProto, PipelineStateToProto, ConfigToProto, ForecastToProto, …):
//     every domain field has a proto field, and decoding never fails on values the encoder
//     wrote;
//   - request mappers, one per write RPC (NewOpportunityFromProto, WinFromProto,
//     QuoteDraftFromProto, ContractUpdateFromProto, …), which report what the domain could no
//     longer see once a value is mapped — an enum number the proto does not declare, a
//     malformed amount, decimal or date, a field-mask path naming no field — as an apperr
//     Invalid error with one violation per bad field, named by its path in the request
//     ("opportunity.amount", "quote.line_items[2].quantity", "update_mask.paths[0]"). Ranges,
//     required fields and business rules are the domain's: the mappers pass values on as given,
//     and RequestError rewrites the domain's violation paths (relative to its command and in its
//     own words: "lines[2].quantity", "closed_on") into the request's;
//   - query mappers (OpportunityFilterFromProto, ContractFilterFromProto,
//     ForecastRequestFromProto, PipelineFilterFromProto) into the plain Go types of query.go
//     (OpportunityFilter, ContractFilter, ForecastRequest, …), which hold no generated types so
//     the app and the read model can use them; queries have no domain decision behind them, so
//     these validate everything (enums, dates, ranges, page sizes). options.go maps
//     WriteOptions and ReadOptions.
//
// Amounts are money.Money (exact decimals) ↔ crm.common.v1.Money (units and nanos); quantities
// and percents are decimals ↔ crm.common.v1.Decimal; calendar dates are civil.Date ↔
// "YYYY-MM-DD" (the zero Date is ""). Enums map through explicit tables, never casts
// (enums.go).
package protomap
