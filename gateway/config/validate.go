package config

import (
	"errors"
	"fmt"

	"github.com/livygate/livygate/gateway/sparkconf/delivery"
)

// section is what every component's configuration offers.
type section interface{ Validate() error }

// Validate returns every problem in the configuration at once, joined, or
// nil: each section's own, then the rules that join two sections. It reads
// nothing but file metadata, the CA file and secret sources, and changes
// nothing. `serve` and `check-config` both call it, so they cannot disagree.
func (c *Config) Validate() error {
	var errs []error
	for _, s := range []section{c.Listen, c.Livy, c.Auth, c.Policy, c.JupyterHub, c.HDFS,
		c.Sync, c.Tokens, c.Secrets, c.Log, c.UI, c.Store, c.Limits, c.Reaper, c.Warm, c.Metrics, c.Runtime} {
		errs = append(errs, s.Validate())
	}
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("%s: %s", key, msg)) }
	if c.Tokens.Enabled && c.Tokens.Delivery.Mode == delivery.HDFSFile && !c.HDFS.Enabled() {
		bad("tokens.delivery.mode", "hdfs-file needs hdfs.namenodes")
	}
	if c.UI.Enabled && !c.Store.Enabled() {
		bad("ui.enabled", "needs store.path (the UI reads the audit store)")
	}
	if c.Livy.Routes.Enabled() && !c.Store.Enabled() {
		bad("livy.backends", "needs a store (store.path, or store.driver postgres with store.url): the gateway's session ids are kept there")
	}
	if c.Auth.HubToken.Enabled && !c.JupyterHub.Enabled() {
		bad("auth.hub_token.enabled", "needs jupyterhub.url")
	}
	if c.Sync.Interval > 0 {
		errs = append(errs, c.needSyncBackends())
	}
	if c.Sync.LDAPGroupDN != "" && !c.Auth.LDAP.Enabled() {
		bad("sync.ldap_group_dn", "needs auth.ldap (its connection settings are used)")
	}
	if c.Reaper.Enabled() && c.Reaper.OrphanAfter > 0 && !c.JupyterHub.Enabled() {
		bad("reaper.orphan_after", "needs jupyterhub.url (the Hub says whose notebook server runs)")
	}
	if c.Warm.Enabled && !c.JupyterHub.Enabled() {
		bad("warm.enabled", "needs jupyterhub.url (the Hub says whose notebook server runs)")
	}
	return errors.Join(errs...)
}

// ValidateSync reports what `livygate sync` needs: the sections it uses,
// valid, and a Hub and NameNodes to sync between.
func (c *Config) ValidateSync() error {
	errs := []error{c.JupyterHub.Validate(), c.HDFS.Validate(), c.Sync.Validate(), c.Store.Validate(), c.Log.Validate()}
	if c.Auth.LDAP.Enabled() {
		errs = append(errs, c.Auth.LDAP.Validate())
	} else if c.Sync.LDAPGroupDN != "" {
		errs = append(errs, errors.New("sync.ldap_group_dn: needs auth.ldap (its connection settings are used)"))
	}
	return errors.Join(append(errs, c.needSyncBackends())...)
}

// needSyncBackends says which of the two systems a sync joins is missing.
func (c *Config) needSyncBackends() error {
	var errs []error
	if !c.JupyterHub.Enabled() {
		errs = append(errs, errors.New("jupyterhub.url: is required to sync users"))
	}
	if !c.HDFS.Enabled() {
		errs = append(errs, errors.New("hdfs.namenodes: is required to sync users"))
	}
	return errors.Join(errs...)
}

// Validate checks the Hub's address and, when a Hub is configured, its
// service token.
func (j JupyterHub) Validate() error {
	if !j.Enabled() {
		return nil
	}
	return errors.Join(j.Config.Validate(), j.Token.Check("jupyterhub.token", true))
}
