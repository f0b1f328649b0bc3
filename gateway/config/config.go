// Package config holds livygate's one configuration struct: loaded from a YAML
// file, overridden by LIVYGATE_* environment variables, then by flags, and
// validated without side effects.
package config

import (
	"time"

	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
)

// Config is the whole configuration. Every field has a yaml tag; the
// environment variable for a field is LIVYGATE_ followed by its yaml path in
// upper case joined by "_" (listen.address → LIVYGATE_LISTEN_ADDRESS).
type Config struct {
	Listen     Listen     `yaml:"listen"`
	Livy       Livy       `yaml:"livy"`
	Auth       Auth       `yaml:"auth"`
	Policy     Policy     `yaml:"policy"`
	JupyterHub JupyterHub `yaml:"jupyterhub"`
	HDFS       HDFS       `yaml:"hdfs"`
	Sync       Sync       `yaml:"sync"`
	Tokens     Tokens     `yaml:"tokens"`
	Secrets    Secrets    `yaml:"secrets"`
	Log        Log        `yaml:"log"`
	UI         UI         `yaml:"ui"`
	Store      Store      `yaml:"store"`
	// Limits and Reaper are session governance; each package owns its
	// section (Config, Default, Validate).
	Limits limits.Config `yaml:"limits"`
	Reaper reaper.Config `yaml:"reaper"`
}

// UI is the administrators' web UI under /admin/ui/.
type UI struct {
	Enabled bool `yaml:"enabled"`
	// SessionTTL is how long a login through the UI's form lasts.
	SessionTTL time.Duration `yaml:"session_ttl"`
}

// Store is the embedded database (SQLite) of audit events, sync runs and
// token mint records that the admin UI reads.
type Store struct {
	// Path is the SQLite file; empty turns the store (and so the UI) off.
	Path string `yaml:"path"`
	// QueueSize bounds the events waiting to be written; beyond it they are
	// dropped from the store (never from the log) and counted.
	QueueSize int       `yaml:"queue_size"`
	Retention Retention `yaml:"retention"`
}

// Retention bounds what the store keeps; 0 keeps everything.
type Retention struct {
	MaxAge    time.Duration `yaml:"max_age"`
	MaxEvents int           `yaml:"max_events"`
	// MaxAnonymousEvents keeps refusals without a user apart, so they cannot
	// push authenticated users' events out.
	MaxAnonymousEvents int `yaml:"max_anonymous_events"`
	MaxRuns            int `yaml:"max_runs"`
}

// Tokens is the JWT minter: per-user tokens for downstream S3 authorization,
// the JWKS that proves them, and their delivery into Spark.
type Tokens struct {
	Enabled  bool          `yaml:"enabled"`
	Issuer   string        `yaml:"issuer"`
	Audience []string      `yaml:"audience"`
	Lifetime time.Duration `yaml:"lifetime"`
	// SigningKey signs new tokens; VerifyKeys only verify (and are published)
	// so tokens signed before a rotation stay valid until they expire.
	SigningKey Key   `yaml:"signing_key"`
	VerifyKeys []Key `yaml:"verify_keys"`
	// UserClaims carry the user name besides "sub"; GroupClaims carry the
	// groups, each as an array or a space-separated string, so one token
	// fits consumers that expect different shapes.
	UserClaims  []string     `yaml:"user_claims"`
	GroupClaims []GroupClaim `yaml:"group_claims"`
	// AdminsMayMintForOthers lets admins ask GET /token?user=NAME.
	AdminsMayMintForOthers bool `yaml:"admins_may_mint_for_others"`
	// AcceptBearer lets callers authenticate with a token the gateway minted
	// whose aud holds LoginAudience.
	AcceptBearer bool `yaml:"accept_bearer"`
	// LoginAudience is the gateway's own audience: a token logs in to the
	// gateway only with it. Minted tokens carry it only with
	// MintedTokensLogIn, so a token for the S3 proxy is no gateway login.
	LoginAudience     string   `yaml:"login_audience"`
	MintedTokensLogIn bool     `yaml:"minted_tokens_log_in"`
	Delivery          Delivery `yaml:"delivery"`
}

