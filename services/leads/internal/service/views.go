package service

import (
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/projection"
)

// modelPath is where the read model file lives under o.DataDir; "" (no DataDir) lets the store
// pick a temporary one.
func modelPath(o Options, file string) string {
	if o.DataDir == "" {
		return ""
	}
	return filepath.Join(o.DataDir, file)
}

// besideLeads names the projector of a read model kept beside the leads one after the leads
// projector ("leads-view" → "accounts-view"; a replica's "leads-view-2" →
// "accounts-leads-view-2") so replicas each build their own read model, like the leads one.
func besideLeads(prefix string, o Options) string {
	if o.ProjectorName != "" && o.ProjectorName != "leads-view" {
		return prefix + "-" + o.ProjectorName
	}
	return prefix + "-view"
}

// newViewRunner builds the ordered projector that keeps a read model up to date from the
// subjects of stream.
func newViewRunner(js jetstream.JetStream, o Options, name, stream string, subjects []string, view projection.CheckpointHandler) (*projection.Runner, error) {
	return projection.NewOrdered(js, projection.Config{
		Name:               name,
		Sources:            []projection.Source{{Stream: stream, FilterSubjects: subjects}},
		BatchSize:          500,
		BatchWait:          20 * time.Millisecond,
		DeadLetterReplicas: o.Replicas,
		Logger:             o.Logger,
		Metrics:            o.Metrics,
	}, view)
}
