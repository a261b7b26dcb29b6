// Package protomap maps between the leads domain (internal/domain/...) and the crm.leads.v1
// protobuf types, in both directions. It is the one place that knows both: the event codecs
// (LeadCodec, ConfigCodec), the gRPC port and the read-model projector all go through it, so
// the domain stays free of generated code (STYLE.md §1).
//
// Two kinds of functions live here:
//
//   - *ToProto and the lossless *FromProto inverses used for events and read models
//     (LeadToProto/LeadFromProto, ScoreToProto, …): every domain field has a proto field, and
//     decoding never fails on values the encoder wrote.
//   - request mappers (NewLeadFromProto, UpdateFromProto, BantFromProto, ScoringModelFromProto,
//     …) that check what the domain cannot see once a value has been cast — enum numbers out of
//     range, malformed Money, a custom value without a value — and return an apperr Invalid
//     error with one field violation per bad field, the field paths prefixed with the request
//     field ("lead.", "model.", …). Everything else (lengths, formats, business rules) is the
//     domain's to validate.
//
// Domain enums are numbered like the proto enums, so enum mapping is a cast after a range
// check.
package protomap