// Key is a PEM private key in a file or an environment variable, and the
// algorithm it signs with (RS256, RS512, ES256 or EdDSA).
type Key struct {
	File      string `yaml:"file"`
	Env       string `yaml:"env"`
	Algorithm string `yaml:"algorithm"`
}

// Secret is where the key's PEM lives.
func (k Key) Secret() Secret { return Secret{File: k.File, Env: k.Env} }

// GroupClaim names a claim that lists the user's groups.
type GroupClaim struct {
	Name string `yaml:"name"`
	// Format is "array" or "string" (space-separated).
	Format string `yaml:"format"`
}

// Delivery puts the caller's token into every session and batch created.
type Delivery struct {
	// Mode is none, conf (the token itself under ConfKeys) or hdfs-file (the
	// token in <home>/.livygate/token, its path under ConfKeys).
	Mode     delivery.Mode `yaml:"mode"`
	ConfKeys []string      `yaml:"conf_keys"`
}

// Secrets resolves secret@NAME references in Spark conf.
type Secrets struct {
	// Prefix marks a conf value as a reference; empty turns references off.
	Prefix string `yaml:"prefix"`
	// Provider is dir (one file per secret in Dir) or env (variables named
	// EnvPrefix + NAME in upper case, with - and . as _).
	Provider  string `yaml:"provider"`
	Dir       string `yaml:"dir"`
	EnvPrefix string `yaml:"env_prefix"`
	// Access lists, per secret, the users and groups that may use it; a
	// secret not listed is usable by nobody.
	Access map[string]SecretAccess `yaml:"access"`
}

// SecretAccess lists who may use one secret.
type SecretAccess struct {
	Users  []string `yaml:"users"`
	Groups []string `yaml:"groups"`
}

// JupyterHub is the Hub whose users livygate provisions and whose tokens it
// accepts. Enabled when URL is set.
type JupyterHub struct {
	URL string `yaml:"url"`
	// Token is a service token with the scopes list:users and read:users.
	Token   Secret        `yaml:"token"`
	Timeout time.Duration `yaml:"timeout"`
}

// HDFS is where user homes are provisioned, over native NameNode RPC.
type HDFS struct {
	// NameNodes are host:port addresses; several mean an HA pair.
	NameNodes []string `yaml:"namenodes"`
	// User is the HDFS superuser name livygate acts as (simple auth).
	User    string `yaml:"user"`
	BaseDir string `yaml:"base_dir"`
	// Group owns every home; empty leaves the NameNode's default.
	Group string `yaml:"group"`
	// Mode is octal, as a string ("0750").
	Mode               string `yaml:"mode"`
	AllowWorldWritable bool   `yaml:"allow_world_writable"`
	// NamePattern is the regexp a user name must match to become a home.
	NamePattern string `yaml:"name_pattern"`
	Repair      bool   `yaml:"repair"`
	Concurrency int    `yaml:"concurrency"`
}

// Sync runs the provisioner: `livygate sync` from cron, or on a timer in
// `livygate serve`.
type Sync struct {
	// Interval runs the sync inside `serve` this often; 0 turns it off.
	Interval time.Duration `yaml:"interval"`
	// LockFile keeps two runs (cron and timer, or two crons) apart.
	LockFile string `yaml:"lock_file"`
	// LDAPGroupDN adds the members of this LDAP group (found with the
	// auth.ldap connection, paged) to the Hub's users.
	LDAPGroupDN string `yaml:"ldap_group_dn"`
	// History is how many runs `serve` keeps for its admin endpoint.
	History int `yaml:"history"`
}

