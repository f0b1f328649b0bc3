package gateway

// The rules a create's Spark conf goes through: the policy (refusals and
// redaction), secret references, and the delivery of the caller's token.

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/sparkconf"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/hdfs"
)

// confRules are the policy and, when secret references or token delivery
// are configured, the finisher that completes a create's conf.
type confRules struct {
	policy *policy.Policy
	finish proxy.ConfFinisher // nil when there is nothing to add
}

func newConfRules(cfg config.Config, b *backends, minter *token.Minter, minted func(token.Minted), log logrus.FieldLogger) (confRules, error) {
	mode := cfg.Tokens.Delivery.Mode
	delivers := minter != nil && mode.Delivers()
	pcfg := cfg.Policy
	if delivers && mode == delivery.Conf {
		// A token delivered in conf is masked in every answer.
		pcfg.RedactKeys = redactKeysWith(pcfg.RedactKeys, cfg.Tokens.Delivery.ConfKeys)
	}
	pol, err := policy.New(pcfg)
	if err != nil {
		return confRules{}, err
	}
	resolver, err := secrets.Open(cfg.Secrets, log)
	if err != nil {
		return confRules{}, err
	}
	if resolver != nil {
		pol.ShowReferences(resolver.Masks, resolver.MasksFor)
	}
	rules := confRules{policy: pol}
	if resolver == nil && !delivers {
		return rules, nil
	}
	f := &sparkconf.Finisher{Secrets: resolver, Check: pol.CheckConf, GroupsOf: b.groupsOf(), Minted: minted}
	if delivers {
		f.Minter, f.Mode, f.ConfKeys = minter, mode, cfg.Tokens.Delivery.ConfKeys
		if mode == delivery.HDFSFile {
			if f.WriteToken, err = hdfsTokenWriter(cfg.HDFS, b.hdfs); err != nil {
				return confRules{}, err
			}
		}
	}
	rules.finish = f.Finish
	return rules, nil
}

// hdfsTokenWriter writes a user's token to <base_dir>/<user>/.livygate/token.
func hdfsTokenWriter(cfg hdfs.Config, nn *hdfs.Config) (func(ctx context.Context, user string, data []byte) (string, error), error) {
	pattern, err := hdfs.CompileNamePattern(cfg.NamePattern)
	if err != nil {
		return nil, fmt.Errorf("hdfs.name_pattern: %w", err)
	}
	return func(_ context.Context, user string, data []byte) (string, error) {
		if err := hdfs.ValidateName(user, pattern); err != nil {
			return "", err // the name would become a path
		}
		fs, done, err := nn.ConnectFiles()
		if err != nil {
			return "", err
		}
		defer done()
		return hdfs.WriteUserFile(fs, path.Join(cfg.BaseDir, user), ".livygate", "token", user, data)
	}, nil
}

// redactKeysWith adds exact conf keys to the redaction pattern.
func redactKeysWith(pattern string, keys []string) string {
	if len(keys) == 0 {
		return pattern
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = regexp.QuoteMeta(k)
	}
	return "(?:" + pattern + ")|(?:" + strings.Join(quoted, "|") + ")"
}
