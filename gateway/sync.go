package gateway

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/provision"
)

// NewSyncer builds the user sync for `livygate sync` from a configuration
// that ValidateSync accepted.
func NewSyncer(cfg config.Config, log logrus.FieldLogger) (*provision.Syncer, error) {
	b, err := openBackends(cfg, log)
	if err != nil {
		return nil, err
	}
	return newSyncer(cfg, b), nil
}

// newSyncer is the sync over the shared clients: the Hub's users (and an
// LDAP group's members) get homes on HDFS.
func newSyncer(cfg config.Config, b *backends) *provision.Syncer {
	s := &provision.Syncer{
		Hub:      b.hub,
		Options:  cfg.HDFS.Options,
		LockFile: cfg.Sync.LockFile,
		Connect:  b.hdfs.Connect,
	}
	if dn := cfg.Sync.LDAPGroupDN; dn != "" {
		s.GroupMembers = func(ctx context.Context) ([]string, error) {
			return b.directory.GroupMembers(ctx, dn)
		}
	}
	return s
}

// recordRun keeps a finished sync run: in the JSON endpoint's history, as a
// log line, and in the store (with its per-user results).
func (g *Gateway) recordRun(r *provision.Run, trigger string, addToHistory bool) {
	if addToHistory {
		g.history.Add(r)
	}
	LogRun(g.log, r)
	g.metrics.SyncRun(trigger, r.ExitCode(), r.Finished.Sub(r.Started))
	if g.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := g.Store.SaveRun(ctx, r, trigger); err != nil {
			g.log.WithError(err).Error("store: saving the sync run failed")
		}
	}
}

// LogRun writes a sync run's summary line, at warning level when it did not
// go cleanly.
func LogRun(log logrus.FieldLogger, r *provision.Run) {
	entry := log.WithFields(logrus.Fields{"sync": true, "users": r.Users, "exit_code": r.ExitCode()})
	if r.ExitCode() != provision.ExitOK {
		entry.Warn(r.SummaryLine())
		return
	}
	entry.Info(r.SummaryLine())
}