// Listen is the gateway's own HTTP listener.
type Listen struct {
	Address           string        `yaml:"address"`
	TLSCertFile       string        `yaml:"tls_cert_file"`
	TLSKeyFile        string        `yaml:"tls_key_file"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConnections caps open client connections; MaxConnectionsPerClient
	// caps them per client address, so one client cannot take them all.
	MaxConnections          int           `yaml:"max_connections"`
	MaxConnectionsPerClient int           `yaml:"max_connections_per_client"`
	ShutdownTimeout         time.Duration `yaml:"shutdown_timeout"`
	// MaxBodyBytes caps request bodies; larger ones get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Livy is the upstream Livy server.
type Livy struct {
	URL string `yaml:"url"`
	// Timeout bounds how long the gateway waits for Livy's response headers.
	Timeout  time.Duration `yaml:"timeout"`
	Username string        `yaml:"username"`
	Password Secret        `yaml:"password"`
	// OwnerCacheTTL bounds how long a session's owner is remembered.
	OwnerCacheTTL time.Duration `yaml:"owner_cache_ttl"`
	// Version is the Livy release behind the gateway ("0.7.1", "0.9.0");
	// empty asks Livy (GET /version) once and remembers. Create fields a
	// release does not know (ttl before 0.8, idleTimeout before 0.9) are
	// never sent to it.
	Version string `yaml:"version"`
}

// Auth configures how callers are authenticated and who is an admin.
type Auth struct {
	Realm string `yaml:"realm"`
	// AdminGroup makes its members gateway admins.
	AdminGroup string `yaml:"admin_group"`
	// AdminsMayImpersonate lets admins set proxyUser to another user.
	AdminsMayImpersonate bool     `yaml:"admins_may_impersonate"`
	Cache                Cache    `yaml:"cache"`
	Lockout              Lockout  `yaml:"lockout"`
	LDAP                 LDAP     `yaml:"ldap"`
	HubToken             HubToken `yaml:"hub_token"`
}

// HubToken lets notebook users log in with their own JupyterHub API token
// (Authorization: token …), checked against jupyterhub.url.
type HubToken struct {
	Enabled bool `yaml:"enabled"`
	// CacheTTL is how long a token the Hub accepted is trusted without
	// asking again.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// HubAdminsAreAdmins makes the Hub's admins gateway admins.
	HubAdminsAreAdmins bool `yaml:"hub_admins_are_admins"`
}

// Cache is the verified-credentials cache.
type Cache struct {
	TTL        time.Duration `yaml:"ttl"`
	MaxEntries int           `yaml:"max_entries"`
}

// Lockout limits failed logins per user and per client address. The address
// limit is separate and higher: every notebook kernel on a JupyterHub host
// calls from that host's one address, so a low per-address limit would let
// one user's typos lock everybody out.
type Lockout struct {
	MaxFailures           int           `yaml:"max_failures"`
	MaxFailuresPerAddress int           `yaml:"max_failures_per_address"`
	Window                time.Duration `yaml:"window"`
	Duration              time.Duration `yaml:"duration"`
}

// LDAP is the LDAP Basic authenticator. Enabled when URL is set.
type LDAP struct {
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool   `yaml:"start_tls"`
	CAFile   string `yaml:"ca_file"`
	// AllowInsecure permits plain ldap:// without StartTLS (passwords in clear).
	AllowInsecure bool          `yaml:"allow_insecure"`
	Timeout       time.Duration `yaml:"timeout"`

	BindDN       string `yaml:"bind_dn"`
	BindPassword Secret `yaml:"bind_password"`

	UserBaseDN string `yaml:"user_base_dn"`
	// UserFilter is ANDed with (UsernameAttribute=<escaped name>).
	UserFilter        string `yaml:"user_filter"`
	UsernameAttribute string `yaml:"username_attribute"`

	// GroupMembershipAttribute (e.g. memberOf) on the user entry lists group DNs.
	GroupMembershipAttribute string `yaml:"group_membership_attribute"`
	// GroupBaseDN enables a group search instead: GroupFilter with {dn} and
	// {user} replaced by the escaped user DN and name.
	GroupBaseDN        string `yaml:"group_base_dn"`
	GroupFilter        string `yaml:"group_filter"`
	GroupNameAttribute string `yaml:"group_name_attribute"`
}

// Policy is the Spark conf policy and the redaction rules.
type Policy struct {
	// DenyConf are extra regular expressions; a conf key matching one is refused.
	DenyConf []string `yaml:"deny_conf"`
	// AllowConf, when set, lists the only conf keys users may set (regexps).
	AllowConf []string `yaml:"allow_conf"`
	// RedactKeys is a regular expression; conf values whose key matches are
	// masked in every answer.
	RedactKeys string `yaml:"redact_keys"`
}

// Log configures logging.
type Log struct {
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}

// Secret names where a secret lives: a file or an environment variable. It is
// never written inline in the config or on the command line.
type Secret struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}
